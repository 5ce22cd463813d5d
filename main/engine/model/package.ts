/**
 * Model packages: a bare `.onnx` file, or a folder (or its `config.json`) in the WSInfer zoo layout:
 *   <dir>/config.json   WSInfer spec 1.0 + optional Glassbox fields (see config.ts)
 *   <dir>/model.onnx    or config.model_path
 *   <dir>/MODEL_CARD.md optional
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ModelPackageError, parseModelConfig, type ModelConfig } from './config.js';

export interface ModelPackage {
  /** folder name (package) or file name without extension (bare .onnx) */
  id: string;
  /** absolute path of the ONNX file */
  modelPath: string;
  /** absolute path of config.json; null for a bare .onnx */
  configPath: string | null;
  config: ModelConfig | null;
  /** absolute path of MODEL_CARD.md when present */
  modelCardPath: string | null;
}

async function kind(p: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}

/** Load a model package from an .onnx file, a package folder, or a package's config.json. */
export async function loadModelPackage(path: string): Promise<ModelPackage> {
  const abs = resolve(path);
  const k = await kind(abs);
  if (k === null) throw new ModelPackageError(`model '${path}' not found (expected an .onnx file, a model folder or its config.json)`);
  if (k === 'file' && extname(abs).toLowerCase() === '.onnx') {
    return { id: basename(abs, extname(abs)), modelPath: abs, configPath: null, config: null, modelCardPath: null };
  }
  let dir: string;
  let configPath: string;
  if (k === 'dir') {
    dir = abs;
    configPath = join(abs, 'config.json');
    if ((await kind(configPath)) !== 'file') {
      const onnx = (await readdir(abs)).filter((f) => f.toLowerCase().endsWith('.onnx'));
      throw new ModelPackageError(`model folder '${path}' has no config.json${onnx.length ? ` (it holds ${onnx.join(', ')}: pass that file for a bare model)` : ''}`);
    }
  } else if (extname(abs).toLowerCase() === '.json') {
    dir = dirname(abs);
    configPath = abs;
  } else {
    throw new ModelPackageError(`model '${path}' is neither an .onnx file, a model folder nor a config.json`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new ModelPackageError(`${configPath}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const config = parseModelConfig(raw, configPath);
  const modelPath = join(dir, config.model_path ?? 'model.onnx');
  if ((await kind(modelPath)) !== 'file') {
    throw new ModelPackageError(`${configPath}: model file '${config.model_path ?? 'model.onnx'}' not found in ${dir}${config.model_path ? '' : ' (set "model_path" to name another file)'}`);
  }
  const card = join(dir, 'MODEL_CARD.md');
  return { id: basename(dir), modelPath, configPath, config, modelCardPath: (await kind(card)) === 'file' ? card : null };
}

/** Every valid package in the sub-folders of `root` (invalid ones are reported, not thrown). */
export async function listModelPackages(root: string): Promise<{ packages: ModelPackage[]; errors: string[] }> {
  const packages: ModelPackage[] = [];
  const errors: string[] = [];
  let names: string[] = [];
  try {
    names = (await readdir(root)).sort();
  } catch {
    return { packages, errors: [`models folder '${root}' not found`] };
  }
  for (const name of names) {
    const d = join(root, name);
    if ((await kind(join(d, 'config.json'))) !== 'file') continue;
    try {
      packages.push(await loadModelPackage(d));
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  return { packages, errors };
}

/**
 * Resolve a class given by index ("3") or name ("TUMOR", case-insensitive when unambiguous).
 * `classNames` null (bare .onnx): indices only. Throws naming the valid choices.
 */
export function resolveClass(spec: string, numClasses: number, classNames: readonly string[] | null): number {
  const s = spec.trim();
  if (/^-\d+$/.test(s)) throw new ModelPackageError(`class index ${s} is negative: the model has ${numClasses} classes (0..${numClasses - 1})`);
  if (/^\d+$/.test(s)) {
    const i = Number(s);
    if (i >= numClasses) throw new ModelPackageError(`class index ${i} out of range: the model has ${numClasses} classes (0..${numClasses - 1})`);
    return i;
  }
  if (!classNames) throw new ModelPackageError(`class '${s}' is not an index and the model has no class names (a bare .onnx): use 0..${numClasses - 1}`);
  let i = classNames.indexOf(s);
  if (i < 0) {
    const ci = classNames.map((n, k) => [n.toLowerCase(), k] as const).filter(([n]) => n === s.toLowerCase());
    if (ci.length === 1) i = ci[0][1];
  }
  if (i < 0) throw new ModelPackageError(`unknown class '${s}': expected an index 0..${numClasses - 1} or one of ${classNames.map((n) => `'${n}'`).join(', ')}`);
  return i;
}

/**
 * A package's config must describe the model it wraps: num_classes (and class_names) must match the number of
 * logits the model outputs. Throws naming both numbers.
 */
export function checkPackageAgainstModel(pkg: ModelPackage, modelClasses: number): void {
  const c = pkg.config;
  if (!c) return;
  if (c.num_classes !== modelClasses) {
    throw new ModelPackageError(`${pkg.configPath}: num_classes is ${c.num_classes} but the model ${pkg.modelPath} outputs ${modelClasses} logits`);
  }
  if (c.class_names.length !== modelClasses) {
    throw new ModelPackageError(`${pkg.configPath}: class_names has ${c.class_names.length} names but the model ${pkg.modelPath} outputs ${modelClasses} logits`);
  }
}

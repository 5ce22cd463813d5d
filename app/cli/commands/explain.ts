/**
 * `glassbox explain --model M --input X [--layer NAME] [--class C | --contrast A,B] [--method ...]
 *  [--mode for|against|signed] [--batch N] [--ep cpu|webgpu|cuda|auto] --out OUT.npy`: raw CAM maps (float32
 *  [N, h, w], never normalised) for an input, computed N at a time.
 */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import type { CliIO } from '../main.js';
import { parseFlags, resolveModel, UsageError } from './layers.js';
import { readNpy, writeNpy } from '../../../main/engine/explain/npy.js';
import { CAM_METHODS, ExplainError, type CamMethod, type Explainer, type ExplainOutput, type Tensor } from '../../../main/engine/explain/types.js';
import { checkOutDir as checkOutFolder } from '../args.js';
import { resolveClass, preprocessImage, bareTransforms, stackBatch, checkPackageAgainstModel, type ModelPackage } from '../../../main/engine/model/index.js';

export const summary = 'compute a Grad-CAM-family map (raw float32 .npy) for an image or an NCHW .npy tensor';

const USAGE = 'glassbox explain --model M --input X [--layer NAME] [--class C | --contrast A,B] '
  + `[--method ${CAM_METHODS.join('|')}] [--mode for|against|signed] [--batch N] [--ep cpu|webgpu|cuda|auto] --out OUT.npy`;

const MODES = ['for', 'against', 'signed'] as const;
type Mode = (typeof MODES)[number];
/** the engine's map for a method and --mode (evidence for the class, against it, or the signed sum) */
const MODE_MAPS: Partial<Record<CamMethod, Partial<Record<Mode, string>>>> = {
  gradcam: { for: 'gradcam-for', against: 'gradcam-against', signed: 'gradcam-signed' },
  eigencam: { for: 'eigencam', signed: 'eigencam-signed' },
};
/** images per run when --batch is not given: enough to keep the provider busy, bounded in memory */
const DEFAULT_BATCH = { cpu: 8, gpu: 32 };
const BATCH_INPUT_BYTES = 64 * 2 ** 20;

const EPS = ['cpu', 'webgpu', 'cuda', 'auto'] as const;

const OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string', multiple: true },
  layer: { type: 'string' },
  class: { type: 'string' },
  contrast: { type: 'string' },
  method: { type: 'string' },
  signed: { type: 'boolean' },
  mode: { type: 'string' },
  batch: { type: 'string' },
  ep: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function classLabel(k: number, names: readonly string[] | null): string {
  return names?.[k] !== undefined ? `${k} '${names[k]}'` : String(k);
}

/**
 * --input, phase 1 (before the model loads, so input errors come first): a .npy tensor is read as given; images
 * are preprocessed with the package's transforms. Images for a bare .onnx wait for the model's input size.
 */
export async function readInput(inputs: string[], pkg: ModelPackage, io: CliIO): Promise<Tensor | null> {
  for (const f of inputs) {
    let st;
    try { st = statSync(f); } catch { throw new UsageError(`--input '${f}' not found`); }
    if (st.isDirectory()) throw new UsageError(`--input '${f}' is a folder: give image files (e.g. ${f.replace(/\/+$/, '')}/*.png) or one NCHW .npy tensor`);
  }
  if (inputs.some((f) => extname(f).toLowerCase() === '.npy')) {
    if (inputs.length !== 1) throw new UsageError('--input: a .npy tensor must be the only --input (its first axis is the batch)');
    let t: Tensor;
    try {
      t = await readNpy(inputs[0]);
    } catch (e) {
      throw new UsageError(`--input: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (t.dims.length !== 4 || t.dims[0] < 1) throw new UsageError(`--input: ${inputs[0]} has dims (${t.dims.join(', ')}); expected a non-empty NCHW tensor`);
    checkFinite(t, inputs[0]);
    return t;
  }
  return pkg.config ? preprocessAll(inputs, pkg, io) : null;
}

async function preprocessAll(inputs: string[], pkg: ModelPackage, io: CliIO, size?: [number, number]): Promise<Tensor> {
  const cfg = pkg.config;
  const transforms = cfg ? cfg.transform : bareTransforms(size![0], size![1]);
  if (!cfg) io.err(`note: ${pkg.modelPath} is a bare .onnx model (no config.json): image resized to ${size![0]}×${size![1]}, scaled to [0, 1], not normalised`);
  const items: Tensor[] = [];
  for (const f of inputs) {
    let t;
    try {
      t = await preprocessImage(f, transforms);
    } catch (e) {
      throw new UsageError(`--input: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (cfg && (t.source.width !== cfg.patch_size_pixels || t.source.height !== cfg.patch_size_pixels)) {
      io.err(`note: ${f} is ${t.source.width}×${t.source.height} px; the model reads ${cfg.patch_size_pixels} px patches at ${cfg.spacing_um_px} µm/px`);
    }
    items.push(t);
  }
  try {
    return stackBatch(items);
  } catch (e) {
    throw new UsageError(`--input: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** --input, phase 2: check against the model's input shape (and preprocess images for a bare .onnx). */
export async function finishInput(early: Tensor | null, inputs: string[], pkg: ModelPackage, ex: Explainer, io: CliIO): Promise<Tensor> {
  const [c, h, w] = ex.inputShape;
  const t = early ?? (await preprocessAll(inputs, pkg, io, [h, w]));
  if (t.dims[1] !== c || t.dims[2] !== h || t.dims[3] !== w) {
    const what = inputs.length === 1 ? inputs[0] : `the ${inputs.length} inputs`;
    throw new UsageError(`--input: ${what} has dims (${t.dims.join(', ')}); the model expects an NCHW tensor (N, ${c}, ${h}, ${w})`
      + (early && extname(inputs[0]).toLowerCase() !== '.npy' ? ' (check the config\'s Resize)' : ''));
  }
  return t;
}

function oneHot(k: number, n: number): Float32Array {
  const s = new Float32Array(n);
  s[k] = 1;
  return s;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const f = parseFlags(argv, OPTIONS, USAGE);
  if (f.help) {
    io.out(`usage: ${USAGE}\n  M: .onnx file, model folder/config.json or shipped model id; X: NCHW float .npy (used as given) or image file(s)\n`
      + '  C: class index or name (default: each item\'s predicted class); --contrast A,B: seed +1 at A, −1 at B\n'
      + '  OUT: float32 (N, h, w) raw map values (not normalised)\n'
      + '  --mode for (default): evidence for the class, max(0, L); against: max(0, −L); signed: L = Σα·A unrectified\n'
      + '    (gradcam; eigencam has for and signed; --signed is --mode signed)\n'
      + `  --batch N: images per run (default ${DEFAULT_BATCH.cpu} on cpu, ${DEFAULT_BATCH.gpu} on a GPU, fewer for large inputs); the maps do not depend on it`);
    return 0;
  }
  // ---- validate flags before loading anything
  const method = (f.method ?? 'gradcam') as CamMethod;
  if (!CAM_METHODS.includes(method)) throw new UsageError(`--method '${f.method}' is not one of ${CAM_METHODS.join(', ')}`);
  if (f.mode !== undefined && !(MODES as readonly string[]).includes(f.mode)) throw new UsageError(`--mode '${f.mode}' is not one of ${MODES.join(', ')}`);
  if (f.signed && f.mode !== undefined && f.mode !== 'signed') throw new UsageError(`--signed contradicts --mode ${f.mode}`);
  const mode: Mode = f.signed ? 'signed' : ((f.mode ?? 'for') as Mode);
  const key = mode === 'for' && !f.mode ? method : MODE_MAPS[method]?.[mode];
  if (!key) {
    const ok = Object.entries(MODE_MAPS).filter(([, m]) => m[mode]).map(([k]) => k);
    throw new UsageError(`${f.signed ? '--signed' : `--mode ${mode}`} is only valid with --method ${ok.join(' or ')} (got --method ${method})`);
  }
  let batchFlag: number | undefined;
  if (f.batch !== undefined) {
    batchFlag = Number(f.batch);
    if (!/^\d+$/.test(f.batch.trim()) || batchFlag < 1 || batchFlag > 1024) throw new UsageError(`--batch must be an integer 1..1024 (got '${f.batch}')`);
  }
  const ep = (f.ep ?? 'auto') as (typeof EPS)[number];
  if (!EPS.includes(ep)) throw new UsageError(`--ep '${f.ep}' is not one of ${EPS.join(', ')}`);
  if (!f.input || f.input.length === 0) throw new UsageError('--input is required (an NCHW .npy tensor or an image file)');
  if (!f.out) throw new UsageError('--out is required (OUT.npy)');
  if (extname(f.out).toLowerCase() !== '.npy') throw new UsageError(`--out '${f.out}' must end in .npy`);
  checkOutDir(f.out);
  if (f.class !== undefined && f.contrast !== undefined) throw new UsageError('--class and --contrast are mutually exclusive');
  let contrast: [string, string] | null = null;
  if (f.contrast !== undefined) {
    const parts = f.contrast.split(',').map((s) => s.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new UsageError(`--contrast '${f.contrast}' must be two classes 'A,B'`);
    contrast = [parts[0], parts[1]];
  }
  const pkg = await resolveModel(f.model);
  const names = pkg.config?.class_names ?? null;

  const { createExplainer } = await import('../../../main/engine/explain/index.js');
  // --layer, else the package's target_layer, else the engine's default (last 4-D tensor before global pooling)
  const layer = f.layer ?? pkg.config?.target_layer;
  // class flags resolve before the model loads when the package config knows the classes
  const classSpec = (K: number) => {
    const cls = (flag: string, spec: string) => {
      try {
        return resolveClass(spec, K, names);
      } catch (e) {
        throw new UsageError(`${flag}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    if (f.class !== undefined) {
      const k = cls('--class', f.class);
      return { seed: { data: oneHot(k, K), dims: [K] } as Tensor, target: `class ${classLabel(k, names)}` };
    }
    if (contrast) {
      const a = cls('--contrast', contrast[0]);
      const b = cls('--contrast', contrast[1]);
      if (a === b) throw new UsageError(`--contrast: A and B are the same class (${classLabel(a, names)})`);
      const s = oneHot(a, K);
      s[b] = -1;
      return { seed: { data: s, dims: [K] } as Tensor, target: `contrast ${classLabel(a, names)} rather than ${classLabel(b, names)} (seed +1, −1)` };
    }
    return { seed: null, target: 'each item\'s predicted class' };
  };
  if (pkg.config) classSpec(pkg.config.num_classes);
  const early = await readInput(f.input, pkg, io);
  let ex: Explainer;
  try {
    ex = await createExplainer(pkg.modelPath, { layer, methods: [method], ep });
  } catch (e) {
    // a bad layer: say where it came from (--layer, or the package's config.json)
    if (e instanceof ExplainError && layer !== undefined && (e.code === 'UNKNOWN_TENSOR' || (e.code === 'BAD_INPUT' && e.message.includes(`'${layer}'`)))) {
      throw new UsageError(`${f.layer !== undefined ? '--layer' : `${pkg.configPath} target_layer`}: ${e.message}`);
    }
    if (e instanceof ExplainError && e.code === 'EP_UNAVAILABLE') throw new UsageError(`--ep ${ep}: ${e.message}`);
    throw e;
  }
  try {
    const K = ex.numClasses;
    checkPackageAgainstModel(pkg, K);
    let { seed, target } = classSpec(K);
    const input = await finishInput(early, f.input, pkg, ex, io);
    checkFinite(input, f.input.length === 1 ? f.input[0] : `the ${f.input.length} inputs`);
    const N = input.dims[0];
    const per = input.data.length / N;
    const batch = batchFlag ?? Math.max(1, Math.min(ex.executionProvider === 'cpu' ? DEFAULT_BATCH.cpu : DEFAULT_BATCH.gpu, Math.floor(BATCH_INPUT_BYTES / (4 * per))));
    let map: Tensor | null = null;
    const logits = new Float32Array(N * K);
    for (let i0 = 0; i0 < N; i0 += batch) {
      const n = Math.min(batch, N - i0);
      const part: Tensor = { data: input.data.subarray(i0 * per, (i0 + n) * per), dims: [n, ...input.dims.slice(1)] };
      let partSeed = seed;
      if (!partSeed) {
        const l = await ex.predict(part);
        const sd = new Float32Array(n * K);
        for (let i = 0; i < n; i++) sd[i * K + argmax(l.data, i * K, K)] = 1;
        partSeed = { data: sd, dims: [n, K] };
      }
      let out: ExplainOutput;
      try {
        out = await ex.explain(part, partSeed);
      } catch (e) {
        if (e instanceof ExplainError && e.code === 'BAD_INPUT') throw new UsageError(`--input: ${e.message}`);
        throw e;
      }
      const m = out.maps[key];
      if (!m) throw new Error(`the engine returned no '${key}' map (got ${Object.keys(out.maps).join(', ') || 'none'})`);
      map ??= { data: new Float32Array(N * (m.data.length / n)), dims: [N, ...m.dims.slice(1)] };
      map.data.set(m.data, i0 * (m.data.length / n));
      logits.set(out.logits.data, i0 * K);
    }
    if (!map) throw new Error('no input items');
    await writeNpy(f.out, map);

    const L = ex.layer;
    io.out(`model: ${pkg.configPath ? `${pkg.id} (${pkg.modelPath})` : pkg.modelPath}`);
    io.out(method === 'saliency'
      ? `layer: input (saliency is |∇_input S| at the input's resolution, stride 1)`
      : `layer: ${L.name} (${L.opType}, ${L.channels}×${L.height}×${L.width}), stride ${L.stride}`);
    if (pkg.config?.stride !== undefined && method !== 'saliency' && L.name === pkg.config.target_layer && pkg.config.stride !== L.stride) {
      io.err(`warning: config.json says stride ${pkg.config.stride} but layer ${L.name} has stride ${L.stride}`);
    }
    io.out(`execution provider: ${ex.executionProvider}${ex.fallbackReason ? ` (fallback: ${ex.fallbackReason})` : ''}`);
    io.out(`method: ${key}${mode === 'signed' ? ' (unrectified)' : mode === 'against' ? ' (max(0, −L): evidence against the target)' : ''}; target: ${target}; batch ${Math.min(batch, N)}`);
    for (let i = 0; i < N; i++) {
      const k = argmax(logits, i * K, K);
      io.out(`item ${i}: predicted ${classLabel(k, names)}, logit ${logits[i * K + k].toFixed(4)}`);
    }
    let lo = Infinity, hi = -Infinity;
    for (const v of map.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    io.out(`wrote ${f.out}: float32 (${map.dims.join(', ')}), raw values (not normalised), min ${lo.toPrecision(5)}, max ${hi.toPrecision(5)}`);
    return 0;
  } finally {
    await ex.dispose();
  }
}

/** --out's folder must exist (checked before any computing) */
function checkOutDir(out: string): void {
  try {
    checkOutFolder('--out', out);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** NaN / ±Inf inputs give NaN maps: refuse them, naming the first bad element */
function checkFinite(t: Tensor, what: string): void {
  // a plain loop: findIndex with a callback took 211 ms for 160 images of 224², this 28 ms
  const d = t.data;
  let i = -1;
  for (let k = 0; k < d.length; k++) {
    const v = d[k];
    if (v - v !== 0) { i = k; break; } // NaN and ±Infinity only
  }
  if (i < 0) return;
  const idx: number[] = [];
  let r = i;
  for (let a = t.dims.length - 1; a >= 0; a--) { idx.unshift(r % t.dims[a]); r = Math.floor(r / t.dims[a]); }
  throw new UsageError(`--input: ${what} holds a non-finite value (${t.data[i]}) at index (${idx.join(', ')}) of (${t.dims.join(', ')}); inputs must be finite`);
}

function argmax(a: Float32Array, off: number, n: number): number {
  let k = 0;
  for (let j = 1; j < n; j++) if (a[off + j] > a[off + k]) k = j;
  return k;
}

/**
 * `glassbox sanity --model M --input X… [--layer L] [--class C] [--method …] [--mode cascading|independent]
 *  [--seed S] [--depth D] [--blocks N] [--family auto|normal|uniform] [--ep …] [--out report.json] [--html report.html]`:
 * the model parameter randomization check (Adebayo et al. 2018) on the user's model and inputs. Also exports the
 * input/model preparation shared with `glassbox faithfulness`.
 */
import { writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { CliIO } from '../main.js';
import { parseFlags, resolveModel, UsageError } from './layers.js';
import { finishInput, readInput } from './explain.js';
import { checkOutDir } from '../args.js';
import { ExplainError, type CamMethod, type Tensor } from '../../../main/engine/explain/types.js';
import { checkPackageAgainstModel, resolveClass, type ModelPackage } from '../../../main/engine/model/index.js';
import { TRUST_METHODS, type TrustMethod, type TrustProgress } from '../../../main/engine/trust/index.js';

export const summary = 'sanity-check an explanation: randomize the model block by block and measure how much the map changes';

const USAGE = 'glassbox sanity --model M --input X [--layer L] [--class C] '
  + `[--method ${TRUST_METHODS.join('|')}] [--mode cascading|independent] [--seed S] [--depth D] [--blocks N] `
  + '[--family auto|normal|uniform] [--ep cpu|webgpu|cuda|auto] [--out report.json] [--html report.html]';

export const COMMON_OPTIONS = {
  model: { type: 'string' },
  input: { type: 'string', multiple: true },
  layer: { type: 'string' },
  class: { type: 'string' },
  method: { type: 'string' },
  seed: { type: 'string' },
  ep: { type: 'string' },
  out: { type: 'string' },
  html: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = { ...COMMON_OPTIONS, mode: { type: 'string' }, depth: { type: 'string' }, blocks: { type: 'string' }, family: { type: 'string' } } as const;

const EPS = ['cpu', 'webgpu', 'cuda', 'auto'] as const;
export type Ep = (typeof EPS)[number];

/** `--input a.png b.png …` (a shell glob) means `--input a.png --input b.png …` */
export function spreadInputs(argv: string[]): string[] {
  const out: string[] = [];
  let inInput = false;
  for (const a of argv) {
    if (a === '--input') { inInput = true; out.push(a); continue; }
    if (inInput && !a.startsWith('-') && out[out.length - 1] !== '--input') out.push('--input');
    else if (a.startsWith('-')) inInput = false;
    out.push(a);
  }
  return out;
}

export function intFlag(name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} '${v}' must be an integer ${min}…${max === Number.MAX_SAFE_INTEGER ? '' : max}`.replace(/…$/, ' or more'));
  return Number(v);
}

export function outFlag(name: string, v: string | undefined, ext: string): void {
  if (v === undefined) return;
  if (extname(v).toLowerCase() !== ext) throw new UsageError(`--${name} '${v}' must end in ${ext}`);
  checkOutDir(`--${name}`, v);
}

export function methodsFlag(v: string | undefined, many: boolean): TrustMethod[] {
  const list = (v ?? 'gradcam').split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new UsageError('--method: name a method');
  if (!many && list.length > 1) throw new UsageError(`--method: one method at a time (got ${list.join(', ')})`);
  for (const m of list) if (!TRUST_METHODS.includes(m as TrustMethod)) throw new UsageError(`--method '${m}' is not one of ${TRUST_METHODS.join(', ')}`);
  return [...new Set(list)] as TrustMethod[];
}

export interface Prepared {
  pkg: ModelPackage;
  input: Tensor;
  names: string[];
  target: number | undefined;
  layer: string | undefined;
  ep: Ep;
  classNames: string[] | undefined;
}

/** --model / --input / --class / --layer / --ep checked and read (errors name the flag) */
export async function prepare(f: { model?: string; input?: string[]; class?: string; layer?: string; ep?: string }, methods: TrustMethod[], io: CliIO): Promise<Prepared> {
  const ep = (f.ep ?? 'auto') as Ep;
  if (!EPS.includes(ep)) throw new UsageError(`--ep '${f.ep}' is not one of ${EPS.join(', ')}`);
  if (!f.input || f.input.length === 0) throw new UsageError('--input is required (an NCHW .npy tensor or image files)');
  const pkg = await resolveModel(f.model);
  const names = pkg.config?.class_names;
  let target: number | undefined;
  const cls = (K: number) => {
    if (f.class === undefined) return undefined;
    try { return resolveClass(f.class, K, names ?? null); } catch (e) { throw new UsageError(`--class: ${(e as Error).message}`); }
  };
  if (pkg.config) target = cls(pkg.config.num_classes);
  const early = await readInput(f.input, pkg, io);
  const layer = f.layer ?? pkg.config?.target_layer;
  const { createExplainer } = await import('../../../main/engine/explain/index.js');
  const cams = methods.filter((m): m is CamMethod => m !== 'edge');
  let ex;
  try {
    ex = await createExplainer(pkg.modelPath, { layer, methods: cams.length ? cams : ['gradcam'], ep });
  } catch (e) {
    if (e instanceof ExplainError && layer !== undefined && (e.code === 'UNKNOWN_TENSOR' || (e.code === 'BAD_INPUT' && e.message.includes(`'${layer}'`)))) {
      throw new UsageError(`${f.layer !== undefined ? '--layer' : `${pkg.configPath} target_layer`}: ${e.message}`);
    }
    if (e instanceof ExplainError && e.code === 'EP_UNAVAILABLE') throw new UsageError(`--ep ${ep}: ${e.message}`);
    throw e;
  }
  try {
    checkPackageAgainstModel(pkg, ex.numClasses);
    target = cls(ex.numClasses);
    const input = await finishInput(early, f.input, pkg, ex, io);
    const N = input.dims[0];
    // file names only (a report attached to a paper should not carry the author's folders)
    const fileNames = f.input.length === N ? f.input.map((p) => basename(p)) : Array.from({ length: N }, (_, i) => `${basename(f.input![0])}[${i}]`);
    return { pkg, input, names: fileNames, target, layer, ep, classNames: names };
  } finally {
    await ex.dispose();
  }
}

/** progress on stderr: one line per stage */
export function progress(io: CliIO): (p: TrustProgress) => void {
  const t0 = Date.now();
  return (p) => io.err(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${p.done}/${p.total} ${p.stage}`);
}

/** an engine error about the inputs or class becomes a usage error naming the flag */
export function asUsage(e: unknown): never {
  if (e instanceof ExplainError && e.code === 'BAD_INPUT') throw new UsageError(e.message.startsWith('class') ? `--class: ${e.message}` : `--input: ${e.message}`);
  throw e;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const f = parseFlags(spreadInputs(argv), OPTIONS, USAGE);
  if (f.help) {
    io.out(`usage: ${USAGE}\n`
      + '  Randomizes the model\'s learned parameters block by block (blocks = named scopes of the graph, listed from the\n'
      + '  logits toward the input), recomputes the map for the same inputs and class, and measures its similarity to the\n'
      + '  original: Spearman of the map and of |map|, SSIM, HOG correlation, per input (Adebayo et al. 2018).\n'
      + '  M: .onnx file, model folder/config.json or shipped model id; X: NCHW float .npy (used as given) or image file(s)\n'
      + '  --mode cascading (default: cumulative from the logits) | independent (one block at a time)\n'
      + '  --class C: class index or name (default: each input\'s predicted class); --method default gradcam; \'edge\' is a\n'
      + '  control that ignores the model (Sobel edges of the input): it must NOT pass\n'
      + '  --seed S (default 0): the same seed gives a byte-identical report; --depth D: group scopes to their first D parts\n'
      + '  (default: one block per layer); --blocks N: randomize only the first N blocks; --family: distribution of the\n'
      + '  re-drawn weights (default auto: normal, or uniform when the trained tensor looks uniform; mean and std matched)\n'
      + '  --out report.json, --html report.html (self-contained, with the chart); progress goes to stderr');
    return 0;
  }
  const [method] = methodsFlag(f.method, false);
  const mode = (f.mode ?? 'cascading') as 'cascading' | 'independent';
  if (mode !== 'cascading' && mode !== 'independent') throw new UsageError(`--mode '${f.mode}' is not one of cascading, independent`);
  const family = (f.family ?? 'auto') as 'auto' | 'normal' | 'uniform';
  if (!['auto', 'normal', 'uniform'].includes(family)) throw new UsageError(`--family '${f.family}' is not one of auto, normal, uniform`);
  const seed = intFlag('seed', f.seed, 0, 2 ** 31 - 1) ?? 0;
  const depth = intFlag('depth', f.depth, 1, 64);
  const maxBlocks = intFlag('blocks', f.blocks, 1);
  outFlag('out', f.out, '.json');
  outFlag('html', f.html, '.html');
  const p = await prepare(f, [method], io);
  const { runSanity, reportHtml } = await import('../../../main/engine/trust/index.js');
  const t0 = Date.now();
  const res = await runSanity({
    model: p.pkg.modelPath, modelName: p.pkg.id, input: p.input, inputNames: p.names, methods: [method], layer: p.layer, target: p.target,
    classNames: p.classNames, seed, mode, depth, maxBlocks, family, ep: p.ep, onProgress: progress(io),
  }).catch(asUsage);
  const r = res.reports[0];
  io.out(`model: ${r.model}; method: ${r.method} at ${r.layer}; ${r.mode} randomization, seed ${r.seed}; ${r.inputs.count} input(s); ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  io.out(`blocks (logits → input): ${res.blocks.map((b) => b.name).join(', ')}`);
  io.out(`${'block'.padEnd(28)} ${'spearman'.padStart(9)} ${'|map|'.padStart(9)} ${'ssim'.padStart(9)} ${'hog'.padStart(9)}`);
  const v = (x: number | null) => (x === null ? '–' : x.toFixed(3)).padStart(9);
  for (const l of r.layers) io.out(`${l.name.padEnd(28)} ${v(l.spearman.mean)} ${v(l.spearman_abs.mean)} ${v(l.ssim.mean)} ${v(l.hog.mean)}`);
  io.out(`verdict: ${r.verdict}`);
  if (f.out) { writeFileSync(f.out, JSON.stringify(r, null, 1) + '\n'); io.out(`wrote ${f.out}`); }
  if (f.html) { writeFileSync(f.html, reportHtml({ sanity: [r] })); io.out(`wrote ${f.html}`); }
  return 0;
}

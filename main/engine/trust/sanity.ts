/**
 * Model parameter randomization test (Adebayo et al., NeurIPS 2018), on the user's own model:
 * cascading (the blocks from the logits toward the input, cumulatively) or independent (one block at a time);
 * for each step the model's parameters are re-drawn (randomize.ts), the chosen methods' maps recomputed by the
 * explanations engine on the modified bytes for the same inputs and the same explained class, and each map
 * compared with the original one (metrics.ts).
 */
import { readFileSync } from 'node:fs';
import { throwIfAborted } from '../../base/abort.js';
import { basename } from 'node:path';
import { ExplainError, type ExecutionProviderName, type Tensor } from '../explain/types.js';
import { findBlocks, type Block } from './blocks.js';
import { randomizeTensors, type Family } from './randomize.js';
import { similarity, type Similarity } from './metrics.js';
import { engineProvider, type MapBatch, type MapProvider, type ProviderFactory, type TrustMethod } from './provider.js';
import { SANITY_METRICS, THRESHOLDS, sanityVerdict, summarize, type LayerResult, type SanityReport } from './report.js';

export interface TrustProgress {
  stage: string;
  done: number;
  total: number;
}

export interface CommonOptions {
  /** ONNX path or bytes */
  model: string | Uint8Array;
  /** a label for the report (default: the file name) */
  modelName?: string;
  /** float32 NCHW batch */
  input: Tensor;
  inputNames?: string[];
  methods: TrustMethod[];
  layer?: string;
  /** class explained for every input; default: each input's predicted class (on the original model) */
  target?: number;
  classNames?: readonly string[];
  seed?: number;
  ep?: ExecutionProviderName | 'auto';
  signal?: AbortSignal;
  onProgress?: (p: TrustProgress) => void;
  /** where maps come from (default: the explanations engine) */
  provider?: ProviderFactory;
}

export interface SanityOptions extends CommonOptions {
  mode: 'cascading' | 'independent';
  /** block scope depth (default: one block per layer) */
  depth?: number;
  /** randomize at most this many blocks (from the logits) */
  maxBlocks?: number;
  family?: Family;
}

export interface SanityResult {
  blocks: Block[];
  /** one report per method, in the order asked */
  reports: SanityReport[];
}

/** items per explain() call */
const CHUNK = 8;

export function checkAborted(signal?: AbortSignal): void {
  throwIfAborted(signal, 'the trust check');
}

/** run the provider over the batch in chunks, with one seed row per item */
export async function mapsInChunks(p: MapProvider, input: Tensor, seeds: Float32Array, signal?: AbortSignal): Promise<MapBatch> {
  const [N, C, H, W] = input.dims;
  const K = p.numClasses;
  const parts: MapBatch[] = [];
  for (let i = 0; i < N; i += CHUNK) {
    checkAborted(signal);
    const n = Math.min(CHUNK, N - i);
    const sub = { data: input.data.subarray(i * C * H * W, (i + n) * C * H * W), dims: [n, C, H, W] };
    parts.push(await p.maps(sub, { data: seeds.subarray(i * K, (i + n) * K), dims: [n, K] }));
  }
  const cat = (ts: Tensor[]): Tensor => {
    const total = ts.reduce((s, t) => s + t.data.length, 0);
    const data = new Float32Array(total);
    let o = 0;
    for (const t of ts) { data.set(t.data, o); o += t.data.length; }
    return { data, dims: [N, ...ts[0].dims.slice(1)] };
  };
  const maps: Record<string, Tensor> = {};
  for (const k of Object.keys(parts[0].maps)) maps[k] = cat(parts.map((b) => b.maps[k]));
  return { logits: cat(parts.map((b) => b.logits)), maps };
}

export function argmaxRow(a: Float32Array, row: number, K: number): number {
  let k = 0;
  for (let j = 1; j < K; j++) if (a[row * K + j] > a[row * K + k]) k = j;
  return k;
}

/** open the provider on the original model and fix the explained class per input */
export async function openOriginal(o: CommonOptions): Promise<{ bytes: Uint8Array; provider: MapProvider; original: MapBatch; classes: number[]; seeds: Float32Array }> {
  const bytes = typeof o.model === 'string' ? readModel(o.model) : o.model;
  const factory = o.provider ?? engineProvider;
  const provider = await factory(bytes, { layer: o.layer, methods: o.methods, ep: o.ep });
  try {
    const N = o.input.dims[0];
    const K = provider.numClasses;
    if (o.target !== undefined && !(Number.isInteger(o.target) && o.target >= 0 && o.target < K)) {
      throw new ExplainError('BAD_INPUT', `class ${o.target} is out of range (the model has ${K} classes: 0…${K - 1})`);
    }
    if (o.inputNames && o.inputNames.length !== N) throw new ExplainError('BAD_INPUT', `${o.inputNames.length} input names for ${N} inputs`);
    let classes: number[];
    if (o.target !== undefined) classes = new Array<number>(N).fill(o.target);
    else {
      const logits = (await provider.predict(o.input)).data;
      classes = Array.from({ length: N }, (_, i) => argmaxRow(logits, i, K));
    }
    const seeds = new Float32Array(N * K);
    classes.forEach((k, i) => { seeds[i * K + k] = 1; });
    const original = await mapsInChunks(provider, o.input, seeds, o.signal);
    return { bytes, provider, original, classes, seeds };
  } catch (e) {
    await provider.dispose();
    throw e;
  }
}

function readModel(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ExplainError('MALFORMED_MODEL', `cannot read ONNX model '${path}': ${(e as Error).message}`, { cause: e });
  }
}

export const modelLabel = (o: CommonOptions) => o.modelName ?? (typeof o.model === 'string' ? basename(o.model) : 'model.onnx');
export const inputNamesOf = (o: CommonOptions) => o.inputNames ?? Array.from({ length: o.input.dims[0] }, (_, i) => `input ${i}`);
export const classList = (classes: number[], names?: readonly string[]) => classes.map((index) => ({ index, name: names?.[index] ?? null }));

/** similarity of every input's map, original vs randomized */
function compare(orig: Tensor, rand: Tensor): Similarity[] {
  const [N, h, w] = orig.dims;
  const out: Similarity[] = [];
  for (let i = 0; i < N; i++) {
    out.push(similarity({ a: orig.data.subarray(i * h * w, (i + 1) * h * w), b: rand.data.subarray(i * h * w, (i + 1) * h * w), h, w }));
  }
  return out;
}

export async function runSanity(o: SanityOptions): Promise<SanityResult> {
  if (o.mode !== 'cascading' && o.mode !== 'independent') throw new ExplainError('BAD_INPUT', `mode must be 'cascading' or 'independent' (got '${String(o.mode)}')`);
  if (!o.methods.length) throw new ExplainError('BAD_INPUT', 'no methods requested');
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ExplainError('BAD_INPUT', `seed must be an integer (got ${seed})`);
  const factory = o.provider ?? engineProvider;
  o.onProgress?.({ stage: 'original model', done: 0, total: 1 });
  const { bytes, provider, original, classes, seeds } = await openOriginal(o);
  const layerOf = (m: TrustMethod) => (m === 'saliency' || m === 'edge' ? 'input' : provider.layer);
  await provider.dispose();
  let blocks = findBlocks(bytes, { depth: o.depth });
  if (o.maxBlocks !== undefined) blocks = blocks.slice(0, Math.max(1, o.maxBlocks));
  if (!blocks.length) throw new ExplainError('BAD_INPUT', 'the model has no learned parameters to randomize (no float initializers in Conv/Gemm/MatMul/normalisation inputs)');
  const per: Record<string, Similarity[][]> = Object.fromEntries(o.methods.map((m) => [m, []]));
  const total = blocks.length;
  for (let b = 0; b < total; b++) {
    checkAborted(o.signal);
    o.onProgress?.({ stage: `randomizing ${blocks[b].name}`, done: b, total });
    const names = o.mode === 'cascading' ? blocks.slice(0, b + 1).flatMap((x) => x.tensors) : blocks[b].tensors;
    const rnd = randomizeTensors(bytes, names, seed, o.family ?? 'auto');
    const p = await factory(rnd.bytes, { layer: provider.layer === 'input' ? o.layer : provider.layer, methods: o.methods, ep: o.ep });
    try {
      const out = await mapsInChunks(p, o.input, seeds, o.signal);
      for (const m of o.methods) per[m].push(compare(original.maps[m], out.maps[m]));
    } finally {
      await p.dispose();
    }
  }
  o.onProgress?.({ stage: 'done', done: total, total });
  const reports = o.methods.map((m): SanityReport => {
    const layers: LayerResult[] = blocks.map((blk, b) => {
      const sims = per[m][b];
      const r = { name: blk.name, params: blk.params, tensors: blk.tensors.length } as LayerResult;
      for (const k of SANITY_METRICS) r[k] = summarize(sims.map((s) => s[k]));
      return r;
    });
    const { outcome, verdict } = sanityVerdict(o.mode, layers);
    return {
      kind: 'glassbox-sanity', version: 1, model: modelLabel(o), layer: layerOf(m), method: m, mode: o.mode, seed,
      block_depth: o.depth ?? null,
      inputs: { count: classes.length, names: inputNamesOf(o) },
      classes: classList(classes, o.classNames),
      randomization: {
        family: o.family ?? 'auto',
        batchnorm: 'scale and shift re-drawn, running mean and variance kept',
        description: 'each parameter tensor re-drawn i.i.d. with its trained mean and standard deviation (normal, or uniform when the trained values look uniform), seeded per tensor name',
      },
      metrics: 'per input, original vs randomized map at the map\'s own resolution: Spearman rank correlation of the map and of |map| (null when the original map is constant, 0 when the randomized one is); SSIM (7×7 uniform window) and Pearson correlation of HOG features on min–max normalised maps',
      layers, thresholds: THRESHOLDS, outcome, verdict,
    };
  });
  return { blocks, reports };
}

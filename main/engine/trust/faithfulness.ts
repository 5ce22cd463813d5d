/**
 * Deletion and insertion curves (Petsiuk et al., RISE, BMVC 2018) per patch: the map's cells ranked from most to
 * least salient (ties by position); deletion replaces the top cells of the patch by the baseline step by step,
 * insertion starts from the baseline and puts the top cells back; both track the softmax probability of the
 * explained class. AUC by the trapezoid rule over the fraction 0…1 (deletion: lower = more faithful; insertion:
 * higher). A cell is the map's unit (a CAM cell covers stride × stride input px; saliency: one px). Baseline:
 * 'blur' (Gaussian, σ = min(H, W) / 40 input px by default, mirrored edges) or 'mean' (each channel's mean over the
 * patch). The same cells in a seeded random order give the reference curves ('random').
 */
import { ExplainError, type Tensor } from '../explain/types.js';
import { permutation, streamFor } from './rng.js';
import { faithfulnessVerdict, round6, summarize, type CurveSummary, type FaithfulnessMethod, type FaithfulnessReport } from './report.js';
import { checkAborted, classList, inputNamesOf, modelLabel, openOriginal, type CommonOptions } from './sanity.js';
import type { MapProvider } from './provider.js';

export interface FaithfulnessOptions extends CommonOptions {
  /** points on each curve after the start (default 20) */
  steps?: number;
  baseline?: 'blur' | 'mean';
  /** blur σ in input px (default min(H, W) / 40) */
  sigma?: number;
}

/** images per forward call */
const BATCH = 16;

/** separable Gaussian blur of each channel as scipy.ndimage.gaussian_filter (truncate 4σ, 'reflect' borders: d c b a | a b c d) */
export function gaussianBlur(x: Float32Array, C: number, H: number, W: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.floor(4 * sigma + 0.5));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += (k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma)));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const refl = (i: number, n: number) => {
    const p = 2 * n;
    let m = ((i % p) + p) % p;
    if (m >= n) m = p - 1 - m;
    return m;
  };
  const out = new Float32Array(x.length);
  const tmp = new Float64Array(H * W);
  for (let c = 0; c < C; c++) {
    const off = c * H * W;
    for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
      let v = 0;
      for (let i = -r; i <= r; i++) v += k[i + r] * x[off + y * W + refl(xx + i, W)];
      tmp[y * W + xx] = v;
    }
    for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
      let v = 0;
      for (let i = -r; i <= r; i++) v += k[i + r] * tmp[refl(y + i, H) * W + xx];
      out[off + y * W + xx] = v;
    }
  }
  return out;
}

export function meanBaseline(x: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let i = 0; i < H * W; i++) s += x[c * H * W + i];
    out.fill(s / (H * W), c * H * W, (c + 1) * H * W);
  }
  return out;
}

/** cells from most to least salient (ties: row-major order) */
export function rankCells(map: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: map.length }, (_, i) => i);
  idx.sort((a, b) => map[b] - map[a] || a - b);
  return Int32Array.from(idx);
}

export function trapezoid(y: number[]): number {
  const n = y.length - 1;
  let s = 0;
  for (let i = 0; i < n; i++) s += (y[i] + y[i + 1]) / 2;
  return s / n;
}

function softmaxProb(logits: Float32Array, row: number, K: number, k: number): number {
  let m = -Infinity;
  for (let j = 0; j < K; j++) m = Math.max(m, logits[row * K + j]);
  let s = 0;
  for (let j = 0; j < K; j++) s += Math.exp(logits[row * K + j] - m);
  return Math.exp(logits[row * K + k] - m) / s;
}

/**
 * probability curves of one image for one cell order: deletion (start = image) and insertion (start = baseline),
 * cells counted round(k / steps · cells) at step k
 */
async function curves(p: MapProvider, img: Float32Array, base: Float32Array, dims: [number, number, number], grid: [number, number],
  order: Int32Array, steps: number, cls: number, signal?: AbortSignal): Promise<{ deletion: number[]; insertion: number[] }> {
  const [C, H, W] = dims, [h, w] = grid;
  const plane = C * H * W;
  const rows = (u: number) => [Math.floor((u * H) / h), Math.floor(((u + 1) * H) / h)];
  const cols = (v: number) => [Math.floor((v * W) / w), Math.floor(((v + 1) * W) / w)];
  const counts = Array.from({ length: steps + 1 }, (_, k) => Math.round((k / steps) * order.length));
  const jobs: Array<{ curve: 'deletion' | 'insertion'; k: number }> = [];
  for (const curve of ['deletion', 'insertion'] as const) for (let k = 0; k <= steps; k++) jobs.push({ curve, k });
  const res = { deletion: new Array<number>(steps + 1), insertion: new Array<number>(steps + 1) };
  for (let j0 = 0; j0 < jobs.length; j0 += BATCH) {
    checkAborted(signal);
    const part = jobs.slice(j0, j0 + BATCH);
    const batch = new Float32Array(part.length * plane);
    part.forEach((job, bi) => {
      const [start, other] = job.curve === 'deletion' ? [img, base] : [base, img];
      const dst = batch.subarray(bi * plane, (bi + 1) * plane);
      dst.set(start);
      for (let c = 0; c < counts[job.k]; c++) {
        const cell = order[c];
        const [y0, y1] = rows(Math.floor(cell / w)), [x0, x1] = cols(cell % w);
        for (let ch = 0; ch < C; ch++) for (let y = y0; y < y1; y++) {
          const o = ch * H * W + y * W;
          dst.set(other.subarray(o + x0, o + x1), o + x0);
        }
      }
    });
    const logits = (await p.predict({ data: batch, dims: [part.length, C, H, W] })).data;
    part.forEach((job, bi) => { res[job.curve][job.k] = softmaxProb(logits, bi, p.numClasses, cls); });
  }
  return res;
}

export async function runFaithfulness(o: FaithfulnessOptions): Promise<FaithfulnessReport> {
  const steps = o.steps ?? 20;
  if (!Number.isInteger(steps) || steps < 2 || steps > 1000) throw new ExplainError('BAD_INPUT', `steps must be an integer 2…1000 (got ${steps})`);
  const baselineKind = o.baseline ?? 'blur';
  if (baselineKind !== 'blur' && baselineKind !== 'mean') throw new ExplainError('BAD_INPUT', `baseline must be 'blur' or 'mean' (got '${String(baselineKind)}')`);
  const seed = o.seed ?? 0;
  const [N, C, H, W] = o.input.dims;
  const sigma = baselineKind === 'blur' ? (o.sigma ?? Math.min(H, W) / 40) : null;
  if (sigma !== null && !(sigma > 0 && sigma <= Math.max(H, W))) throw new ExplainError('BAD_INPUT', `blur sigma must be > 0 and ≤ ${Math.max(H, W)} px (got ${sigma})`);
  o.onProgress?.({ stage: 'maps', done: 0, total: N });
  const { provider, original, classes } = await openOriginal(o);
  try {
    const plane = C * H * W;
    const methods = [...o.methods, 'random' as const];
    const perMethod = new Map<string, { del: number[][]; ins: number[][]; grid: [number, number] }>();
    const firstMap = original.maps[o.methods[0]];
    for (const m of methods) {
      const t = m === 'random' ? firstMap : original.maps[m];
      perMethod.set(m, { del: [], ins: [], grid: [t.dims[1], t.dims[2]] });
    }
    for (let i = 0; i < N; i++) {
      o.onProgress?.({ stage: `curves for ${inputNamesOf(o)[i]}`, done: i, total: N });
      const img = o.input.data.subarray(i * plane, (i + 1) * plane);
      const base = sigma !== null ? gaussianBlur(img, C, H, W, sigma) : meanBaseline(img, C, H, W);
      for (const m of methods) {
        const e = perMethod.get(m)!;
        const [h, w] = e.grid;
        const order = m === 'random'
          ? permutation(h * w, streamFor(seed, `faithfulness-random-${i}`))
          : rankCells(original.maps[m].data.subarray(i * h * w, (i + 1) * h * w));
        const c = await curves(provider, img, base, [C, H, W], [h, w], order, steps, classes[i], o.signal);
        e.del.push(c.deletion);
        e.ins.push(c.insertion);
      }
    }
    o.onProgress?.({ stage: 'done', done: N, total: N });
    const summary = (curvesOf: number[][]): CurveSummary => ({
      mean: Array.from({ length: steps + 1 }, (_, k) => round6(curvesOf.reduce((s, c) => s + c[k], 0) / curvesOf.length)),
      auc: summarize(curvesOf.map(trapezoid)),
    });
    const out: FaithfulnessMethod[] = methods.map((m) => {
      const e = perMethod.get(m)!;
      return {
        method: m, layer: m === 'saliency' || m === 'edge' ? 'input' : m === 'random' ? '-' : provider.layer,
        cells: e.grid, deletion: summary(e.del), insertion: summary(e.ins),
      };
    });
    return {
      kind: 'glassbox-faithfulness', version: 1, model: modelLabel(o), seed,
      inputs: { count: N, names: inputNamesOf(o) }, classes: classList(classes, o.classNames),
      baseline: {
        kind: baselineKind, sigma_px: sigma === null ? null : round6(sigma),
        description: baselineKind === 'blur' ? `the patch blurred by a Gaussian of σ = ${round6(sigma!)} input px` : 'each channel filled with its mean over the patch',
      },
      steps, x: Array.from({ length: steps + 1 }, (_, k) => round6(k / steps)),
      methods: out, verdict: faithfulnessVerdict(out),
    };
  } finally {
    await provider.dispose();
  }
}

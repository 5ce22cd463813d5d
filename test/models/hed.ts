/**
 * Colour deconvolution (Ruifrok & Johnston 2001, HED) and the rank statistics the model tests use. Written
 * independently of the Python training recipe (models/he-cellularity/train.py) from the same published definition:
 *   OD = −ln((I + 1) / 256) per RGB channel (I in 0..255)
 *   [H, E, D] = OD · inv(M), M's rows = the H, E, D stain vectors, each normalised to unit length.
 */
import type { RgbImage } from '../../main/engine/model/index.js';

const RAW = [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]];
const M = RAW.map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });

function inv3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}
/** OD row vector · UNMIX = [H, E, D] */
export const UNMIX = inv3(M);

/** the labelling rule's thresholds (models/he-cellularity/MODEL_CARD.md) */
export const TISSUE_OD = 0.3;
export const H_DENSE = 1.0;

const OD_LUT = Float64Array.from({ length: 256 }, (_, v) => -Math.log((v + 1) / 256));

export interface Hed {
  width: number;
  height: number;
  /** hematoxylin concentration per pixel (may be slightly negative) */
  h: Float32Array;
  e: Float32Array;
  /** OD_R + OD_G + OD_B per pixel */
  odSum: Float32Array;
}

export function deconvolve(img: RgbImage): Hed {
  const n = img.width * img.height;
  const h = new Float32Array(n), e = new Float32Array(n), odSum = new Float32Array(n);
  const [u0, u1, u2] = UNMIX;
  for (let p = 0; p < n; p++) {
    const r = OD_LUT[img.data[3 * p]], g = OD_LUT[img.data[3 * p + 1]], b = OD_LUT[img.data[3 * p + 2]];
    h[p] = r * u0[0] + g * u1[0] + b * u2[0];
    e[p] = r * u0[1] + g * u1[1] + b * u2[1];
    odSum[p] = r + g + b;
  }
  return { width: img.width, height: img.height, h, e, odSum };
}

export type RuleClass = 'background' | 'stroma' | 'cellular';

/** tissue fraction, hematoxylin-dense fraction and the rule's class (null = ambiguous band, no label) */
export function ruleLabel(d: Hed): { tissue: number; dense: number; label: RuleClass | null } {
  let t = 0, hd = 0;
  const n = d.h.length;
  for (let p = 0; p < n; p++) {
    if (d.odSum[p] > TISSUE_OD) t++;
    if (d.h[p] > H_DENSE) hd++;
  }
  const tissue = t / n, dense = hd / n;
  let label: RuleClass | null = null;
  if (tissue < 0.2) label = 'background';
  else if (tissue >= 0.3 && dense < 0.1) label = 'stroma';
  else if (tissue >= 0.3 && dense >= 0.2) label = 'cellular';
  return { tissue, dense, label };
}

/** mean of `v` (width×height) over cell×cell blocks → (width/cell)×(height/cell) */
export function blockMean(v: Float32Array, width: number, height: number, cell: number): Float32Array {
  const gw = Math.floor(width / cell), gh = Math.floor(height / cell);
  const out = new Float32Array(gw * gh);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      let s = 0;
      for (let y = gy * cell; y < (gy + 1) * cell; y++) for (let x = gx * cell; x < (gx + 1) * cell; x++) s += v[y * width + x];
      out[gy * gw + gx] = s / (cell * cell);
    }
  }
  return out;
}

/** ranks 1..n, ties get their average rank */
export function ranks(a: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: a.length }, (_, i) => i).sort((i, j) => a[i] - a[j]);
  const r = new Float64Array(a.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && a[idx[j + 1]] === a[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { const dx = x[i] - mx, dy = y[i] - my; sxy += dx * dy; sxx += dx * dx; syy += dy * dy; }
  // a constant map carries no ranking: it tracks nothing, so it scores 0 (not NaN)
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/** Spearman rank correlation (Pearson on average ranks); 0 when either side is constant */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length || x.length < 2) throw new Error(`spearman: lengths ${x.length} and ${y.length}`);
  return pearson(ranks(x), ranks(y));
}

/** ROC AUC of `score` for the positives (Mann–Whitney U with average ranks); ties count one half */
export function auc(score: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const r = ranks(score);
  let np = 0, sum = 0;
  for (let i = 0; i < r.length; i++) if (positive[i]) { np++; sum += r[i]; }
  const nn = r.length - np;
  if (np === 0 || nn === 0) throw new Error(`auc: ${np} positives and ${nn} negatives`);
  return (sum - (np * (np + 1)) / 2) / (np * nn);
}

/** deterministic PRNG (mulberry32) and standard normal samples (Box–Muller) */
export function rng(seed: number): { uniform(): number; normal(): number } {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

/**
 * Tissue mask from a low-resolution level: mean HSV saturation per mask pixel, Otsu's threshold over the
 * whole slide (clamped to [0.04, 0.15] so a slide that is all glass or all tissue is not split in two), and an
 * integral image so the tissue fraction of any level-0 rectangle costs four lookups.
 * Memory is bounded: the level is read in chunks and binned straight into the mask.
 */
import type { Slide } from '../slide/types.js';
import { AnalysisError, type Rect } from './types.js';

/** largest mask side (mask px) */
const MAX_MASK_SIDE = 4096;
/** level px read per chunk (per side) */
const CHUNK = 2048;
export const MIN_THRESHOLD = 0.04;
export const MAX_THRESHOLD = 0.15;

export interface TissueMask {
  /** level-0 px per mask pixel */
  downsample: number;
  width: number;
  height: number;
  threshold: number;
  /** 1 = tissue */
  mask: Uint8Array;
  /** integral image of mask (tissue-pixel counts), (width+1)×(height+1) */
  integral: Uint32Array;
  /** slide level read */
  level: number;
  /** fraction of the slide that is tissue */
  fraction: number;
}

/** Otsu's threshold of values in [0, 1] (256 bins); returns the upper edge of the lower class. */
export function otsu(values: Float32Array): number {
  const hist = new Float64Array(256);
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    hist[Math.min(255, Math.max(0, Math.floor(v * 256)))]++;
    n++;
  }
  if (n === 0) return 0.5;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * hist[i];
  let sumB = 0, wB = 0, best = -1, bestT = 0;
  for (let t = 0; t < 256; t++) {
    wB += hist[t];
    if (wB === 0) continue;
    const wF = n - wB;
    if (wF === 0) break;
    sumB += t * hist[t];
    const mB = sumB / wB, mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > best) { best = between; bestT = t; }
  }
  return (bestT + 1) / 256;
}

/** Choose the mask resolution: ~16 mask px per patch side, at most MAX_MASK_SIDE px per side. */
export function maskDownsample(slideW: number, slideH: number, patchLevel0: number): number {
  return Math.max(1, Math.max(slideW, slideH) / MAX_MASK_SIDE, patchLevel0 / 16);
}

export async function computeTissueMask(slide: Slide, downsample: number, signal?: AbortSignal): Promise<TissueMask> {
  const { width: W, height: H, levels } = slide.properties;
  const mw = Math.max(1, Math.ceil(W / downsample));
  const mh = Math.max(1, Math.ceil(H / downsample));
  // the coarsest level that is still at least as fine as the mask
  let level = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i].downsample <= downsample + 1e-9) level = i;
  const lv = levels[level];
  // per mask pixel: the saturation sum and the number of level pixels binned into it (float32 is ample: a mask
  // pixel bins at most a few hundred level pixels of saturation ≤ 1)
  const sums = new Float32Array(mw * mh);
  const counts = new Uint32Array(mw * mh);
  const ds = lv.downsample;
  for (let ly = 0; ly < lv.height; ly += CHUNK) {
    for (let lx = 0; lx < lv.width; lx += CHUNK) {
      if (signal?.aborted) throw new AnalysisError('ABORTED', 'the tissue mask was cancelled');
      const cw = Math.min(CHUNK, lv.width - lx), ch = Math.min(CHUNK, lv.height - ly);
      // level px (lx, ly) starts at level-0 round(lx·ds): the drivers map level coords back by the downsample
      const img = await slide.readRegion(Math.round(lx * ds), Math.round(ly * ds), level, cw, ch, signal);
      const d = img.data;
      for (let y = 0; y < ch; y++) {
        const my = Math.min(mh - 1, Math.floor(((ly + y + 0.5) * ds) / downsample));
        for (let x = 0; x < cw; x++) {
          const mx = Math.min(mw - 1, Math.floor(((lx + x + 0.5) * ds) / downsample));
          const o = (y * cw + x) * 3;
          const r = d[o], g = d[o + 1], b = d[o + 2];
          const max = r > g ? (r > b ? r : b) : g > b ? g : b;
          const min = r < g ? (r < b ? r : b) : g < b ? g : b;
          const k = my * mw + mx;
          sums[k] += max === 0 ? 0 : (max - min) / max;
          counts[k]++;
        }
      }
    }
  }
  const saturation = sums; // in place: the mean saturation per mask pixel
  for (let i = 0; i < saturation.length; i++) saturation[i] = counts[i] ? sums[i] / counts[i] : 0;
  const threshold = Math.min(MAX_THRESHOLD, Math.max(MIN_THRESHOLD, otsu(saturation)));
  const mask = new Uint8Array(mw * mh);
  let tissue = 0;
  for (let i = 0; i < mask.length; i++) if (saturation[i] > threshold) { mask[i] = 1; tissue++; }
  const integral = new Uint32Array((mw + 1) * (mh + 1));
  for (let y = 0; y < mh; y++) {
    let row = 0;
    for (let x = 0; x < mw; x++) {
      row += mask[y * mw + x];
      integral[(y + 1) * (mw + 1) + x + 1] = integral[y * (mw + 1) + x + 1] + row;
    }
  }
  return { downsample, width: mw, height: mh, threshold, mask, integral, level, fraction: tissue / mask.length };
}

/**
 * Tissue fraction of a level-0 rectangle: the area-weighted share of tissue mask pixels over the rectangle
 * (parts outside the slide count as glass).
 */
export function tissueFraction(m: TissueMask, r: Rect): number {
  const area = r.w * r.h;
  if (area <= 0) return 0;
  const d = m.downsample;
  // mask-pixel coordinates (fractional), clipped to the mask
  const x0 = Math.max(0, r.x / d), y0 = Math.max(0, r.y / d);
  const x1 = Math.min(m.width, (r.x + r.w) / d), y1 = Math.min(m.height, (r.y + r.h) / d);
  if (x1 <= x0 || y1 <= y0) return 0;
  // exact area-weighted sum = Σ over covered mask px of mask·overlap; approximate with whole-pixel sums plus
  // fractional edges via the integral image at fractional coordinates (bilinear in the integral is exact for
  // a piecewise-constant mask along each axis)
  const S = (x: number, y: number) => integralAt(m, x, y);
  const inside = S(x1, y1) - S(x0, y1) - S(x1, y0) + S(x0, y0);
  return Math.min(1, Math.max(0, (inside * d * d) / area));
}

/** ∫∫ mask over [0, x) × [0, y) in mask px, for fractional x, y (exact for a piecewise-constant mask). */
function integralAt(m: TissueMask, x: number, y: number): number {
  const W = m.width + 1;
  const ix = Math.floor(x), iy = Math.floor(y);
  const fx = x - ix, fy = y - iy;
  const I = (a: number, b: number) => m.integral[Math.min(m.height, b) * W + Math.min(m.width, a)];
  // bilinear interpolation of the integral image is exact: the integral is bilinear inside each mask pixel
  const i00 = I(ix, iy), i10 = I(ix + 1, iy), i01 = I(ix, iy + 1), i11 = I(ix + 1, iy + 1);
  return i00 * (1 - fx) * (1 - fy) + i10 * fx * (1 - fy) + i01 * (1 - fx) * fy + i11 * fx * fy;
}

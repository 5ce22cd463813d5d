/**
 * Similarity of two maps (Adebayo et al. 2018, §3): Spearman rank correlation of the maps and of their absolute
 * values, SSIM and the Pearson correlation of HOG features. Definitions follow SciPy / scikit-image exactly (unit
 * tests compare against them): scipy.stats.spearmanr (ties get average ranks), skimage.metrics.structural_similarity
 * (7×7 uniform window, K1 0.01, K2 0.03, sample covariance, mean over the window-complete interior) and
 * skimage.feature.hog (9 orientations, 3×3-cell blocks, L2-Hys; 8-px cells, fewer on small maps).
 * SSIM and HOG compare the maps min–max normalised to [0, 1] (data range 1): maps are raw, and a randomized
 * model's map can differ in scale by orders of magnitude. Correlations with a constant map: null when the
 * ORIGINAL map is constant (it ranks nothing: that input cannot be checked), 0 when the randomized one is (its
 * ranking is gone).
 */

export interface MapPair {
  /** the original map, row-major h × w */
  a: ArrayLike<number>;
  /** the map after randomization */
  b: ArrayLike<number>;
  h: number;
  w: number;
}

export interface Similarity {
  spearman: number | null;
  spearman_abs: number | null;
  ssim: number | null;
  hog: number | null;
}

/** ranks 1..n, ties averaged (scipy.stats.rankdata 'average'): a native sort, then each value's tie range by bisection */
export function rankdata(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const sorted = Float64Array.from(x as ArrayLike<number>).sort();
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    let lo = 0, hi = n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (sorted[m] < v) lo = m + 1; else hi = m; }
    let up = lo, top = n;
    while (up < top) { const m = (up + top) >> 1; if (sorted[m] <= v) up = m + 1; else top = m; }
    r[i] = (lo + 1 + up) / 2;
  }
  return r;
}

/** Pearson correlation; NaN when either side is constant */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  if (!(saa > 0) || !(sbb > 0)) return NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(rankdata(a), rankdata(b));
}

const isConstant = (x: ArrayLike<number>) => { for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false; return true; };

/** correlation with the null/0 convention for constant maps */
function corr(f: (a: ArrayLike<number>, b: ArrayLike<number>) => number, a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length < 2 || isConstant(a)) return null;
  if (isConstant(b)) return 0;
  const v = f(a, b);
  return Number.isFinite(v) ? v : 0;
}

/** min–max to [0, 1] (a constant map becomes all 0) */
export function normalise01(x: ArrayLike<number>): Float64Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
  const out = new Float64Array(x.length);
  if (hi > lo) for (let i = 0; i < x.length; i++) out[i] = (x[i] - lo) / (hi - lo);
  return out;
}

/** the SSIM window: 7, or the largest odd size that fits a small map (null below 3) */
export function ssimWindow(h: number, w: number): number | null {
  let s = Math.min(7, h, w);
  if (s % 2 === 0) s--;
  return s >= 3 ? s : null;
}

/** mean SSIM (skimage.metrics.structural_similarity, uniform window, data_range given) */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, dataRange = 1, win = ssimWindow(h, w)): number | null {
  if (win === null || win > h || win > w) return null;
  const np = win * win;
  const covNorm = np / (np - 1);
  const C1 = (0.01 * dataRange) ** 2, C2 = (0.03 * dataRange) ** 2;
  const pad = (win - 1) >> 1;
  let total = 0, count = 0;
  for (let y = pad; y < h - pad; y++) {
    for (let x = pad; x < w - pad; x++) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let dy = -pad; dy <= pad; dy++) {
        const row = (y + dy) * w;
        for (let dx = -pad; dx <= pad; dx++) {
          const va = a[row + x + dx], vb = b[row + x + dx];
          sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb;
        }
      }
      const ux = sa / np, uy = sb / np;
      const vx = covNorm * (saa / np - ux * ux), vy = covNorm * (sbb / np - uy * uy), vxy = covNorm * (sab / np - ux * uy);
      total += ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
      count++;
    }
  }
  return total / count;
}

/** HOG cell size for a map: 8 px, or ⌊min(h, w) / 3⌋ on maps below 24 px (at least one 3×3-cell block); null below 3 */
export function hogCell(h: number, w: number): number | null {
  const c = Math.min(8, Math.floor(Math.min(h, w) / 3));
  return c >= 1 ? c : null;
}

/** skimage.feature.hog feature vector of a grayscale h × w image (orientations 9, cells_per_block 3×3, L2-Hys) */
export function hog(img: ArrayLike<number>, h: number, w: number, cell = hogCell(h, w), orientations = 9, blockCells = 3): Float64Array | null {
  if (cell === null) return null;
  const nR = Math.floor(h / cell), nC = Math.floor(w / cell);
  if (nR < blockCells || nC < blockCells) return null;
  const mag = new Float64Array(h * w), ori = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gr = y > 0 && y < h - 1 ? img[(y + 1) * w + x] - img[(y - 1) * w + x] : 0;
      const gc = x > 0 && x < w - 1 ? img[y * w + x + 1] - img[y * w + x - 1] : 0;
      mag[y * w + x] = Math.hypot(gc, gr);
      const deg = (Math.atan2(gr, gc) * 180) / Math.PI;
      ori[y * w + x] = ((deg % 180) + 180) % 180;
    }
  }
  const hist = new Float64Array(nR * nC * orientations);
  const r0 = Math.trunc(cell / 2), start = -Math.trunc(cell / 2), stop = Math.trunc((cell + 1) / 2);
  const per = 180 / orientations;
  for (let o = 0; o < orientations; o++) {
    const oStart = per * (o + 1), oEnd = per * o;
    for (let ri = 0; ri < nR; ri++) {
      const r = r0 + ri * cell;
      for (let ci = 0; ci < nC; ci++) {
        const c = r0 + ci * cell;
        let total = 0; // float32 accumulation, as scikit-image's Cython does
        for (let dy = start; dy < stop; dy++) {
          const y = r + dy;
          if (y < 0 || y >= h) continue;
          for (let dx = start; dx < stop; dx++) {
            const x = c + dx;
            if (x < 0 || x >= w) continue;
            const v = ori[y * w + x];
            if (v >= oStart || v < oEnd) continue;
            total = Math.fround(total + mag[y * w + x]);
          }
        }
        hist[(ri * nC + ci) * orientations + o] = Math.fround(total / (cell * cell));
      }
    }
  }
  const bR = nR - blockCells + 1, bC = nC - blockCells + 1;
  const len = blockCells * blockCells * orientations;
  const out = new Float64Array(bR * bC * len);
  const eps2 = 1e-10;
  const block = new Float64Array(len);
  for (let br = 0; br < bR; br++) {
    for (let bc = 0; bc < bC; bc++) {
      let k = 0;
      for (let i = 0; i < blockCells; i++) for (let j = 0; j < blockCells; j++) for (let o = 0; o < orientations; o++) block[k++] = hist[((br + i) * nC + bc + j) * orientations + o];
      let s = 0;
      for (let i = 0; i < len; i++) s += block[i] * block[i];
      let n = Math.sqrt(s + eps2);
      s = 0;
      for (let i = 0; i < len; i++) { block[i] = Math.min(block[i] / n, 0.2); s += block[i] * block[i]; }
      n = Math.sqrt(s + eps2);
      const off = (br * bC + bc) * len;
      for (let i = 0; i < len; i++) out[off + i] = block[i] / n;
    }
  }
  return out;
}

/** all four similarities of one pair of maps */
export function similarity(p: MapPair): Similarity {
  const { a, b, h, w } = p;
  const absA = Float64Array.from(a as ArrayLike<number>, Math.abs), absB = Float64Array.from(b as ArrayLike<number>, Math.abs);
  const na = normalise01(a), nb = normalise01(b);
  const constA = isConstant(a);
  const ha = constA ? null : hog(na, h, w), hb = hog(nb, h, w);
  return {
    spearman: corr(spearman, a, b),
    spearman_abs: corr(spearman, absA, absB),
    ssim: constA ? null : ssim(na, nb, h, w),
    hog: ha && hb ? corr(pearson, ha, hb) : null,
  };
}

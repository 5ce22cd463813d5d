/**
 * Stitching per-patch maps into one slide-level grid of raw values (never per-patch min-max, so values compare across patches).
 * Overlapping patches are averaged with weights that peak at each patch's centre (a tent in cells, positive at
 * the edges), so the stitched map has no seams; without overlap every cell has one patch and the weights vanish.
 */
import type { GridGeometry, Patch } from './types.js';

/** Tent weights over n cells: min(i + ½, n − i − ½), largest at the centre, positive at the edges. */
export function tentWeights(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = Math.min(i + 0.5, n - i - 0.5);
  return w;
}

export class Stitcher {
  readonly rows: number;
  readonly cols: number;
  // float32 accumulators: a cell sums at most a few patches' values (memory: a 100k² slide has ~10M cells)
  private readonly sums: Map<number, Float32Array>;
  private readonly probSums: Float32Array;
  private readonly weights: Float32Array;
  private readonly wx: Float64Array;
  private readonly wy: Float64Array;

  /** cells that start at or past the analysed region's right / bottom edge (the last patches' overhang) */
  private readonly lastCol: number;
  private readonly lastRow: number;

  /** `bounds`: the analysed level-0 region; cells wholly outside it are NaN even where a patch overhangs */
  constructor(readonly geometry: GridGeometry, readonly classes: readonly number[], readonly numClasses: number, bounds?: { x: number; y: number; w: number; h: number }) {
    [this.rows, this.cols] = geometry.shape;
    const [cw, ch] = geometry.cellSize;
    this.lastCol = bounds ? Math.min(this.cols, Math.ceil((bounds.x + bounds.w - geometry.origin[0]) / cw - 1e-9)) : this.cols;
    this.lastRow = bounds ? Math.min(this.rows, Math.ceil((bounds.y + bounds.h - geometry.origin[1]) / ch - 1e-9)) : this.rows;
    const n = this.rows * this.cols;
    this.sums = new Map(classes.map((k) => [k, new Float32Array(n)]));
    this.probSums = new Float32Array(n * numClasses);
    this.weights = new Float32Array(n);
    this.wx = tentWeights(geometry.cellsPerPatch[0]);
    this.wy = tentWeights(geometry.cellsPerPatch[1]);
  }

  /** Add one patch: maps per class [ch × cw] (row-major), probabilities [K]. */
  add(patch: Patch, maps: Map<number, Float32Array>, mapOffset: number, probabilities: ArrayLike<number>, probOffset = 0): void {
    const g = this.geometry;
    const [cw, ch] = g.cellsPerPatch;
    const r0 = patch.row * g.stepCells[1], c0 = patch.col * g.stepCells[0];
    const K = this.numClasses;
    for (let y = 0; y < ch; y++) {
      const r = r0 + y;
      if (r >= this.rows) break;
      for (let x = 0; x < cw; x++) {
        const c = c0 + x;
        if (c >= this.cols) break;
        const w = this.wx[x] * this.wy[y];
        const cell = r * this.cols + c;
        this.weights[cell] += w;
        for (const [k, s] of this.sums) s[cell] += w * maps.get(k)![mapOffset + y * cw + x];
        for (let j = 0; j < K; j++) this.probSums[cell * K + j] += w * probabilities[probOffset + j];
      }
    }
  }

  private inside(cell: number): boolean {
    return cell % this.cols < this.lastCol && Math.floor(cell / this.cols) < this.lastRow;
  }

  /** float32 [rows, cols] raw values for class k, NaN where no patch contributed or outside the region. */
  heatmap(k: number): Float32Array {
    const s = this.sums.get(k)!;
    const out = new Float32Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = this.weights[i] > 0 && this.inside(i) ? s[i] / this.weights[i] : NaN;
    return out;
  }

  /** float32 [rows, cols, K] probabilities, NaN where no patch contributed. */
  probabilities(): Float32Array {
    const K = this.numClasses;
    const out = new Float32Array(this.probSums.length);
    for (let i = 0; i < this.weights.length; i++) {
      const w = this.inside(i) ? this.weights[i] : 0;
      for (let j = 0; j < K; j++) out[i * K + j] = w > 0 ? this.probSums[i * K + j] / w : NaN;
    }
    return out;
  }
}

/** [min, max] over finite values ([0, 0] when none). */
export function valueRange(a: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of a) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return Number.isFinite(lo) ? [lo, hi] : [0, 0];
}

/** The q-quantile (0..1) of |finite values|: a slide-global display scale (e.g. q = 0.99). */
export function absQuantile(a: Float32Array, q: number): number {
  const v: number[] = [];
  for (const x of a) if (Number.isFinite(x)) v.push(Math.abs(x));
  if (v.length === 0) return 0;
  v.sort((p, r) => p - r);
  return v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))];
}

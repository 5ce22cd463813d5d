/**
 * Heatmap → regions. The cells at or above a threshold form a mask; each connected component of the mask becomes a
 * polygon (with its holes) traced EXACTLY ON THE CELL BOUNDARIES: boundary tracing of the cell mask, keeping only the
 * corners where the boundary turns (a lossless simplification). Optional simplification (chamfered corners + Douglas–
 * Peucker via simplify-js, see simplifyRing) moves no boundary by more than the tolerance, capped at half a cell.
 *
 * Why not d3-contour: marching squares treats values as samples at cell centres and cuts corners diagonally
 * (interpolated iso-lines), so its polygons are not on the cell edges; tracing the mask is exact and as cheap.
 *
 * Connectivity: by default 4-connected cells form one region (diagonal neighbours are separate regions, the
 * ImageJ/QuPath default) and holes are 8-connected; `diagonal: true` swaps the two. Each traced ring borders exactly
 * one component, so a hole is attached to the component of the cell beside its first edge.
 *
 * Tracing: vertices are cell corners (x = column, y = row, y down). For every cell in the mask, each side facing a
 * cell outside becomes a directed edge with the cell on its right (top edge → east, right → south, bottom → west,
 * left → north). Exterior rings then have positive shoelace area and holes negative (types.ts convention). At a
 * saddle (two diagonal cells in) the walk turns right to hug its own cell (4-connectivity) or left to cross over (8).
 */
import simplify from 'simplify-js';
import { measurementRecord } from './measurements.js';
import { defaultClassColor, newAnnotation } from './model.js';
import { ringSignedArea } from './geom.js';
import { AnnotationError, type Annotation, type AnnotationClass, type HeatmapGrid, type Position, type RegionOptions, type Ring } from './types.js';

const E = 1, S = 2, W = 4, N = 8;
const DX: Record<number, number> = { [E]: 1, [S]: 0, [W]: -1, [N]: 0 };
const DY: Record<number, number> = { [E]: 0, [S]: 1, [W]: 0, [N]: -1 };
const RIGHT: Record<number, number> = { [E]: S, [S]: W, [W]: N, [N]: E };
const LEFT: Record<number, number> = { [E]: N, [N]: W, [W]: S, [S]: E };

/** connected-component labels of a mask (0 = background, 1… = components) */
function label(mask: Uint8Array, rows: number, cols: number, diagonal: boolean): Int32Array {
  const lab = new Int32Array(rows * cols);
  const stack: number[] = [];
  let next = 0;
  for (let i = 0; i < rows * cols; i++) {
    if (!mask[i] || lab[i]) continue;
    lab[i] = ++next;
    stack.push(i);
    while (stack.length) {
      const k = stack.pop()!;
      const r = Math.floor(k / cols), c = k - r * cols;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          if ((dr === 0 && dc === 0) || (!diagonal && dr !== 0 && dc !== 0)) continue;
          const rr = r + dr, cc = c + dc;
          if (rr < 0 || cc < 0 || rr >= rows || cc >= cols) continue;
          const j = rr * cols + cc;
          if (mask[j] && !lab[j]) { lab[j] = next; stack.push(j); }
        }
      }
    }
  }
  return lab;
}

/**
 * A closed ring that passes a vertex twice (a figure 8: two hole cells meeting at a corner) as simple rings that
 * touch at that vertex — valid holes in the OGC/JTS sense, where one self-touching ring is not.
 */
export function splitTouching(ring: Position[]): Position[][] {
  const out: Position[][] = [];
  const path: Position[] = [];
  const seen = new Map<string, number>();
  for (const p of ring.slice(0, -1)) {
    const k = `${p[0]},${p[1]}`;
    const i = seen.get(k);
    if (i !== undefined) {
      const loop = path.splice(i);
      for (const q of loop) seen.delete(`${q[0]},${q[1]}`);
      out.push([...loop, [loop[0][0], loop[0][1]]]);
    }
    seen.set(k, path.length);
    path.push(p);
  }
  out.push([...path, [path[0][0], path[0][1]]]);
  return out.filter((r) => r.length >= 4);
}

/**
 * Polygons (ring 0 exterior, then holes) of a cell mask, in cell units (x = column, y = row), closed rings,
 * vertices only where the boundary turns. One polygon per connected component, in component order.
 */
export function maskRegions(mask: Uint8Array, rows: number, cols: number, diagonal = false): Position[][][] {
  if (mask.length !== rows * cols) throw new AnnotationError('BAD_INPUT', `mask has ${mask.length} cells, expected ${rows}×${cols}`);
  const at = (r: number, c: number) => r >= 0 && c >= 0 && r < rows && c < cols && mask[r * cols + c] !== 0;
  const VC = cols + 1;
  const out = new Uint8Array((rows + 1) * VC);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (!at(r, c)) continue;
      if (!at(r - 1, c)) out[r * VC + c] |= E;
      if (!at(r, c + 1)) out[r * VC + c + 1] |= S;
      if (!at(r + 1, c)) out[(r + 1) * VC + c + 1] |= W;
      if (!at(r, c - 1)) out[(r + 1) * VC + c] |= N;
    }
  }
  const lab = label(mask, rows, cols, diagonal);
  // the cell on the right of an edge leaving (x, y) in direction d
  const rightCell = (x: number, y: number, d: number): number => {
    if (d === E) return y * cols + x;
    if (d === S) return y * cols + x - 1;
    if (d === W) return (y - 1) * cols + x - 1;
    return (y - 1) * cols + x;
  };
  const exteriors = new Map<number, Position[]>();
  const holes = new Map<number, Position[][]>();
  // the successor of each edge is fixed by the edges present (`orig`), so every walk is a cycle back to its first edge
  const orig = out.slice();
  for (let v = 0; v < out.length; v++) {
    while (out[v]) {
      const first = out[v] & -out[v];
      const x0 = v % VC, y0 = Math.floor(v / VC);
      const comp = lab[rightCell(x0, y0, first)];
      const ring: Position[] = [];
      let x = x0, y = y0, d = first, prev = -1;
      do {
        out[y * VC + x] &= ~d;
        if (d !== prev) ring.push([x, y]);
        prev = d;
        x += DX[d]; y += DY[d];
        const here = orig[y * VC + x];
        const order = diagonal ? [LEFT[d], d, RIGHT[d]] : [RIGHT[d], d, LEFT[d]];
        d = order.find((o) => here & o)!;
      } while (!(x === x0 && y === y0 && d === first));
      if (ring.length && prev === first) ring.shift();
      if (ring.length < 4) continue;
      ring.push([ring[0][0], ring[0][1]]);
      if (ringSignedArea(ring) > 0) exteriors.set(comp, ring);
      // (8-connected: a hole ring may wrap a cell that touches it diagonally — a positive lobe —, so it stays whole)
      else (holes.get(comp) ?? holes.set(comp, []).get(comp)!).push(...(diagonal ? [ring] : splitTouching(ring)));
    }
  }
  return [...exteriors.keys()].sort((a, b) => a - b).map((k) => [exteriors.get(k)!, ...(holes.get(k) ?? [])]);
}

/**
 * Simplifies a closed cell-unit ring so that it stays within `tol` (≤ ½) cell of the exact boundary. Douglas–Peucker
 * alone cannot: every corner of a cell staircase is ≥ 0.7 cell off any line through its neighbours. So each corner
 * is first cut (chamfered) at d = min(tol·√2, ½, half its edges) along both edges — at most d/√2 ≤ 0.354 cell from
 * the corner — and the cut points are simplified by DP with the rest of the budget, tol − d/√2 (a 45° staircase
 * becomes its straight diagonal). A corner whose two cut points both survive, next to each other, is restored: a
 * rectangle stays a rectangle.
 */
export function simplifyRing(ring: Position[], tol: number): Position[] {
  const open = ring.slice(0, -1), n = open.length;
  const d = Math.min(tol * Math.SQRT2, 0.5);
  const budget = Math.max(0, tol - d / Math.SQRT2);
  const pts: Array<{ x: number; y: number; corner: number; side: 0 | 1 }> = [];
  const toward = (from: Position, to: Position, dist: number) => {
    const len = Math.hypot(to[0] - from[0], to[1] - from[1]);
    const t = Math.min(dist, len / 2) / len;
    return { x: from[0] + t * (to[0] - from[0]), y: from[1] + t * (to[1] - from[1]) };
  };
  for (let i = 0; i < n; i++) {
    const cur = open[i], prev = open[(i + n - 1) % n], next = open[(i + 1) % n];
    pts.push({ ...toward(cur, prev, d), corner: i, side: 0 }, { ...toward(cur, next, d), corner: i, side: 1 });
  }
  const kept = (simplify([...pts, pts[0]], budget, true) as typeof pts).slice(0, -1);
  const m = kept.length;
  // restore corner i where its cut points and both neighbours' cut points on the same edges survive (edges intact)
  const restore = (k: number) => {
    const p = kept[k], q = kept[(k + 1) % m], before = kept[(k + m - 1) % m], after = kept[(k + 2) % m];
    return p.side === 0 && q.side === 1 && p.corner === q.corner
      && before.side === 1 && before.corner === (p.corner + n - 1) % n && after.side === 0 && after.corner === (p.corner + 1) % n;
  };
  const out: Position[] = [];
  for (let k = 0; k < m; k++) {
    if (m >= 4 && restore(k)) {
      out.push([...open[kept[k].corner]]);
      if (k === m - 1) out.shift(); // the pair wrapped: its second point was emitted first
      k++;
    } else out.push([kept[k].x, kept[k].y]);
  }
  if (out.length < 3) return ring;
  out.push([out[0][0], out[0][1]]);
  return out;
}

/** NaN-aware separable Gaussian blur (normalised convolution); NaN cells stay NaN */
export function smoothGrid(values: Float32Array, rows: number, cols: number, sigma: number): Float32Array {
  if (!(sigma > 0)) return values;
  const rad = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * rad + 1 }, (_, i) => Math.exp(-((i - rad) ** 2) / (2 * sigma * sigma)));
  const pass = (src: Float32Array, alongRows: boolean): Float32Array => {
    const dst = new Float32Array(src.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        if (Number.isNaN(values[i])) { dst[i] = NaN; continue; }
        let s = 0, w = 0;
        for (let t = -rad; t <= rad; t++) {
          const rr = alongRows ? r : r + t, cc = alongRows ? c + t : c;
          if (rr < 0 || cc < 0 || rr >= rows || cc >= cols) continue;
          const v = src[rr * cols + cc];
          if (Number.isNaN(v)) continue;
          s += k[t + rad] * v; w += k[t + rad];
        }
        dst[i] = w > 0 ? s / w : NaN;
      }
    }
    return dst;
  };
  return pass(pass(values, true), false);
}

/** the p-th percentile (0..100, linear interpolation) of the finite values */
export function percentileOf(values: Float32Array, p: number): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) throw new AnnotationError('BAD_INPUT', 'the heatmap has no finite values');
  const pos = (p / 100) * (v.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** a class for regions of a map (a stable colour per class name) */
export function regionClass(name: string): AnnotationClass {
  return { name, color: defaultClassColor(name) };
}

/**
 * Regions of a heatmap: cells with (optionally smoothed) value ≥ threshold (or ≥ the given percentile of the finite
 * values), one Polygon annotation per connected component, at least `minAreaUm2` (needs the slide's µm/px), in
 * level-0 px, each with its measurements (area, perimeter, centroid, heatmap stats of the ORIGINAL map) and provenance.
 * Largest first.
 */
export function heatmapRegions(grid: HeatmapGrid, opts: RegionOptions, now = new Date()): { annotations: Annotation[]; threshold: number } {
  const [rows, cols] = grid.shape, [cw, ch] = grid.cellSize, [ox, oy] = grid.origin;
  if (!Number.isFinite(opts.threshold)) throw new AnnotationError('BAD_INPUT', 'threshold must be a finite number');
  if (opts.percentile && (opts.threshold < 0 || opts.threshold > 100)) throw new AnnotationError('BAD_INPUT', `a percentile must be 0..100 (got ${opts.threshold})`);
  const smooth = opts.smoothCells ?? 0, simp = opts.simplifyCells ?? 0;
  if (!(smooth >= 0 && smooth <= 20)) throw new AnnotationError('BAD_INPUT', `smoothing σ must be 0..20 cells (got ${smooth})`);
  if (!(simp >= 0 && simp <= 0.5)) throw new AnnotationError('BAD_INPUT', `simplification must be 0..0.5 cell (got ${simp}): polygons may move at most half a cell`);
  const minArea = opts.minAreaUm2 ?? 0;
  if (!(minArea >= 0)) throw new AnnotationError('BAD_INPUT', `minimum area must be ≥ 0 µm² (got ${minArea})`);
  if (minArea > 0 && !grid.mpp) throw new AnnotationError('BAD_INPUT', 'a minimum area in µm² needs the slide\'s µm/px, which this heatmap does not record');
  const vals = smoothGrid(grid.values, rows, cols, smooth);
  const threshold = opts.percentile ? percentileOf(vals, opts.threshold) : opts.threshold;
  const mask = new Uint8Array(rows * cols);
  for (let i = 0; i < mask.length; i++) mask[i] = vals[i] >= threshold ? 1 : 0;
  const polys = maskRegions(mask, rows, cols, opts.diagonal ?? false);
  const toPx = (ring: Position[]): Ring => (simp > 0 ? simplifyRing(ring, simp) : ring).map(([x, y]): Position => [ox + x * cw, oy + y * ch]);
  const cls = opts.classification === undefined ? regionClass(grid.className) : opts.classification;
  const um2 = grid.mpp ? grid.mpp.x * grid.mpp.y : 1;
  const regions: Array<{ a: Annotation; area: number }> = [];
  for (const rings of polys) {
    const coordinates = rings.map(toPx);
    const areaPx = Math.abs(ringSignedArea(coordinates[0])) - coordinates.slice(1).reduce((s, r) => s + Math.abs(ringSignedArea(r)), 0);
    if (areaPx * um2 < minArea) continue;
    const a = newAnnotation({
      shape: { kind: 'polygon' }, geometry: { type: 'Polygon', coordinates }, classification: cls, now,
      provenance: {
        source: 'heatmap',
        heatmap: {
          ...(grid.meta?.dir ? { dir: grid.meta.dir } : {}), file: grid.file, class: grid.className,
          ...(grid.meta?.method ? { method: grid.meta.method } : {}), ...(grid.meta?.layer ? { layer: grid.meta.layer } : {}),
          ...(grid.meta?.model ? { model: grid.meta.model } : {}), ...(grid.meta?.modelSha256 ? { modelSha256: grid.meta.modelSha256 } : {}),
          ...(grid.meta?.slideSha256 ? { slideSha256: grid.meta.slideSha256 } : {}),
        },
        threshold, ...(opts.percentile ? { percentile: opts.threshold } : {}),
        ...(minArea ? { minAreaUm2: minArea } : {}), ...(smooth ? { smoothCells: smooth } : {}), ...(simp ? { simplifyCells: simp } : {}),
      },
    });
    a.measurements = measurementRecord(a, grid.mpp, grid, threshold);
    regions.push({ a, area: areaPx });
  }
  regions.sort((p, q) => q.area - p.area);
  regions.forEach(({ a }, i) => { a.name = `${grid.className} region ${i + 1}`; });
  return { annotations: regions.map((r) => r.a), threshold };
}

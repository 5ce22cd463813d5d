/**
 * Measurements of an annotation in physical units, and heatmap statistics inside it.
 *
 * Units: area µm², perimeter µm from the slide's level-0 µm/px (x and y may differ: each edge is scaled per axis);
 * with an unknown µm/px everything stays in px and `unit` says 'px'. Ellipses are measured from their parameters
 * (area πab exactly; perimeter by Ramanujan's second approximation, relative error < 1e-9 for b/a ≥ 0.1); other
 * shapes from their polygon(s) (holes subtract area and add perimeter).
 *
 * Heatmap statistics: a cell partly inside a region is WEIGHTED BY THE AREA IT COVERS (exact polygon ∩ cell area,
 * by clipping each ring to the cell's row strip, then to the cell's column). NaN cells (not analysed) and the part
 * of the region outside the grid carry no weight and are reported as `nanFraction`. Points use the cells they fall
 * in (equal weights); polylines are sampled every ¼ cell (weight = length).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy } from '../explain/npy.js';
import {
  bounds, clipStrip, openRing, pathLength, polygonsArea, polygonsCentroid, polygonsOf, ringSignedArea,
} from './geom.js';
import {
  AnnotationError, type Annotation, type Geometry, type HeatmapGrid, type HeatmapStats, type Measurements, type PixelSize,
  type Position, type Shape, type ShapeMeasurements,
} from './types.js';

/** Ramanujan's second approximation of an ellipse's perimeter */
export function ellipsePerimeter(a: number, b: number): number {
  if (a === 0 || b === 0) return 4 * Math.max(a, b);
  const h = ((a - b) / (a + b)) ** 2;
  return Math.PI * (a + b) * (1 + (3 * h) / (10 + Math.sqrt(4 - 3 * h)));
}

/** physical length of a path (per-axis scaling) */
function scaledLength(path: readonly Position[], sx: number, sy: number): number {
  let s = 0;
  for (let i = 1; i < path.length; i++) s += Math.hypot((path[i][0] - path[i - 1][0]) * sx, (path[i][1] - path[i - 1][1]) * sy);
  return s;
}

export function measureGeometry(g: Geometry, mpp: PixelSize, shape?: Shape): ShapeMeasurements {
  const sx = mpp?.x ?? 1, sy = mpp?.y ?? 1;
  const unit = mpp ? 'um' : 'px';
  if (shape?.kind === 'ellipse') {
    const areaPx = Math.PI * shape.rx * shape.ry;
    return {
      unit, area: areaPx * sx * sy, perimeter: ellipsePerimeter(shape.rx * sx, shape.ry * sy),
      centroid: [shape.cx, shape.cy], areaPx, perimeterPx: ellipsePerimeter(shape.rx, shape.ry), points: 0,
    };
  }
  switch (g.type) {
    case 'Point': return { unit, area: 0, perimeter: 0, centroid: [...g.coordinates], areaPx: 0, perimeterPx: 0, points: 1 };
    case 'MultiPoint': {
      const n = g.coordinates.length;
      const c: Position = [g.coordinates.reduce((s, p) => s + p[0], 0) / n, g.coordinates.reduce((s, p) => s + p[1], 0) / n];
      return { unit, area: 0, perimeter: 0, centroid: c, areaPx: 0, perimeterPx: 0, points: n };
    }
    case 'LineString': {
      const len = pathLength(g.coordinates);
      let mx = 0, my = 0;
      for (let i = 1; i < g.coordinates.length; i++) {
        const a = g.coordinates[i - 1], b = g.coordinates[i];
        const l = Math.hypot(b[0] - a[0], b[1] - a[1]);
        mx += l * (a[0] + b[0]) / 2; my += l * (a[1] + b[1]) / 2;
      }
      const c: Position = len > 0 ? [mx / len, my / len] : [...g.coordinates[0]];
      return { unit, area: 0, perimeter: scaledLength(g.coordinates, sx, sy), centroid: c, areaPx: 0, perimeterPx: len, points: 0 };
    }
    default: {
      const polys = polygonsOf(g);
      const areaPx = polygonsArea(polys);
      let per = 0, perPx = 0;
      for (const rings of polys) for (const r of rings) { per += scaledLength(r, sx, sy); perPx += pathLength(r); }
      const [x0, y0, x1, y1] = bounds(g);
      const centroid = polygonsCentroid(polys) ?? [(x0 + x1) / 2, (y0 + y1) / 2];
      return { unit, area: areaPx * sx * sy, perimeter: per, centroid, areaPx, perimeterPx: perPx, points: 0 };
    }
  }
}

export function measureAnnotation(a: Annotation, mpp: PixelSize): ShapeMeasurements {
  return measureGeometry(a.geometry, mpp, a.shape);
}

/** v with 3 significant digits below 100, else a grouped integer */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a === 0) return '0';
  return Number(v.toPrecision(3)).toString();
}

/** "512 µm²", "1.23 mm²" (from 0.1 mm² = 100 000 µm²), "812 px² (µm/px unknown)" */
export function formatArea(m: Pick<ShapeMeasurements, 'unit' | 'area'>): string {
  if (m.unit === 'px') return `${formatNumber(m.area)} px² (µm/px unknown)`;
  if (m.area >= 1e5) return `${formatNumber(m.area / 1e6)} mm²`;
  return `${formatNumber(m.area)} µm²`;
}

/** "85.3 µm", "1.20 mm" (from 1 mm), "40 px (µm/px unknown)" */
export function formatLength(m: Pick<ShapeMeasurements, 'unit' | 'perimeter'>): string {
  if (m.unit === 'px') return `${formatNumber(m.perimeter)} px (µm/px unknown)`;
  if (m.perimeter >= 1000) return `${formatNumber(m.perimeter / 1000)} mm`;
  return `${formatNumber(m.perimeter)} µm`;
}

/** covered cells of a geometry: parallel arrays of cell index (row-major) and weight, and the total weight */
export interface Coverage { cells: Int32Array; weights: Float64Array; total: number }

/**
 * Covered area of each cell of one grid row by polygons (signed rings, already clipped to the row's strip).
 * The strip polygon's vertical cross-section h(x) is piecewise linear, h(x) = Σ over edges spanning x of
 * −sign(dx)·y_e(x) (from A = −∮ y dx, holes and orientation included), so a sweep over the edges' x-extents
 * integrates it exactly over each cell: O(V log V + columns) per row instead of a clip per cell.
 */
function rowCoverage(pieces: Array<{ ring: Position[]; sign: number }>, ox: number, cw: number, cols: number, add: (c: number, w: number) => void): void {
  // events: at x, the linear function a + b·x gains (da, db)
  const ev: Array<[number, number, number]> = [];
  for (const { ring, sign } of pieces) {
    for (let i = 0; i < ring.length; i++) {
      const [x0, y0] = ring[i], [x1, y1] = ring[(i + 1) % ring.length];
      if (x0 === x1) continue;
      const slope = (y1 - y0) / (x1 - x0);
      const s = -Math.sign(x1 - x0) * sign;
      // f(x) = s·(y0 + (x − x0)·slope) = s·(y0 − x0·slope) + s·slope·x
      const a = s * (y0 - x0 * slope), b = s * slope;
      ev.push([Math.min(x0, x1), a, b], [Math.max(x0, x1), -a, -b]);
    }
  }
  if (ev.length === 0) return;
  ev.sort((p, q) => p[0] - q[0]);
  let a = 0, b = 0, k = 0;
  const integral = (u: number, v: number) => (v - u) * (a + (b * (v + u)) / 2);
  const c0 = Math.max(0, Math.floor((ev[0][0] - ox) / cw)), c1 = Math.min(cols - 1, Math.floor((ev[ev.length - 1][0] - ox) / cw));
  // apply the events left of the first column
  const startX = ox + c0 * cw;
  while (k < ev.length && ev[k][0] <= startX) { a += ev[k][1]; b += ev[k][2]; k++; }
  for (let c = c0; c <= c1; c++) {
    let x = ox + c * cw;
    const xe = x + cw;
    let w = 0;
    while (k < ev.length && ev[k][0] < xe) {
      w += integral(x, ev[k][0]);
      x = ev[k][0];
      a += ev[k][1]; b += ev[k][2]; k++;
    }
    w += integral(x, xe);
    if (w !== 0) add(c, w);
  }
}

/** per-cell covered area (level-0 px²) of a geometry (polylines: length; points: count), and the total */
export function cellCoverage(g: Geometry, grid: Pick<HeatmapGrid, 'origin' | 'cellSize' | 'shape'>): Coverage {
  const [ox, oy] = grid.origin, [cw, ch] = grid.cellSize, [rows, cols] = grid.shape;
  const cells: number[] = [], weights: number[] = [];
  const byCell = new Map<number, number>();
  /** points and polyline samples may hit a cell many times */
  const add = (r: number, c: number, w: number) => {
    if (r < 0 || c < 0 || r >= rows || c >= cols || w === 0) return;
    const k = r * cols + c;
    const at = byCell.get(k);
    if (at === undefined) { byCell.set(k, cells.length); cells.push(k); weights.push(w); } else weights[at] += w;
  };
  /** a polygon row gives each of its cells once: no lookup */
  const addOnce = (r: number, c: number, w: number) => { cells.push(r * cols + c); weights.push(w); };
  const done = (total: number): Coverage => ({ cells: Int32Array.from(cells), weights: Float64Array.from(weights), total });
  const cellOf = (p: Position): [number, number] => [Math.floor((p[1] - oy) / ch), Math.floor((p[0] - ox) / cw)];
  if (g.type === 'Point' || g.type === 'MultiPoint') {
    const pts = g.type === 'Point' ? [g.coordinates] : g.coordinates;
    for (const p of pts) add(...cellOf(p), 1);
    return done(pts.length);
  }
  if (g.type === 'LineString') {
    let total = 0;
    const step = Math.min(cw, ch) / 4;
    for (let i = 1; i < g.coordinates.length; i++) {
      const a = g.coordinates[i - 1], b = g.coordinates[i];
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      const n = Math.max(1, Math.ceil(len / step));
      for (let k = 0; k < n; k++) {
        const t = (k + 0.5) / n;
        add(...cellOf([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]), len / n);
      }
      total += len;
    }
    return done(total);
  }
  // rings with the sign that makes exteriors add and holes subtract, whatever their stored orientation
  let total = 0, y0 = Infinity, y1 = -Infinity;
  const rings: Array<{ ring: Position[]; sign: number }> = [];
  for (const polyRings of polygonsOf(g)) {
    polyRings.forEach((r, i) => {
      const ring = openRing(r);
      const a = ringSignedArea(ring);
      if (a === 0) return;
      const sign = (i === 0 ? 1 : -1) * Math.sign(a);
      total += sign * a;
      rings.push({ ring, sign });
      for (const p of ring) { y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]); }
    });
  }
  const r0 = Math.max(0, Math.floor((y0 - oy) / ch)), r1 = Math.min(rows - 1, Math.floor((y1 - oy) / ch));
  for (let r = r0; r <= r1; r++) {
    // coordinates relative to the strip's top-left (precision with large level-0 coordinates; h is shift-invariant
    // in y because a closed ring crosses any vertical line as often rightwards as leftwards)
    const top = oy + r * ch;
    const pieces = rings
      .map(({ ring, sign }) => ({ ring: clipStrip(ring, top, top + ch).map(([x, y]): Position => [x - ox, y - top]), sign }))
      .filter((p) => p.ring.length >= 3);
    if (pieces.length) rowCoverage(pieces, 0, cw, cols, (c, w) => addOnce(r, c, w));
  }
  return done(total);
}

/**
 * Smallest v with at least q of the total weight at values ≤ v: weighted quickselect on typed arrays (expected
 * O(n); a whole-slide region covers millions of cells, where sorting [value, weight] pairs takes tens of seconds).
 * Reorders `v` and `w` (together).
 */
export function weightedQuantile(v: Float64Array, w: Float64Array, q: number): number {
  let lo = 0, hi = v.length - 1;
  if (hi < 0) return NaN;
  let total = 0;
  for (let i = 0; i <= hi; i++) total += w[i];
  let need = q * total * (1 - 1e-12); // weight still to pass, counted from v[lo]
  let seed = 0x9e3779b9;
  const swap = (i: number, j: number) => {
    const tv = v[i]; v[i] = v[j]; v[j] = tv;
    const tw = w[i]; w[i] = w[j]; w[j] = tw;
  };
  while (lo < hi) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const pivot = v[lo + (seed % (hi - lo + 1))];
    // three-way partition: [lo, lt) < pivot, [lt, gt] = pivot, (gt, hi] > pivot
    let lt = lo, gt = hi, i = lo;
    while (i <= gt) {
      if (v[i] < pivot) swap(lt++, i++);
      else if (v[i] > pivot) swap(i, gt--);
      else i++;
    }
    let below = 0, equal = 0;
    for (let k = lo; k < lt; k++) below += w[k];
    for (let k = lt; k <= gt; k++) equal += w[k];
    if (need <= below && lt > lo) hi = lt - 1;
    else if (need <= below + equal || gt >= hi) return pivot;
    else { need -= below + equal; lo = gt + 1; }
  }
  return v[lo];
}

export function heatmapStats(g: Geometry, grid: HeatmapGrid, threshold?: number): HeatmapStats {
  const { cells, weights, total } = cellCoverage(g, grid);
  const cellArea = grid.cellSize[0] * grid.cellSize[1];
  const eps = g.type === 'Polygon' || g.type === 'MultiPolygon' ? 1e-9 * cellArea : 0;
  const K = grid.classNames?.length ?? 0;
  const probs = new Float64Array(K);
  let probW = 0, sum = 0, W = 0, above = 0, max = -Infinity;
  const qv = new Float64Array(cells.length), qw = new Float64Array(cells.length);
  let nq = 0;
  for (let j = 0; j < cells.length; j++) {
    const k = cells[j], w = weights[j];
    if (w <= eps) continue;
    const v = grid.values[k];
    if (!Number.isFinite(v)) continue;
    sum += w * v; W += w; qv[nq] = v; qw[nq++] = w;
    if (v > max) max = v;
    if (threshold !== undefined && v >= threshold) above += w;
    if (grid.probabilities && K) {
      let ok = true;
      for (let j = 0; j < K; j++) if (!Number.isFinite(grid.probabilities[k * K + j])) ok = false;
      if (ok) {
        for (let j = 0; j < K; j++) probs[j] += w * grid.probabilities[k * K + j];
        probW += w;
      }
    }
  }
  const classProbabilities: Record<string, number> = {};
  if (probW > 0) grid.classNames!.forEach((n, j) => { classProbabilities[n] = probs[j] / probW; });
  const isArea = g.type === 'Polygon' || g.type === 'MultiPolygon';
  return {
    map: grid.file,
    mean: W > 0 ? sum / W : NaN,
    max: W > 0 ? max : NaN,
    p90: weightedQuantile(qv.subarray(0, nq), qw.subarray(0, nq), 0.9),
    fractionAbove: threshold === undefined || W === 0 ? NaN : above / W,
    threshold: threshold ?? null,
    classProbabilities,
    analysedAreaPx: isArea ? W : 0,
    nanFraction: total > 0 ? Math.max(0, 1 - W / total) : 1,
  };
}

/**
 * The stored measurement record of an annotation, QuPath-style names with units: "Area µm^2", "Perimeter µm",
 * "Centroid X px", "Centroid Y px" (or "Area px^2", "Perimeter px" without µm/px); with a heatmap:
 * "Heatmap mean", "Heatmap max", "Heatmap p90", "Heatmap fraction ≥ T" and "Probability <class>".
 */
export function measurementRecord(a: Annotation, mpp: PixelSize, grid?: HeatmapGrid, threshold?: number): Measurements {
  const m = measureAnnotation(a, mpp);
  const u = m.unit === 'um' ? 'µm' : 'px';
  const out: Measurements = {};
  if (a.geometry.type === 'Polygon' || a.geometry.type === 'MultiPolygon') {
    out[`Area ${u}^2`] = m.area;
    out[`Perimeter ${u}`] = m.perimeter;
  } else if (a.geometry.type === 'LineString') out[`Length ${u}`] = m.perimeter;
  else out['Num points'] = m.points;
  out['Centroid X px'] = m.centroid[0];
  out['Centroid Y px'] = m.centroid[1];
  if (grid) {
    const s = heatmapStats(a.geometry, grid, threshold);
    out['Heatmap mean'] = s.mean;
    out['Heatmap max'] = s.max;
    out['Heatmap p90'] = s.p90;
    if (threshold !== undefined) out[`Heatmap fraction >= ${threshold}`] = s.fractionAbove;
    for (const [n, p] of Object.entries(s.classProbabilities)) out[`Probability ${n}`] = p;
  }
  // no value (e.g. a region wholly on unanalysed cells) = no entry: JSON has no NaN
  for (const k of Object.keys(out)) if (!Number.isFinite(out[k])) delete out[k];
  return out;
}

interface Sidecar {
  format?: string; class?: string; classes?: string[]; origin_px?: number[]; cell_size_px?: number[]; shape?: number[];
  slide?: { mpp?: number[]; sha256?: string; path?: string }; model?: { name?: string; sha256?: string };
  method?: string; layer?: string; signed?: boolean; display_scale?: number;
}

/**
 * Loads a heatmap written by `glassbox analyze` (main/engine/analysis/outputs.ts): the sidecar heatmap[-<class>].json
 * gives the geometry, heatmap[-<class>].npy the values, probabilities.npy the class probabilities (optional).
 * With several maps `className` picks one (a class name or the file's base name); it is required then.
 */
export async function loadHeatmap(dir: string, className?: string): Promise<HeatmapGrid> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new AnnotationError('BAD_INPUT', `heatmap folder ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  const sidecars = names.filter((n) => /^heatmap(-.+)?\.json$/.test(n)).sort();
  if (sidecars.length === 0) throw new AnnotationError('BAD_INPUT', `heatmap folder ${dir}: no heatmap.json (expected what 'glassbox analyze' writes)`);
  const parsed = await Promise.all(sidecars.map(async (n) => {
    try {
      return { n, s: JSON.parse(await readFile(join(dir, n), 'utf8')) as Sidecar };
    } catch (e) {
      throw new AnnotationError('BAD_INPUT', `${join(dir, n)}: not valid JSON (${(e as Error).message})`);
    }
  }));
  let pick = parsed;
  if (className !== undefined) pick = parsed.filter(({ n, s }) => s.class === className || n === `heatmap-${className}.json` || n === className || n === `${className}.json`);
  if (pick.length !== 1) {
    const have = parsed.map(({ n, s }) => `${s.class ?? '?'} (${n})`).join(', ');
    throw new AnnotationError('BAD_INPUT', className === undefined
      ? `heatmap folder ${dir} has ${parsed.length} maps; choose a class: ${have}`
      : `heatmap folder ${dir} has no map for class '${className}'; it has: ${have}`);
  }
  const { n, s } = pick[0];
  const where = join(dir, n);
  const pair = (v: unknown, what: string): [number, number] => {
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new AnnotationError('BAD_INPUT', `${where}: ${what} must be two numbers`);
    return [v[0], v[1]];
  };
  const origin = pair(s.origin_px, 'origin_px');
  const cellSize = pair(s.cell_size_px, 'cell_size_px');
  const shape = pair(s.shape, 'shape');
  if (!(cellSize[0] > 0 && cellSize[1] > 0) || !shape.every((v) => Number.isInteger(v) && v > 0)) throw new AnnotationError('BAD_INPUT', `${where}: cell_size_px must be positive and shape positive integers`);
  const npyPath = where.replace(/\.json$/, '.npy');
  let values: Float32Array;
  try {
    const arr = decodeNpy(new Uint8Array(await readFile(npyPath)), npyPath);
    if (!(arr.data instanceof Float32Array) || arr.dims.length !== 2 || arr.dims[0] !== shape[0] || arr.dims[1] !== shape[1]) {
      throw new Error(`expected float32 ${shape[0]}×${shape[1]} (the sidecar's shape), got ${arr.dims.join('×')}`);
    }
    values = arr.data;
  } catch (e) {
    throw new AnnotationError('BAD_INPUT', `${npyPath}: ${(e as Error).message}`);
  }
  let probabilities: Float32Array | undefined;
  const classNames = Array.isArray(s.classes) ? s.classes.map(String) : undefined;
  if (names.includes('probabilities.npy') && classNames) {
    const pp = join(dir, 'probabilities.npy');
    const arr = decodeNpy(new Uint8Array(await readFile(pp)), pp);
    if (arr.data instanceof Float32Array && arr.dims.length === 3 && arr.dims[0] === shape[0] && arr.dims[1] === shape[1] && arr.dims[2] === classNames.length) {
      probabilities = arr.data;
    }
  }
  const m = s.slide?.mpp;
  const mpp = Array.isArray(m) && m.length === 2 && m.every((v) => typeof v === 'number' && v > 0) ? { x: m[0], y: m[1] } : null;
  return {
    origin, cellSize, shape, values, probabilities, classNames, file: n.replace(/\.json$/, '.npy'), className: s.class ?? n, mpp,
    meta: {
      dir, method: s.method, layer: s.layer, model: s.model?.name, modelSha256: s.model?.sha256, slideSha256: s.slide?.sha256,
      slidePath: s.slide?.path, signed: s.signed, displayScale: s.display_scale,
    },
  };
}

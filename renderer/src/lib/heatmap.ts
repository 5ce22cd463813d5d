/**
 * Heatmap display logic (pure, unit-tested in test/renderer/heatmap.test.ts): colormap lookup tables, the
 * slide-global display scale, display modes (evidence for / against / signed), cell geometry and the
 * device-pixel → cell affine the overlay shader uses, and the resolution advice (a structure must span ≥ 2 map cells).
 */
import type { AnalysisDTO } from '../../../main/contract/analysis.js';
import { clamp01, colormapRgb, type ColormapName } from '../../../main/contract/colormap.js';

export {
  COLORMAPS, SEQUENTIAL_COLORMAPS, colorPosition, colormapLut, colormapRgb, displayValue,
  type ColormapName, type DisplayMode, type DisplayRange,
} from '../../../main/contract/colormap.js';

/** CSS linear-gradient of a colormap (for the legend). */
export function colormapCss(name: ColormapName, stops = 16): string {
  const parts: string[] = [];
  for (let i = 0; i <= stops; i++) {
    const [r, g, b] = colormapRgb(name, i / stops);
    parts.push(`rgb(${r},${g},${b}) ${((i / stops) * 100).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/**
 * The p-quantile of |v| over the finite values of the WHOLE map (one slide-global scale, never per patch),
 * by sorting (a uniform subsample above `maxSamples` cells). 0 when nothing finite.
 */
export function percentileAbs(map: ArrayLike<number>, p = 0.99, maxSamples = 2_000_000): number {
  const n = map.length;
  const step = Math.max(1, Math.ceil(n / maxSamples));
  const vals = new Float32Array(Math.ceil(n / step));
  let m = 0;
  for (let i = 0; i < n; i += step) {
    const v = map[i];
    if (Number.isFinite(v)) vals[m++] = Math.abs(v);
  }
  if (m === 0) return 0;
  const s = vals.subarray(0, m).sort();
  const pos = clamp01(p) * (m - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(m - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** min / max / count of finite values and the count of analysed cells with a negative value. */
export function mapStats(map: ArrayLike<number>): { min: number; max: number; finite: number; negative: number } {
  let min = Infinity, max = -Infinity, finite = 0, negative = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (!Number.isFinite(v)) continue;
    finite++;
    if (v < 0) negative++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min: finite ? min : 0, max: finite ? max : 0, finite, negative };
}

export interface GridGeometry {
  origin: [number, number];
  cellSize: [number, number];
  /** [rows, cols] */
  shape: [number, number];
}

/** The cell [row, col] holding level-0 pixel (x, y), or null outside the grid. */
export function cellAt(g: GridGeometry, x: number, y: number): { row: number; col: number } | null {
  const col = Math.floor((x - g.origin[0]) / g.cellSize[0]);
  const row = Math.floor((y - g.origin[1]) / g.cellSize[1]);
  if (col < 0 || row < 0 || col >= g.shape[1] || row >= g.shape[0]) return null;
  return { row, col };
}

/** Level-0 rectangle of cell [row, col]. */
export function cellRect(g: GridGeometry, row: number, col: number): { x: number; y: number; w: number; h: number } {
  return { x: g.origin[0] + col * g.cellSize[0], y: g.origin[1] + row * g.cellSize[1], w: g.cellSize[0], h: g.cellSize[1] };
}

/** A view rectangle in level-0 px clipped to the slide and rounded outward; null when it misses the slide. */
export function clampViewRect(r: { x: number; y: number; w: number; h: number }, width: number, height: number): { x: number; y: number; w: number; h: number } | null {
  const x0 = Math.max(0, Math.floor(r.x));
  const y0 = Math.max(0, Math.floor(r.y));
  const x1 = Math.min(width, Math.ceil(r.x + r.w));
  const y1 = Math.min(height, Math.ceil(r.y + r.h));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

type Pt = { x: number; y: number };

/**
 * Affine from a WebGL fragment position (device px, origin bottom-left, gl_FragCoord) to continuous cell
 * coordinates (col, row), from where three level-0 points land in the viewer element (CSS px, top-left):
 * e00 = image (0, 0), e10 = image (W, 0), e01 = image (0, H). Covers rotation and flip. Returns
 * [ax, bx, cx, ay, by, cy]: col = ax·fx + bx·fy + cx, row = ay·fx + by·fy + cy. Null when degenerate.
 */
export function fragToCellAffine(
  e00: Pt, e10: Pt, e01: Pt, imageW: number, imageH: number,
  g: Pick<GridGeometry, 'origin' | 'cellSize'>, dpr: number, canvasHeightDevice: number,
): number[] | null {
  // element = e00 + A · image, A = [[a, b], [c, d]]
  const a = (e10.x - e00.x) / imageW, c = (e10.y - e00.y) / imageW;
  const b = (e01.x - e00.x) / imageH, d = (e01.y - e00.y) / imageH;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-30) return null;
  // image = A⁻¹ · (element − e00); element = (fx / dpr, (Hdev − fy) / dpr)
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  // ex = fx/dpr, ey = Hdev/dpr − fy/dpr
  const exFx = 1 / dpr, eyFy = -1 / dpr, eyC = canvasHeightDevice / dpr;
  // image.x = ia·(ex − e00.x) + ib·(ey − e00.y)
  const ixFx = ia * exFx, ixFy = ib * eyFy, ixC = ia * -e00.x + ib * (eyC - e00.y);
  const iyFx = ic * exFx, iyFy = id * eyFy, iyC = ic * -e00.x + id * (eyC - e00.y);
  const [ox, oy] = g.origin;
  const [sx, sy] = g.cellSize;
  return [ixFx / sx, ixFy / sx, (ixC - ox) / sx, iyFx / sy, iyFy / sy, (iyC - oy) / sy];
}

export function applyAffine(m: number[], fx: number, fy: number): { col: number; row: number } {
  return { col: m[0] * fx + m[1] * fy + m[2], row: m[3] * fx + m[4] * fy + m[5] };
}

/**
 * The device-pixel box [x, y, w, h] (gl.scissor order, origin bottom-left) covering grid cells [0, cols] × [0, rows]
 * under the fragment → cell affine, clipped to the canvas; null when the grid is off-screen.
 */
export function gridDeviceBox(m: number[], cols: number, rows: number, width: number, height: number): [number, number, number, number] | null {
  // invert col = a·fx + b·fy + c, row = d·fx + e·fy + f
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!Number.isFinite(det) || det === 0) return null;
  const xs: number[] = [], ys: number[] = [];
  for (const [col, row] of [[0, 0], [cols, 0], [0, rows], [cols, rows]]) {
    const u = col - c, v = row - f;
    xs.push((e * u - b * v) / det);
    ys.push((-d * u + a * v) / det);
  }
  const x0 = Math.max(0, Math.floor(Math.min(...xs))), x1 = Math.min(width, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys))), y1 = Math.min(height, Math.ceil(Math.max(...ys)));
  if (x1 <= x0 || y1 <= y0) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

/** NaN → a large negative sentinel the shader tests for (no reliance on isnan in GLSL). */
export const MISSING = -3.0e38;
export function encodeForTexture(map: ArrayLike<number>, out?: Float32Array): Float32Array {
  const o = out && out.length === map.length ? out : new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    o[i] = Number.isNaN(v) ? MISSING : v;
  }
  return o;
}

/** Channel k of a rows × cols × K interleaved probability array. */
export function probabilityPlane(probs: Float32Array, cells: number, K: number, k: number): Float32Array {
  const out = new Float32Array(cells);
  for (let i = 0; i < cells; i++) out[i] = probs[i * K + k];
  return out;
}

export interface LayerLike {
  name: string;
  stride: number;
}

export interface ResolutionAdvice {
  /** cells the structure spans along one axis */
  cells: number;
  resolvable: boolean;
  smallestUm: number;
  /** plain-language warning when not resolvable (null when fine) */
  warning: string | null;
  /** a layer with a finer stride that would resolve it (or the finest one that is finer), if any */
  suggestion: { name: string; stride: number; cellUm: number; resolves: boolean } | null;
}

/**
 * A structure must span ≥ 2 cells to be resolved. `cellUm` is the current map's cell (largest axis); other
 * layers' cells scale with their stride (cell µm = stride × µm per model input px).
 */
export function resolutionAdvice(structureUm: number, cellUm: number, stride: number, layers: LayerLike[], currentLayer: string | null): ResolutionAdvice {
  const smallestUm = 2 * cellUm;
  const cells = structureUm / cellUm;
  const resolvable = structureUm >= smallestUm;
  if (resolvable || !(structureUm > 0)) return { cells, resolvable: true, smallestUm, warning: null, suggestion: null };
  const umPerStride = cellUm / stride;
  const finer = layers
    .filter((l) => l.stride < stride && l.name !== currentLayer)
    .map((l) => ({ name: l.name, stride: l.stride, cellUm: l.stride * umPerStride }))
    .map((l) => ({ ...l, resolves: structureUm >= 2 * l.cellUm }));
  // prefer the deepest (coarsest) layer that still resolves it; else the finest there is
  const resolving = finer.filter((l) => l.resolves).sort((a, b) => b.stride - a.stride);
  const suggestion = resolving[0] ?? finer.sort((a, b) => a.stride - b.stride)[0] ?? null;
  const f = (v: number) => fmtUm(v);
  let warning = `A ${f(structureUm)} structure spans only ${cells.toFixed(cells < 1 ? 2 : 1)} cell${cells === 1 ? '' : 's'} of ${f(cellUm)}: this map cannot resolve it (it needs ≥ 2 cells, i.e. structures of ${f(smallestUm)} or more).`;
  if (suggestion) {
    warning += suggestion.resolves
      ? ` Layer “${suggestion.name}” (stride ${suggestion.stride}, ${f(suggestion.cellUm)} cells) would resolve it.`
      : ` The finest layer, “${suggestion.name}” (stride ${suggestion.stride}, ${f(suggestion.cellUm)} cells), still would not.`;
  } else {
    warning += ' No layer of this model has a finer stride.';
  }
  return { cells, resolvable: false, smallestUm, warning, suggestion };
}

/** the resolution report as the server gives it (AnalysisDTO.resolution) */
export type ResolutionReport = NonNullable<AnalysisDTO['resolution']>;

/**
 * The resolution report while an analysis still runs (the server reports its own at the end): cell µm from the
 * grid's level-0 cell size × the slide's µm/px, the resampling factor model µm/px ÷ slide µm/px.
 */
export function liveResolution(cellSizePx: [number, number], slideMpp: { x: number; y: number; source: string } | null, modelMpp: number, stride: number | null): ResolutionReport | null {
  if (!slideMpp || !(slideMpp.x > 0) || !(slideMpp.y > 0) || stride === null) return null;
  const cell: [number, number] = [cellSizePx[0] * slideMpp.x, cellSizePx[1] * slideMpp.y];
  return {
    slide_mpp: slideMpp, model_mpp: modelMpp, resample_factor: modelMpp / slideMpp.x, stride,
    cell_size_um: cell, smallest_resolvable_um: 2 * Math.max(cell[0], cell[1]),
  };
}

export function fmtUm(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  const s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1).replace(/\.0$/, '') : a >= 1 ? v.toFixed(2).replace(/\.?0+$/, '') : v.toPrecision(2);
  return `${s} µm`;
}

/** Compact value label for legends and readouts. */
export function fmtValue(v: number): string {
  if (Number.isNaN(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.001) return v.toExponential(2);
  return v.toPrecision(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** "12 s", "3 min 5 s", "1 h 2 min" */
export function fmtDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${t % 60} s`;
  return `${Math.floor(t / 3600)} h ${Math.floor((t % 3600) / 60)} min`;
}

export const METHOD_LABELS: Record<string, string> = {
  gradcam: 'Grad-CAM', hirescam: 'HiResCAM', 'gradcam++': 'Grad-CAM++', xgradcam: 'XGrad-CAM', layercam: 'LayerCAM', eigencam: 'EigenCAM',
};

/**
 * One patch's map as RGBA8, one pixel per cell (drawn blocky: image-rendering pixelated), in the colormap.
 * Unsigned maps: 0 … hi onto the colormap; signed maps: −hi … +hi onto the diverging map centred on zero.
 * NaN cells are transparent. hi ≤ 0 falls back to the map's own max |value|.
 */
export function patchMapRgba(map: ArrayLike<number>, signed: boolean, colormap: ColormapName, hi: number): Uint8ClampedArray {
  let top = hi;
  if (!(top > 0)) {
    top = 0;
    for (let i = 0; i < map.length; i++) if (Number.isFinite(map[i])) top = Math.max(top, Math.abs(map[i]));
    if (top === 0) top = 1;
  }
  const name: ColormapName = signed ? 'diverging' : colormap;
  const out = new Uint8ClampedArray(map.length * 4);
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (!Number.isFinite(v)) continue;
    const t = signed ? 0.5 + 0.5 * (v / top) : v / top;
    const [r, g, b] = colormapRgb(name, t);
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** max |value| over the finite entries (0 when none) */
export function maxAbs(map: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < map.length; i++) if (Number.isFinite(map[i])) m = Math.max(m, Math.abs(map[i]));
  return m;
}

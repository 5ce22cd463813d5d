/**
 * The heatmap as images for other tools.
 *
 * 1. Float TIFF (`writeHeatmapFloatTiff`): float32, one pixel per heatmap cell, the RAW map values (NaN where no
 *    patch was analysed), tiled 256², Deflate, a 2× pyramid whose reduced levels hold the mean of the finite
 *    values of each 2×2 block (NaN only where all four are NaN; odd edges average what exists). X/YResolution =
 *    cells per cm (from the cell size in µm). Its JSON sidecar (<out>.json, also in level 0's ImageDescription)
 *    carries the geometry: cell [r, c] of level 0 covers level-0 slide px origin_px + (c, r)·cell_size_px … +1 cell.
 *
 * 2. Coloured RGBA TIFF (`writeHeatmapRgbaTiff`), for tools that only overlay images: SLIDE-ALIGNED, i.e. it
 *    covers the whole slide (origin at the slide's top-left, transparent where there is no map) at a power-of-two
 *    downsample D of level 0: pixel (i, j) shows level-0 px [i·D, (i+1)·D) × [j·D, (j+1)·D) and the resolution
 *    tags say mpp·D µm/px. Overlaying it is a pure scale (× D) — what ASAP and QuPath do with an overlay of the
 *    same physical size — and no origin bookkeeping. D is the largest power of two ≤ the cell size (so every cell
 *    spans ≥ 1 px and cell edges are within D/2 level-0 px), doubled while the image would exceed 2²⁸ px.
 *    Colours: the paint (colormap, range, threshold, opacity as alpha) at each pixel centre; reduced levels take
 *    their values from the float pyramid level matching their pixel size.
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { HeatmapGrid } from '../annotations/types.js';
import { pyramidSizes, writePyramidTiff } from './tiff-writer.js';
import { sampleGrid, lutOffset, type ValueGrid } from './paint.js';
import { EXPORT_LIMITS, ExportError, type HeatmapPaint } from './types.js';

export const HEATMAP_TIFF_FORMAT = 'glassbox-heatmap-tiff';
const TILE = 256;

/** Mean of the finite values of each 2×2 block (NaN where none). */
export function reduceNanMean(values: Float32Array, rows: number, cols: number): { values: Float32Array; rows: number; cols: number } {
  const r2 = Math.ceil(rows / 2), c2 = Math.ceil(cols / 2);
  const out = new Float32Array(r2 * c2);
  for (let r = 0; r < r2; r++) {
    for (let c = 0; c < c2; c++) {
      let s = 0, n = 0;
      for (let dy = 0; dy < 2; dy++) {
        const y = 2 * r + dy;
        if (y >= rows) break;
        for (let dx = 0; dx < 2; dx++) {
          const x = 2 * c + dx;
          if (x >= cols) break;
          const v = values[y * cols + x];
          if (!Number.isNaN(v)) { s += v; n++; }
        }
      }
      out[r * c2 + c] = n ? s / n : NaN;
    }
  }
  return { values: out, rows: r2, cols: c2 };
}

/** Level 0 and its NaN-aware 2× reductions down to one tile. */
export function floatPyramid(values: Float32Array, rows: number, cols: number, tile = TILE): Array<{ values: Float32Array; rows: number; cols: number }> {
  const out = [{ values, rows, cols }];
  for (let i = 1; i < pyramidSizes(cols, rows, tile).length; i++) {
    const p = out[i - 1];
    out.push(reduceNanMean(p.values, p.rows, p.cols));
  }
  return out;
}

/** The analysis sidecar of a loaded map (heatmap[-class].json beside its .npy), or null when there is none. */
export async function readSidecar(grid: HeatmapGrid): Promise<Record<string, unknown> | null> {
  if (!grid.meta?.dir) return null;
  const name = grid.file.replace(/\.npy$/i, '.json');
  try {
    const j = JSON.parse(await readFile(join(grid.meta.dir, basename(name)), 'utf8'));
    return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const pick = (o: Record<string, unknown> | null, k: string): unknown => (o && k in o ? o[k] : undefined);

function cellUm(grid: HeatmapGrid, side: Record<string, unknown> | null): [number, number] | null {
  const s = pick(side, 'cell_size_um');
  if (Array.isArray(s) && s.length === 2 && s.every((v) => typeof v === 'number' && v > 0)) return [s[0], s[1]];
  return grid.mpp ? [grid.cellSize[0] * grid.mpp.x, grid.cellSize[1] * grid.mpp.y] : null;
}

function finiteRange(v: Float32Array): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i])) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i]; }
  return lo <= hi ? [lo, hi] : null;
}

export interface FloatTiffResult {
  tiff: string;
  sidecar: string;
  bytes: number;
  levels: Array<{ width: number; height: number; downsample: number }>;
  meta: Record<string, unknown>;
}

/** Writes OUT (float32 pyramid) and OUT's sidecar (the .tif/.tiff extension replaced by .json). */
export async function writeHeatmapFloatTiff(grid: HeatmapGrid, out: string, opts: { onProgress?: (done: number, total: number) => void; software?: string; signal?: AbortSignal } = {}): Promise<FloatTiffResult> {
  const [rows, cols] = grid.shape;
  if (grid.values.length !== rows * cols) throw new ExportError('BAD_INPUT', `heatmap ${grid.file}: ${grid.values.length} values for a ${rows}×${cols} grid`);
  const side = await readSidecar(grid);
  const levels = floatPyramid(grid.values, rows, cols);
  const um = cellUm(grid, side);
  const levelInfo = levels.map((l, i) => ({ width: l.cols, height: l.rows, downsample: 2 ** i }));
  const meta: Record<string, unknown> = {
    format: HEATMAP_TIFF_FORMAT,
    format_version: 1,
    values: 'raw map values (float32), not rescaled; NaN = no patch analysed there',
    pixel: 'level 0: one pixel per heatmap cell; cell [row, col] covers level-0 slide px origin_px + [col, row]·cell_size_px to one cell further',
    pyramid: 'each reduced level is the mean of the finite values of a 2×2 block of the level above (NaN where all are NaN)',
    class: grid.className,
    class_index: pick(side, 'class_index'),
    classes: pick(side, 'classes') ?? grid.classNames,
    model: pick(side, 'model') ?? (grid.meta?.model ? { name: grid.meta.model, sha256: grid.meta.modelSha256 } : undefined),
    method: pick(side, 'method') ?? grid.meta?.method,
    layer: pick(side, 'layer') ?? grid.meta?.layer,
    stride: pick(side, 'stride'),
    signed: pick(side, 'signed') ?? grid.meta?.signed,
    origin_px: grid.origin,
    cell_size_px: grid.cellSize,
    cell_size_um: um,
    shape: grid.shape,
    slide: pick(side, 'slide') ?? (grid.meta?.slidePath ? { path: grid.meta.slidePath, sha256: grid.meta.slideSha256 } : undefined),
    value_range: finiteRange(grid.values),
    display_scale: pick(side, 'display_scale') ?? grid.meta?.displayScale,
    levels: levelInfo,
    tile_size: TILE,
    resolution_unit: um ? 'X/YResolution = level-0 pixels (cells) per cm, from cell_size_um' : 'no resolution tags (slide µm/px unknown)',
    source: grid.meta?.dir ? { dir: grid.meta.dir, file: grid.file } : { file: grid.file },
    analysis: side ?? undefined,
  };
  const json = JSON.stringify(meta, null, 2) + '\n';
  const bytes = await writePyramidTiff(out, {
    kind: 'float32',
    levels: levels.map((l, i) => ({ width: l.cols, height: l.rows, resolutionPerCm: um ? [1e4 / (um[0] * 2 ** i), 1e4 / (um[1] * 2 ** i)] : null })),
    tileSize: TILE,
    description: json,
    software: opts.software,
    onProgress: opts.onProgress,
    signal: opts.signal,
    tile: (li, tc, tr) => {
      const L = levels[li];
      const t = new Float32Array(TILE * TILE).fill(NaN);
      const x0 = tc * TILE, y0 = tr * TILE;
      const w = Math.min(TILE, L.cols - x0), h = Math.min(TILE, L.rows - y0);
      for (let y = 0; y < h; y++) t.set(L.values.subarray((y0 + y) * L.cols + x0, (y0 + y) * L.cols + x0 + w), y * TILE);
      return t;
    },
  });
  const sidecar = sidecarPath(out);
  await writeFile(`${sidecar}.partial`, json);
  await rename(`${sidecar}.partial`, sidecar);
  return { tiff: out, sidecar, bytes, levels: levelInfo, meta };
}

export function sidecarPath(tiff: string): string {
  return /\.tiff?$/i.test(tiff) ? tiff.replace(/\.tiff?$/i, '.json') : `${tiff}.json`;
}

/** The RGBA TIFF's downsample: the largest power of two ≤ the smaller cell side, coarser until it fits the limit. */
export function rgbaDownsample(slideW: number, slideH: number, cellSize: [number, number], maxPixels: number = EXPORT_LIMITS.maxRgbaPixels): number {
  let d = 1;
  while (d * 2 <= Math.min(cellSize[0], cellSize[1])) d *= 2;
  while (Math.ceil(slideW / d) * Math.ceil(slideH / d) > maxPixels) d *= 2;
  return d;
}

export interface RgbaTiffResult {
  tiff: string;
  bytes: number;
  downsample: number;
  width: number;
  height: number;
  levels: number;
  /** µm per pixel of level 0 of the TIFF (null: slide µm/px unknown) */
  mpp: [number, number] | null;
}

/**
 * Writes the slide-aligned coloured overlay. `slide`: level-0 size and µm/px of the slide the map belongs to.
 * `downsample`: override D (a power of two ≥ 1).
 */
export async function writeHeatmapRgbaTiff(
  grid: HeatmapGrid, out: string, paint: HeatmapPaint,
  slide: { width: number; height: number; mpp: { x: number; y: number } | null },
  opts: { downsample?: number; onProgress?: (done: number, total: number) => void; software?: string; description?: string; signal?: AbortSignal } = {},
): Promise<RgbaTiffResult> {
  const d = opts.downsample ?? rgbaDownsample(slide.width, slide.height, grid.cellSize);
  if (!(Number.isInteger(Math.log2(d)) && d >= 1)) throw new ExportError('BAD_INPUT', `the RGBA TIFF downsample must be a power of two ≥ 1 (got ${d})`);
  const w0 = Math.ceil(slide.width / d), h0 = Math.ceil(slide.height / d);
  if (w0 * h0 > EXPORT_LIMITS.maxRgbaPixels * 4) throw new ExportError('LIMIT', `a ${w0}×${h0} px RGBA TIFF at downsample ${d} is too large; use a coarser downsample`);
  const sizes = pyramidSizes(w0, h0, TILE);
  const [rows, cols] = grid.shape;
  const pyr = floatPyramid(grid.values, rows, cols);
  const alpha = Math.round(Math.min(1, Math.max(0, paint.opacity)) * 255);
  const mpp: [number, number] | null = slide.mpp ? [slide.mpp.x * d, slide.mpp.y * d] : null;
  const minCell = Math.min(grid.cellSize[0], grid.cellSize[1]);
  const bytes = await writePyramidTiff(out, {
    kind: 'rgba8',
    levels: sizes.map(([w, h], i) => ({ width: w, height: h, resolutionPerCm: mpp ? [1e4 / (mpp[0] * 2 ** i), 1e4 / (mpp[1] * 2 ** i)] : null })),
    tileSize: TILE,
    software: opts.software,
    description: opts.description,
    onProgress: opts.onProgress,
    signal: opts.signal,
    tile: (li, tc, tr) => {
      const ds = d * 2 ** li; // level-0 px per pixel of this level
      // the float level whose cells are the largest not bigger than this level's pixels
      const m = Math.max(0, Math.min(pyr.length - 1, Math.floor(Math.log2(ds / minCell) + 1e-9)));
      const f = 2 ** m;
      const g: ValueGrid = { origin: grid.origin, cellSize: [grid.cellSize[0] * f, grid.cellSize[1] * f], shape: [pyr[m].rows, pyr[m].cols], values: pyr[m].values };
      const t = new Uint8Array(TILE * TILE * 4);
      const [lw, lh] = sizes[li];
      for (let y = 0; y < TILE && tr * TILE + y < lh; y++) {
        const row = ((tr * TILE + y + 0.5) * ds - g.origin[1]) / g.cellSize[1];
        if (!(row >= 0 && row < g.shape[0])) continue;
        for (let x = 0; x < TILE && tc * TILE + x < lw; x++) {
          const col = ((tc * TILE + x + 0.5) * ds - g.origin[0]) / g.cellSize[0];
          const off = lutOffset(paint, sampleGrid(g, col, row, false));
          if (off < 0) continue;
          const p = (y * TILE + x) * 4;
          t[p] = paint.lut[off]; t[p + 1] = paint.lut[off + 1]; t[p + 2] = paint.lut[off + 2]; t[p + 3] = alpha;
        }
      }
      return t;
    },
  });
  return { tiff: out, bytes, downsample: d, width: w0, height: h0, levels: sizes.length, mpp };
}

/**
 * The patch grid at the model's µm/px and the heatmap grid it stitches into (see types.ts for the geometry).
 * Without overlap patches tile the region edge to edge (the WSInfer convention); with overlap F the step is
 * round(cells·(1 − F)) cells, so every patch's cells land exactly on the heatmap grid.
 */
import type { SlideLevel } from '../slide/types.js';
import { AnalysisError, type GridGeometry, type Patch, type Rect } from './types.js';

export interface GridPlan {
  geometry: GridGeometry;
  /** every patch of the grid (tissue not yet known) */
  patches: Patch[];
  /** the overlap actually used: 1 − step/cells */
  overlapUsed: [number, number];
}

/**
 * @param region level-0 rectangle to cover
 * @param patchLevel0 level-0 px per patch [w, h] (patch_size_pixels × model µm/px ÷ slide µm/px)
 * @param cells map cells per patch [w, h] (the target layer's width, height)
 */
export function planGrid(region: Rect, patchLevel0: [number, number], cells: [number, number], overlap: number): GridPlan {
  if (!(overlap >= 0 && overlap < 1)) throw new AnalysisError('BAD_INPUT', `overlap must be in [0, 1) (got ${overlap})`);
  const [cw, ch] = cells;
  const cellSize: [number, number] = [patchLevel0[0] / cw, patchLevel0[1] / ch];
  const stepCells: [number, number] = [Math.max(1, Math.round(cw * (1 - overlap))), Math.max(1, Math.round(ch * (1 - overlap)))];
  const count = (extent: number, patch: number, step: number) => (extent <= patch ? 1 : Math.ceil((extent - patch) / step - 1e-9) + 1);
  const cols = count(region.w, patchLevel0[0], stepCells[0] * cellSize[0]);
  const rows = count(region.h, patchLevel0[1], stepCells[1] * cellSize[1]);
  const geometry: GridGeometry = {
    origin: [region.x, region.y],
    cellSize,
    shape: [(rows - 1) * stepCells[1] + ch, (cols - 1) * stepCells[0] + cw],
    patchSize: [...patchLevel0],
    cellsPerPatch: [cw, ch],
    stepCells,
    patchGrid: [rows, cols],
  };
  const patches: Patch[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const r = patchRect(geometry, row, col);
      patches.push({ index: row * cols + col, row, col, ...r, tissue: 0 });
    }
  }
  return { geometry, patches, overlapUsed: [1 - stepCells[0] / cw, 1 - stepCells[1] / ch] };
}

/** Integer level-0 rectangle of patch (row, col): its exact edges rounded to the nearest pixel. */
export function patchRect(g: GridGeometry, row: number, col: number): Rect {
  const x0 = g.origin[0] + col * g.stepCells[0] * g.cellSize[0];
  const y0 = g.origin[1] + row * g.stepCells[1] * g.cellSize[1];
  const x = Math.round(x0), y = Math.round(y0);
  return { x, y, w: Math.max(1, Math.round(x0 + g.patchSize[0]) - x), h: Math.max(1, Math.round(y0 + g.patchSize[1]) - y) };
}

/**
 * The level to read a patch from: the coarsest level that is not coarser than the model wants (downsample ≤
 * factor), so patches are only ever shrunk to the model's resolution, never enlarged from a coarser level.
 */
export function readLevel(levels: readonly SlideLevel[], factor: number): number {
  let best = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i].downsample <= factor * (1 + 1e-6)) {
    if (levels[i].downsample > levels[best].downsample) best = i;
  }
  return best;
}

/** Clamp a user region to the slide; throws when it lies outside. */
export function clampRegion(r: Rect | undefined, W: number, H: number): Rect {
  if (!r) return { x: 0, y: 0, w: W, h: H };
  for (const [k, v] of Object.entries(r)) if (!Number.isFinite(v) || !Number.isInteger(v)) throw new AnalysisError('BAD_INPUT', `region ${k} must be an integer (got ${v})`);
  if (r.w <= 0 || r.h <= 0) throw new AnalysisError('BAD_INPUT', `region ${r.w}×${r.h} is empty: width and height must be positive`);
  const x0 = Math.max(0, r.x), y0 = Math.max(0, r.y);
  const x1 = Math.min(W, r.x + r.w), y1 = Math.min(H, r.y + r.h);
  if (x1 <= x0 || y1 <= y0) throw new AnalysisError('BAD_INPUT', `region ${r.x},${r.y},${r.w},${r.h} lies outside the slide (${W}×${H} px at level 0)`);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/**
 * Whole-slide analysis: public types. Plain Node; no electron, no contract.
 *
 * Geometry: a model reads `patch_size_pixels` px at `spacing_um_px` µm/px; on a slide of
 * m µm/px a patch covers P·s/m level-0 px. The target layer's map has h×w cells per patch, so one heatmap cell
 * covers (P·s/m)/w level-0 px = (P/w)·s µm = stride × model µm/px. Cell [r, c] of the stitched grid covers level-0
 * pixels x0 + c·cw … x0 + (c+1)·cw by y0 + r·ch … y0 + (r+1)·ch, exactly (cw, ch may be fractional).
 */
import type { CamMethod, ExecutionProviderName } from '../explain/types.js';
import type { MppSource } from '../slide/types.js';

export interface Rect { x: number; y: number; w: number; h: number }

export interface GridGeometry {
  /** level-0 px of the grid's top-left corner */
  origin: [number, number];
  /** level-0 px per heatmap cell [w, h] (may be fractional) */
  cellSize: [number, number];
  /** heatmap grid [rows, cols] */
  shape: [number, number];
  /** level-0 px per patch [w, h] (= cellsPerPatch × cellSize) */
  patchSize: [number, number];
  /** map cells per patch [w, h] (the target layer's width, height) */
  cellsPerPatch: [number, number];
  /** patch step in cells [x, y] (= cellsPerPatch without overlap) */
  stepCells: [number, number];
  /** patch grid [rows, cols] */
  patchGrid: [number, number];
}

export interface Resolution {
  slide_mpp: { x: number; y: number; source: MppSource | 'assumed' } ;
  model_mpp: number;
  /** model µm/px ÷ slide µm/px: > 1 = the slide is read downsampled, < 1 = upsampled */
  resample_factor: number;
  /** the slide level patches are read from, and its downsample */
  read_level: number;
  read_downsample: number;
  /** network stride of the target layer (model input px per map cell) */
  stride: number;
  /** patch px (at the model's µm/px) per map cell: = stride unless the config resizes the patch */
  patch_px_per_cell: number;
  cell_size_um: [number, number];
  /** a structure must span two cells to be resolved */
  smallest_resolvable_um: number;
}

export interface Patch {
  /** index in the patch grid (row-major) */
  index: number;
  row: number;
  col: number;
  /** level-0 rectangle read (integer px) */
  x: number; y: number; w: number; h: number;
  /** tissue fraction of the rectangle (0..1, from the tissue mask) */
  tissue: number;
}

export interface AnalysisSettings {
  /** class indices to explain (one map each) */
  classes: number[];
  method: Exclude<CamMethod, 'saliency'>;
  /** gradcam only: the unrectified Σα·A */
  signed: boolean;
  /** target tensor (default: the package's target_layer, else the engine's default) */
  layer?: string;
  /** patches per inference batch */
  batch: number;
  /** patch overlap fraction 0 ≤ F < 1 (0 = the WSInfer convention: non-overlapping patches) */
  overlap: number;
  /** slide µm/px override (unknown or wrong slide resolution) */
  mpp?: number;
  /** level-0 region to analyse (default: the whole slide) */
  region?: Rect;
  /** minimum tissue fraction for a patch to be analysed (default 0.1) */
  minTissue: number;
  ep: ExecutionProviderName | 'auto';
}

export interface Progress {
  stage: 'tissue' | 'model' | 'analysing' | 'done' | 'cancelled' | 'paused';
  done: number;
  total: number;
  /** patches per second since the analysis stage started (0 before the first batch) */
  rate: number;
  /** seconds left at that rate (null when unknown) */
  eta: number | null;
  elapsed: number;
}

/** One analysed batch: the patches and their per-class maps [n, ch, cw] and probabilities [n, K]. */
export interface BatchResult {
  patches: Patch[];
  maps: Map<number, Float32Array>;
  probabilities: Float32Array;
}

export interface AnalysisResult {
  complete: boolean;
  geometry: GridGeometry;
  resolution: Resolution;
  classNames: string[];
  classes: number[];
  method: AnalysisSettings['method'];
  signed: boolean;
  layer: string;
  provider: ExecutionProviderName;
  fallbackReason?: string;
  /** per class: float32 [rows, cols] raw values, NaN where no patch was analysed */
  heatmaps: Map<number, Float32Array>;
  /** float32 [rows, cols, K] per-cell class probabilities (softmax of the patch logits), NaN where none */
  probabilities: Float32Array;
  /** every analysed patch with its probabilities */
  patches: Array<Patch & { probabilities: number[] }>;
  /** patches with tissue / patches in the grid */
  tissuePatches: number;
  gridPatches: number;
  warnings: string[];
  timing: { tissueMs: number; modelMs: number; analysisMs: number; patchesPerSecond: number; inferenceMs: number };
}

export type AnalysisErrorCode = 'BAD_INPUT' | 'NO_TISSUE' | 'MODEL_MISMATCH' | 'ABORTED';

export class AnalysisError extends Error {
  constructor(public readonly code: AnalysisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AnalysisError';
  }
}

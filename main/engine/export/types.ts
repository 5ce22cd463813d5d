/**
 * Image exports: public types. Plain Node; no electron, no contract. The colour policy (colormap LUT, display
 * mode, range, threshold) and the scale-bar length policy are the viewer's (main/contract/colormap.ts and
 * scalebar.ts); the engine may not import the contract, so its callers hand them in as a HeatmapPaint and a
 * ScaleBarChooser (app/cli/commands/export.ts builds both from the contract).
 */
import type { Geometry, HeatmapGrid, Rgb } from '../annotations/types.js';

export type { Geometry, HeatmapGrid, Rgb };

/** How a heatmap value becomes a colour: the overlay shader's arithmetic, on the CPU. */
export interface HeatmapPaint {
  /** 256 × RGBA8 colormap lookup table (main/contract/colormap.ts colormapLut) */
  lut: Uint8Array;
  /** position 0…1 on the colormap of a raw map value, or null when hidden (NaN, below the threshold) */
  position: (value: number) => number | null;
  /** 0…1: colour·opacity + slide·(1 − opacity), as the viewer blends */
  opacity: number;
  /** bilinear interpolation of the VALUES between cell centres, leaving out NaN neighbours (the viewer's default) */
  smooth: boolean;
}

export interface ScaleBarChoice {
  /** the bar's length in the chooser's unit (µm; level-0 px when the slide's µm/px is unknown) */
  lengthUm: number;
  /** the bar's width in output pixels */
  widthPx: number;
  label: string;
}

/** main/contract/scalebar.ts chooseScaleBar: the largest 1-2-5 length whose width is ≤ maxWidthPx */
export type ScaleBarChooser = (unitsPerPx: number, maxWidthPx: number) => ScaleBarChoice | null;

export type ExportErrorCode = 'BAD_INPUT' | 'OUT_OF_SLIDE' | 'LIMIT';

export class ExportError extends Error {
  constructor(public readonly code: ExportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExportError';
  }
}

/** Limits that keep an export's memory bounded (a crop is held in memory while it is composed). */
export const EXPORT_LIMITS = {
  /** output crop pixels per side / in all */
  maxCropSide: 30_000,
  maxCropPixels: 100_000_000,
  /** slide pixels read for one crop before resampling (read in bands of at most 64 Mpx each) */
  maxReadPixels: 128 * 2 ** 20,
  /** the finest output: level-0 px per output px (4× upsampling) */
  minDownsample: 0.25,
  /** the coloured heatmap TIFF's level 0 is made coarser until it has at most this many pixels */
  maxRgbaPixels: 2 ** 28,
} as const;

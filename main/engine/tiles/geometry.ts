/**
 * Deep Zoom geometry (the layout OpenSeadragon, `vips dzsave` and OpenSlide's DeepZoomGenerator use):
 * levels 0..ceil(log2(max(w,h))); level L is the full image shrunk by 2^(maxLevel-L), rounding up;
 * tiles of `tileSize` with `overlap` pixels repeated on each inner edge; edge tiles are smaller.
 */
import type { SlideLevel } from '../slide/types.js';
import { SlideError } from '../slide/types.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DzLevel {
  width: number;
  height: number;
  cols: number;
  rows: number;
  /** level-0 pixels per pixel of this level (a power of two) */
  downsample: number;
}

export const DEFAULT_TILE_SIZE = 254;
export const DEFAULT_OVERLAP = 1;

export class DeepZoomGeometry {
  readonly maxLevel: number;
  readonly levels: DzLevel[];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly tileSize = DEFAULT_TILE_SIZE,
    readonly overlap = DEFAULT_OVERLAP,
  ) {
    for (const [k, v] of Object.entries({ width, height, tileSize })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Deep Zoom: ${k} must be a positive integer (got ${v})`);
    }
    if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tileSize) {
      throw new RangeError(`Deep Zoom: overlap must be an integer in 0..${tileSize - 1} (got ${overlap})`);
    }
    let max = 0;
    while (2 ** max < Math.max(width, height)) max++;
    this.maxLevel = max;
    this.levels = [];
    for (let l = 0; l <= max; l++) {
      const downsample = 2 ** (max - l);
      const w = Math.ceil(width / downsample);
      const h = Math.ceil(height / downsample);
      this.levels.push({ width: w, height: h, cols: Math.ceil(w / tileSize), rows: Math.ceil(h / tileSize), downsample });
    }
  }

  get levelCount(): number {
    return this.levels.length;
  }

  has(level: number, col: number, row: number): boolean {
    const l = this.levels[level];
    return !!l && Number.isInteger(level) && Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < l.cols && row < l.rows;
  }

  /** Throws OUT_OF_RANGE unless (level, col, row) is a tile of this pyramid. */
  check(level: number, col: number, row: number): DzLevel {
    if (!this.has(level, col, row)) {
      const l = this.levels[level];
      throw new SlideError(
        'OUT_OF_RANGE',
        l
          ? `Deep Zoom tile ${col}_${row} is outside level ${level} (${l.cols}×${l.rows} tiles)`
          : `Deep Zoom level ${level} does not exist (levels 0..${this.maxLevel})`,
      );
    }
    return this.levels[level];
  }

  /** The tile's pixels in its level's coordinates, overlap included, clipped to the level. */
  tileRect(level: number, col: number, row: number): Rect {
    const l = this.check(level, col, row);
    const ts = this.tileSize;
    const ov = this.overlap;
    const x = col * ts - (col > 0 ? ov : 0);
    const y = row * ts - (row > 0 ? ov : 0);
    const x1 = Math.min(l.width, (col + 1) * ts + (col < l.cols - 1 ? ov : 0));
    const y1 = Math.min(l.height, (row + 1) * ts + (row < l.rows - 1 ? ov : 0));
    return { x, y, w: x1 - x, h: y1 - y };
  }

  /** The `.dzi` descriptor. */
  xml(format = 'jpeg'): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="${format}" Overlap="${this.overlap}" TileSize="${this.tileSize}">\n` +
      `  <Size Width="${this.width}" Height="${this.height}"/>\n` +
      '</Image>\n'
    );
  }
}

/**
 * OpenSlide's get_best_level_for_downsample: the lowest-resolution slide level whose downsample is
 * ≤ `downsample` (level 0 when even that is larger). A relative 1e-9 absorbs float noise only.
 */
export function bestLevelForDownsample(levels: readonly Pick<SlideLevel, 'downsample'>[], downsample: number): number {
  let best = 0;
  for (let i = 1; i < levels.length; i++) {
    if (levels[i].downsample <= downsample * (1 + 1e-9)) best = i;
    else break;
  }
  return best;
}

/** Native tile grid of a slide level. */
export function nativeGrid(level: SlideLevel): { cols: number; rows: number } {
  return { cols: Math.ceil(level.width / level.tileWidth), rows: Math.ceil(level.height / level.tileHeight) };
}

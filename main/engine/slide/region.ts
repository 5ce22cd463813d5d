/**
 * OpenSlide read_region over a level's tile grid: (x, y) in level-0 pixels, w×h pixels at the level,
 * white (255,255,255) outside the slide. Decoded tiles are kept in the slide's namespace of the one shared byte
 * cache (main/base/cache.ts) so that neighbouring regions (and other engines reading the same slide) do not
 * decode the same tile twice.
 *
 * Off-grid origins: at a level whose downsample does not divide x (or y), the region starts at a fractional
 * level coordinate x/ds. OpenSlide paints the tiles through cairo translated by that fraction, i.e. pixman's
 * bilinear filter with 7-bit weights; we do the same (bilinearAt below) rather than flooring the
 * coordinate, so off-grid regions match OpenSlide's (test/slides/openslide.test.ts "off-grid").
 */
import { SlideError, type RgbImage } from './types.js';
import { LIMITS, throwIfAborted } from '../tiff/index.js';
import type { LevelSource } from './levels.js';
import type { CacheNamespace } from '../../base/cache.js';

const PARALLEL = 8;

export async function readRegionFrom(
  path: string, l: LevelSource, level: number, downsample: number,
  x: number, y: number, w: number, h: number, cache: CacheNamespace, signal?: AbortSignal,
): Promise<RgbImage> {
  if (![x, y].every(Number.isFinite) || !Number.isInteger(w) || !Number.isInteger(h) || w < 0 || h < 0) {
    throw new SlideError('OUT_OF_RANGE', `${path}: invalid region x=${x} y=${y} w=${w} h=${h} (w, h must be integers ≥ 0)`);
  }
  if (w * h > LIMITS.maxRegionPixels) {
    throw new SlideError('LIMIT', `${path}: region ${w}×${h} px exceeds the ${LIMITS.maxRegionPixels}-pixel limit`);
  }
  // level coordinates of the region's top-left (the epsilon absorbs float noise in x / downsample)
  const lx = Math.floor(x / downsample + 1e-6), ly = Math.floor(y / downsample + 1e-6);
  const fx = Math.max(0, x / downsample - lx), fy = Math.max(0, y / downsample - ly);
  // pixman's bilinear weights: 7 bits, truncated
  const dx = Math.floor(fx * 128 + 1e-6) & 127, dy = Math.floor(fy * 128 + 1e-6) & 127;
  if (dx === 0 && dy === 0) return readLevelRect(path, l, level, lx, ly, w, h, cache, signal);
  const src = await readLevelRect(path, l, level, lx, ly, w + 1, h + 1, cache, signal);
  return { data: bilinearAt(src.data, w + 1, w, h, dx, dy), width: w, height: h };
}

/**
 * out(i, j) = the 2×2 neighbourhood at (i, j) of `src` (stride srcW, RGB) weighted by 7-bit fractions
 * dx, dy (0..127), as pixman's bilinear filter computes it: (Σ v·wx·wy) >> 14.
 */
export function bilinearAt(src: Uint8Array, srcW: number, w: number, h: number, dx: number, dy: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const w00 = (128 - dx) * (128 - dy), w10 = dx * (128 - dy), w01 = (128 - dx) * dy, w11 = dx * dy;
  const row = srcW * 3;
  for (let j = 0; j < h; j++) {
    let si = j * row, di = j * w * 3;
    for (let i = 0; i < w * 3; i++, si++, di++) {
      out[di] = (src[si] * w00 + src[si + 3] * w10 + src[si + row] * w01 + src[si + row + 3] * w11) >> 14;
    }
  }
  return out;
}

/** The level-coordinate rectangle (lx, ly, w, h), white outside the level. */
async function readLevelRect(
  path: string, l: LevelSource, level: number, lx: number, ly: number, w: number, h: number,
  cache: CacheNamespace, signal?: AbortSignal,
): Promise<RgbImage> {
  const what = `${path}: readRegion`;
  const out = await assembleLevelRect(l, lx, ly, w, h, (c, r) =>
    // a shared load: one caller's abort ends only its own wait; the read stops once no caller waits for it
    cache.load(`${level}/${c}/${r}`, (sig) => l.readTile(c, r, sig), signal).catch((e: unknown) => {
      throwIfAborted(signal, what); // this caller aborted: SlideError ABORTED as before
      throw e;
    }), { signal, what });
  throwIfAborted(signal, what);
  return out;
}

/** a level's size and tile grid */
export interface TileGrid {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * The one tile assembly of the engine: the level-coordinate rectangle (lx, ly, w, h) of a tiled level, from its tiles
 * (`tile(col, row)` gives the decoded tile: full grid size, or shorter at the level's edges). White (255) outside
 * the level and wherever a tile has no pixels. At most `parallel` tiles are loaded at once (default 8).
 */
export async function assembleLevelRect(
  grid: TileGrid, lx: number, ly: number, w: number, h: number,
  tile: (col: number, row: number) => Promise<RgbImage>,
  opts: { parallel?: number; signal?: AbortSignal; what?: string } = {},
): Promise<RgbImage> {
  const out = new Uint8Array(w * h * 3).fill(255);
  const x0 = Math.max(lx, 0), y0 = Math.max(ly, 0);
  const x1 = Math.min(lx + w, grid.width), y1 = Math.min(ly + h, grid.height);
  if (x0 >= x1 || y0 >= y1) return { data: out, width: w, height: h };
  const c0 = Math.floor(x0 / grid.tileWidth), c1 = Math.floor((x1 - 1) / grid.tileWidth);
  const r0 = Math.floor(y0 / grid.tileHeight), r1 = Math.floor((y1 - 1) / grid.tileHeight);
  const jobs: Array<[number, number]> = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) jobs.push([c, r]);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [c, r] = jobs[next++];
      throwIfAborted(opts.signal, opts.what ?? 'region read');
      const t = await tile(c, r);
      // intersection of this tile with the region, in level coordinates
      const tx = c * grid.tileWidth, ty = r * grid.tileHeight;
      const ix0 = Math.max(x0, tx), iy0 = Math.max(y0, ty);
      const ix1 = Math.min(x1, tx + Math.min(t.width, grid.tileWidth)), iy1 = Math.min(y1, ty + Math.min(t.height, grid.tileHeight));
      if (ix0 >= ix1) continue;
      const rowBytes = (ix1 - ix0) * 3;
      for (let yy = iy0; yy < iy1; yy++) {
        const si = ((yy - ty) * t.width + (ix0 - tx)) * 3;
        out.set(t.data.subarray(si, si + rowBytes), ((yy - ly) * w + (ix0 - lx)) * 3);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallel ?? PARALLEL, jobs.length) }, worker));
  return { data: out, width: w, height: h };
}

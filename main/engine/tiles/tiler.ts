/**
 * Tiles of one open slide: Deep Zoom tiles (any tile size / overlap), native-level tiles, associated
 * images and PNG regions. JPEG pass-through where a served tile is exactly a file tile; otherwise
 * read → resample (lanczos3) → JPEG. Results go through the shared TileCache.
 */
import type { RgbImage, Slide } from '../slide/types.js';
import { SlideError } from '../slide/types.js';
import { throwIfAborted } from '../../base/abort.js';
import { TileCache } from './cache.js';
import { DEFAULT_QUALITY, cropJpeg, encodeJpeg, encodePng, resizeToJpeg } from './codec.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE_SIZE, DeepZoomGeometry, bestLevelForDownsample, nativeGrid } from './geometry.js';
import { RegionReader, type RegionReaderOptions } from './region.js';
import { LEVEL_TOLERANCE, LevelPixels, sourceRect } from './virtual.js';

export interface TilerOptions extends RegionReaderOptions {
  /**
   * Deep Zoom tile size (default 254, as OpenSlide's DeepZoomGenerator). 'native': the file's own square
   * level-0 tile size (64..1024, JPEG only) with overlap 0, so base-level tiles are JPEG pass-through; falls back to
   * 254/1 when the file's tiles are not square JPEG.
   */
  tileSize?: number | 'native';
  /** overlap (default 1; 0 with tileSize 'native') */
  overlap?: number;
  /** JPEG quality of re-encoded tiles (default 85) */
  quality?: number;
}

/** Largest region a single request may ask for (pixels). */
export const MAX_REGION_PIXELS = 64 * 2 ** 20;
export const MAX_REGION_SIDE = 16384;

export class SlideTiler {
  readonly geometry: DeepZoomGeometry;
  readonly quality: number;
  readonly region: RegionReader;
  /** Deep Zoom level pixels, virtual levels included (cached blocks) */
  readonly pixels: LevelPixels;
  /** counters, for tests and the bench */
  readonly stats = { passThrough: 0, encoded: 0 };

  constructor(
    readonly slide: Slide,
    readonly cache: TileCache,
    /** unique per open slide; prefix of its cache keys */
    readonly key: string,
    opts: TilerOptions = {},
  ) {
    const p = slide.properties;
    const { tileSize, overlap } = resolveTileConfig(slide, opts);
    this.geometry = new DeepZoomGeometry(p.width, p.height, tileSize, overlap);
    this.quality = opts.quality ?? DEFAULT_QUALITY;
    if (!Number.isInteger(this.quality) || this.quality < 1 || this.quality > 100) throw new RangeError(`JPEG quality must be 1..100 (got ${this.quality})`);
    this.region = new RegionReader(slide, { cache: cache.store, ...opts });
    this.pixels = new LevelPixels(slide, this.geometry, this.region, cache.store.namespace('levels'));
  }

  dziXml(): string {
    return this.geometry.xml('jpeg');
  }

  /** Slide level whose pixels Deep Zoom level `level` shows (read directly, or through virtual levels built from it). */
  slideLevelFor(level: number): number {
    const l = this.geometry.levels[level];
    if (!l) throw new SlideError('OUT_OF_RANGE', `Deep Zoom level ${level} does not exist (levels 0..${this.geometry.maxLevel})`);
    return bestLevelForDownsample(this.slide.properties.levels, l.downsample * (1 + LEVEL_TOLERANCE));
  }

  /** Deep Zoom levels the file has no level within 2× for: made by halving the next finer level */
  virtualLevels(): number[] {
    return this.pixels.plan.flatMap((p, i) => (p.kind === 'virtual' ? [i] : []));
  }

  async dziTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array> {
    this.geometry.check(level, col, row);
    return this.cache.get(`${this.key}|dz|${level}|${col}|${row}`, (sig) => this.computeDziTile(level, col, row, sig), signal);
  }

  private async computeDziTile(level: number, col: number, row: number, signal: AbortSignal): Promise<Uint8Array> {
    const g = this.geometry;
    const dz = g.levels[level];
    const rect = g.tileRect(level, col, row);
    const d = dz.downsample;
    const plan = this.pixels.plan[level];
    if (plan.kind === 'virtual') {
      // no slide level within 2×: the next finer Deep Zoom level halved (cached blocks)
      const img = await this.pixels.read(level, rect, signal);
      throwIfAborted(signal, 'tile encode');
      this.stats.encoded++;
      return this.encode(img);
    }
    const s = plan.slideLevel;
    if (plan.exact) {
      // this Deep Zoom level IS slide level s: no resampling
      const SL = this.slide.properties.levels[s];
      if (g.overlap === 0 && g.tileSize === SL.tileWidth && g.tileSize === SL.tileHeight) {
        const enc = await this.slide.readEncodedTile(s, col, row, signal);
        if (enc) {
          if (enc.width === rect.w && enc.height === rect.h) {
            this.stats.passThrough++;
            return enc.bytes;
          }
          this.stats.encoded++;
          return cropJpeg(enc.bytes, rect.w, rect.h, this.quality);
        }
      }
      const img = await this.region.read(s, rect.x, rect.y, rect.w, rect.h, rect.x * d, rect.y * d, signal);
      throwIfAborted(signal, 'tile encode');
      this.stats.encoded++;
      return this.encode(img);
    }
    // resample from slide level s, at most 2× finer (OpenSlide DeepZoomGenerator: clamp the read to the level, scale to the tile)
    const src = sourceRect(this.slide, s, d, rect);
    const img = await this.region.read(s, src.x, src.y, src.w, src.h, src.x0, src.y0, signal);
    throwIfAborted(signal, 'tile resample');
    this.stats.encoded++;
    return resizeToJpeg(img, rect.w, rect.h, this.quality);
  }

  private encode(img: RgbImage): Promise<Uint8Array> {
    return this.region.opts.pool ? this.region.opts.pool.encode(img.data, img.width, img.height, this.quality) : encodeJpeg(img, this.quality);
  }

  /** Native tile (col,row) of slide level `level` as JPEG, cropped to the level's bounds. */
  async nativeTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array> {
    const L = this.slide.properties.levels[level];
    if (!L || !Number.isInteger(level)) throw new SlideError('OUT_OF_RANGE', `slide level ${level} does not exist (levels 0..${this.slide.properties.levels.length - 1})`);
    const { cols, rows } = nativeGrid(L);
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= cols || row >= rows) {
      throw new SlideError('OUT_OF_RANGE', `native tile ${col}_${row} is outside level ${level} (${cols}×${rows} tiles)`);
    }
    return this.cache.get(
      `${this.key}|nt|${level}|${col}|${row}`,
      async (sig) => {
        const vw = Math.min(L.tileWidth, L.width - col * L.tileWidth);
        const vh = Math.min(L.tileHeight, L.height - row * L.tileHeight);
        const enc = await this.slide.readEncodedTile(level, col, row, sig);
        if (enc) {
          if (enc.width === vw && enc.height === vh) {
            this.stats.passThrough++;
            return enc.bytes;
          }
          this.stats.encoded++;
          return cropJpeg(enc.bytes, vw, vh, this.quality);
        }
        const img = await this.slide.readTile(level, col, row, sig);
        throwIfAborted(sig, 'tile encode');
        this.stats.encoded++;
        return encodeJpeg(img, this.quality);
      },
      signal,
    );
  }

  async associated(name: string, signal?: AbortSignal): Promise<Uint8Array> {
    if (!this.slide.properties.associatedImages.includes(name)) {
      const have = this.slide.properties.associatedImages;
      throw new SlideError('NOT_FOUND', `no associated image '${name}' (this slide has: ${have.length ? have.join(', ') : 'none'})`);
    }
    return this.cache.get(`${this.key}|as|${name}`, async (sig) => encodeJpeg(await this.slide.readAssociated(name, sig), this.quality), signal);
  }

  /** OpenSlide read_region as PNG (not cached). */
  async regionPng(x: number, y: number, level: number, w: number, h: number, signal?: AbortSignal): Promise<Uint8Array> {
    return encodePng(await this.readRegion(x, y, level, w, h, signal));
  }

  async readRegion(x: number, y: number, level: number, w: number, h: number, signal?: AbortSignal): Promise<RgbImage> {
    checkRegion(this.slide, x, y, level, w, h);
    return this.slide.readRegion(x, y, level, w, h, signal);
  }

  dispose(): void {
    this.cache.evictPrefix(`${this.key}|`);
    this.region.clear();
    this.pixels.dispose();
  }
}

export function resolveTileConfig(slide: Slide, opts: Pick<TilerOptions, 'tileSize' | 'overlap'>): { tileSize: number; overlap: number } {
  if (opts.tileSize === 'native') {
    const L0 = slide.properties.levels[0];
    const jpeg = slide.properties.compression === 'jpeg'; // only JPEG tiles can pass through
    if (jpeg && L0 && L0.tileWidth === L0.tileHeight && L0.tileWidth >= 64 && L0.tileWidth <= 1024) return { tileSize: L0.tileWidth, overlap: opts.overlap ?? 0 };
    return { tileSize: DEFAULT_TILE_SIZE, overlap: opts.overlap ?? DEFAULT_OVERLAP };
  }
  return { tileSize: opts.tileSize ?? DEFAULT_TILE_SIZE, overlap: opts.overlap ?? DEFAULT_OVERLAP };
}

export function checkRegion(slide: Slide, x: number, y: number, level: number, w: number, h: number): void {
  const n = slide.properties.levels.length;
  if (!Number.isInteger(level) || level < 0 || level >= n) throw new SlideError('OUT_OF_RANGE', `slide level ${level} does not exist (levels 0..${n - 1})`);
  if (!Number.isInteger(x) || !Number.isInteger(y)) throw new SlideError('OUT_OF_RANGE', `region origin must be integers (got ${x},${y})`);
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new SlideError('OUT_OF_RANGE', `region size must be positive integers (got ${w}×${h})`);
  if (w > MAX_REGION_SIDE || h > MAX_REGION_SIDE || w * h > MAX_REGION_PIXELS) {
    throw new SlideError('LIMIT', `region ${w}×${h} is too large (at most ${MAX_REGION_SIDE} per side and ${MAX_REGION_PIXELS} pixels)`);
  }
}

/**
 * Level-coordinate region reads for the tiler. When the slide can hand out its native tiles as JPEG
 * (`readEncodedTile`), the tiles are decoded with libjpeg-turbo through sharp (native, multi-threaded)
 * and kept in the shared byte cache (main/base/cache.ts, namespace 'decoded'), so the overlapping Deep Zoom tiles
 * that share a file tile decode it once. Otherwise, the slide's own `readRegion` is used.
 */
import type { EncodedTile, RgbImage, Slide } from '../slide/types.js';
import { SlideError } from '../slide/types.js';
import { sharedCache, type ByteCache, type CacheNamespace } from '../../base/cache.js';
import { throwIfAborted } from '../../base/abort.js';
import { decodeToRgb } from './codec.js';
import { decodeTileStack } from '../tiff/image-codec.mjs';
import { assembleLevelRect } from '../slide/region.js';
import type { CodecPool } from './codec-pool.js';

/** native tiles of a row decoded in one call (the requested one and the next ones not decoded yet) */
export const RUN = 4;

export interface RegionReaderOptions {
  /** where decoded tiles are kept (default: the process-wide shared cache; SlideTiler passes its TileCache's) */
  cache?: ByteCache;
  /** 'auto' decodes pass-through JPEG tiles with sharp where the slide offers them; 'slide' always uses slide.readRegion */
  decoder?: 'auto' | 'slide';
  /** worker threads for JPEG decode (optional; default: decode on this thread) */
  pool?: CodecPool;
}

export class RegionReader {
  private readonly decoded: CacheNamespace;
  private readonly encodedOk = new Map<number, Promise<boolean>>();
  /** tiles being decoded as part of another tile's run */
  private readonly pending = new Map<string, Promise<RgbImage>>();

  constructor(
    private readonly slide: Slide,
    readonly opts: RegionReaderOptions = {},
  ) {
    this.decoded = (opts.cache ?? sharedCache()).namespace('decoded');
  }

  /** Whether level `level` serves its tiles as pass-through JPEG (probed once per level). */
  hasEncodedTiles(level: number, signal?: AbortSignal): Promise<boolean> {
    if (this.opts.decoder === 'slide') return Promise.resolve(false);
    let p = this.encodedOk.get(level);
    if (!p) {
      p = this.slide.readEncodedTile(level, 0, 0, signal).then(
        (t) => t !== null,
        () => false,
      );
      this.encodedOk.set(level, p);
      p.then((ok) => {
        if (!ok && signal?.aborted) this.encodedOk.delete(level); // an aborted probe says nothing
      });
    }
    return p;
  }

  /** One native tile decoded to RGB (full encoded size; callers crop). */
  decodedTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<RgbImage> {
    const key = `${level}/${col}/${row}`;
    const pending = this.pending.get(key);
    if (pending && !this.decoded.has(key)) return pending;
    return this.decoded.load(key, () => this.decodeRun(level, col, row), signal);
  }

  /**
   * Tile (col, row) decoded together with the next tiles of its row that are not decoded yet (at most RUN in all):
   * one decode call for the run (libvips reads it as one tiled image: ~0.4 ms a tile against ~2 ms for a call per
   * tile). A region or a view reads rows of neighbouring tiles, so the next ones are usually wanted next; the others
   * wait in the cache, and a concurrent request for one of them waits for the run. The run ends where a request
   * abort would (it is a few milliseconds) — every waiter gets its tile.
   */
  private async decodeRun(level: number, col: number, row: number): Promise<RgbImage> {
    const L = this.slide.properties.levels[level];
    const cols = [col];
    for (let c = col + 1; c < Math.min(col + RUN, Math.ceil(L.width / L.tileWidth)); c++) {
      const k = `${level}/${c}/${row}`;
      if (this.decoded.has(k) || this.pending.has(k)) break;
      cols.push(c);
    }
    const tiles = this.decodeTiles(level, cols, row);
    cols.slice(1).forEach((c, i) => {
      const k = `${level}/${c}/${row}`;
      const p = tiles[i + 1].then((img) => {
        this.decoded.set(k, img);
        return img;
      });
      p.catch(() => undefined).finally(() => this.pending.delete(k));
      this.pending.set(k, p);
    });
    return tiles[0];
  }

  /** the tiles of `cols` (one row): decoded as one run where they allow it, else (or when the run fails) each alone */
  private decodeTiles(level: number, cols: number[], row: number): Promise<RgbImage>[] {
    // each tile's bytes are read once, for the run and (when it cannot be one) for the tile alone
    const encs = cols.map((c) => this.slide.readEncodedTile(level, c, row));
    const run = cols.length > 1 ? this.decodeAsRun(encs) : Promise.resolve(null);
    return cols.map((c, i) => {
      const alone = () => this.decodeOne(level, c, row, encs[i]);
      return run.then((imgs) => imgs?.[i] ?? alone(), alone);
    });
  }

  private async decodeOne(level: number, col: number, row: number, encoded: Promise<EncodedTile | null>): Promise<RgbImage> {
    const enc = await encoded;
    if (!enc) return this.slide.readTile(level, col, row);
    return this.opts.pool ? this.opts.pool.decode(enc.bytes) : decodeToRgb(enc.bytes);
  }

  /** null when the tiles are not all JPEG of one size and sampling */
  private async decodeAsRun(encoded: Promise<EncodedTile | null>[]): Promise<RgbImage[] | null> {
    const encs = await Promise.all(encoded);
    if (!encs.every((e) => e)) return null;
    const jpegs = encs.map((e) => e!.bytes);
    // stacked: every tile's pixels are contiguous in the result, so each tile is a view (no copy)
    const stack = this.opts.pool ? await this.opts.pool.decodeTileStack(jpegs) : await decodeTileStack(jpegs);
    if (!stack) return null;
    const n = stack.width * stack.height * 3;
    return encs.map((_, i) => ({ data: stack.data.subarray(i * n, (i + 1) * n), width: stack.width, height: stack.height }));
  }

  /**
   * w×h pixels of slide level `level` starting at level coordinates (lx, ly); pixels outside the level
   * are white. `x0`,`y0` are the same origin in level-0 coordinates (used for slide.readRegion).
   */
  async read(level: number, lx: number, ly: number, w: number, h: number, x0: number, y0: number, signal?: AbortSignal): Promise<RgbImage> {
    throwIfAborted(signal, 'region read');
    if (!(await this.hasEncodedTiles(level, signal))) return this.slide.readRegion(x0, y0, level, w, h, signal);
    const L = this.slide.properties.levels[level];
    if (!L) throw new SlideError('OUT_OF_RANGE', `level ${level} does not exist`);
    // every tile at once: the decodes run off this thread (libvips' threads, or the codec pool's workers)
    return assembleLevelRect(L, lx, ly, w, h, (c, r) => this.decodedTile(level, c, r, signal), { parallel: Infinity, signal });
  }

  /** Drops the decoded tiles (the tiler's slide closed); later decodes are not kept. */
  clear(): void {
    this.decoded.dispose();
  }
}

/**
 * Level-coordinate region reads for the tiler. When the slide can hand out its native tiles as JPEG
 * (`readEncodedTile`), the tiles are decoded with libjpeg-turbo through sharp (native, multi-threaded)
 * and kept in the shared byte cache (main/base/cache.ts, namespace 'decoded'), so the overlapping Deep Zoom tiles
 * that share a file tile decode it once. Otherwise, the slide's own `readRegion` is used.
 */
import type { RgbImage, Slide } from '../slide/types.js';
import { SlideError } from '../slide/types.js';
import { sharedCache, type ByteCache, type CacheNamespace } from '../../base/cache.js';
import { throwIfAborted } from '../../base/abort.js';
import { decodeToRgb } from './codec.js';
import { assembleLevelRect } from '../slide/region.js';
import type { CodecPool } from './codec-pool.js';

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
    return this.decoded.load(
      `${level}/${col}/${row}`,
      async (sig) => {
        const enc = await this.slide.readEncodedTile(level, col, row, sig);
        throwIfAborted(sig, 'tile decode');
        return enc ? await (this.opts.pool ? this.opts.pool.decode(enc.bytes) : decodeToRgb(enc.bytes)) : await this.slide.readTile(level, col, row, sig);
      },
      signal,
    );
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
    // every tile at once: the decodes run in the codec pool's workers
    return assembleLevelRect(L, lx, ly, w, h, (c, r) => this.decodedTile(level, c, r, signal), { parallel: Infinity, signal });
  }

  /** Drops the decoded tiles (the tiler's slide closed); later decodes are not kept. */
  clear(): void {
    this.decoded.dispose();
  }
}

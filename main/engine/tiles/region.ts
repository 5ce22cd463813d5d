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
import { blit, decodeToRgb, whiteImage } from './codec.js';
import { nativeGrid } from './geometry.js';
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
    const { cols, rows } = nativeGrid(L);
    const tw = L.tileWidth;
    const th = L.tileHeight;
    // visible part of the request inside the level
    const vx0 = Math.max(0, lx);
    const vy0 = Math.max(0, ly);
    const vx1 = Math.min(L.width, lx + w);
    const vy1 = Math.min(L.height, ly + h);
    // fully inside the level: every byte is overwritten, so skip the zero fill
    const out = vx0 >= vx1 || vy0 >= vy1 || vx0 > lx || vy0 > ly || vx1 < lx + w || vy1 < ly + h ? whiteImage(w, h) : { data: Buffer.allocUnsafe(w * h * 3), width: w, height: h };
    if (vx0 >= vx1 || vy0 >= vy1) return out;
    const c0 = Math.floor(vx0 / tw);
    const c1 = Math.min(cols - 1, Math.floor((vx1 - 1) / tw));
    const r0 = Math.floor(vy0 / th);
    const r1 = Math.min(rows - 1, Math.floor((vy1 - 1) / th));
    const jobs: Promise<void>[] = [];
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        jobs.push(
          this.decodedTile(level, c, r, signal).then((tile) => {
            const tx = c * tw;
            const ty = r * th;
            const ix0 = Math.max(vx0, tx);
            const iy0 = Math.max(vy0, ty);
            const ix1 = Math.min(vx1, tx + tw, tx + tile.width);
            const iy1 = Math.min(vy1, ty + th, ty + tile.height);
            const ex1 = Math.min(vx1, tx + tw);
            const ey1 = Math.min(vy1, ty + th);
            if (ix1 < ex1 || iy1 < ey1) {
              // a tile shorter than its grid cell: white where it has no pixels (never uninitialised memory)
              for (let y = iy0; y < ey1; y++) out.data.fill(255, ((y - ly) * w + (ix0 - lx)) * 3, ((y - ly) * w + (ex1 - lx)) * 3);
            }
            if (ix1 > ix0 && iy1 > iy0) blit(tile, ix0 - tx, iy0 - ty, out, ix0 - lx, iy0 - ly, ix1 - ix0, iy1 - iy0);
          }),
        );
      }
    }
    await Promise.all(jobs);
    return out;
  }

  /** Drops the decoded tiles (the tiler's slide closed); later decodes are not kept. */
  clear(): void {
    this.decoded.dispose();
  }
}

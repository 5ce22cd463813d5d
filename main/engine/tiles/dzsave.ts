/**
 * Complete Deep Zoom export, like `vips dzsave`: OUTDIR/<name>.dzi + OUTDIR/<name>_files/<level>/<col>_<row>.jpeg.
 * Streams the slide's level 0 once, in bands of file-tile rows (tiles decoded in parallel by libjpeg-turbo),
 * and builds every lower Deep Zoom level from the level above with a 2×2 box filter — never re-reading
 * the slide. Each level keeps only the rows its next tile row needs; tiles are JPEG-encoded in parallel.
 */
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Slide } from '../slide/types.js';
import { throwIfAborted } from '../../base/abort.js';
import { DEFAULT_QUALITY, asBuffer, blit } from './codec.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE_SIZE, DeepZoomGeometry } from './geometry.js';
import { CodecPool } from './codec-pool.js';
import { nativeGrid } from './geometry.js';
import { downsampleRows } from './shrink.js';

export interface DzSaveOptions {
  tileSize?: number;
  overlap?: number;
  quality?: number;
  /** tiles queued for encoding at once (default 4 × workers) */
  concurrency?: number;
  /** worker threads for decode / encode (default: one per core — a bulk export keeps them all busy) */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * OUTDIR/<name>.dzi or OUTDIR/<name>_files already there: 'error' (default) refuses, 'replace' deletes exactly
   * those two (and nothing else in OUTDIR) first, so no stale tiles of an earlier export survive.
   */
  existing?: 'error' | 'replace';
}

/** Largest Deep Zoom tile side dzsave writes (vips allows 8192; one 8192² slot alone would be ~200 MB of buffers). */
export const MAX_DZSAVE_TILE_SIZE = 4096;
/** Upper bound on the shared pixel buffer of the encode queue; fewer tiles are queued when tiles are big. */
export const ENCODE_BUFFER_BUDGET = 64 * 1024 * 1024;

/** Tiles of one tile row that one encode job takes (their block of pixels is one slot): fewer worker round trips. */
export const TILES_PER_JOB = 8;

/**
 * Encode slots for blocks of `tilesPerSlot` adjacent tiles of side `tileSize + 2·overlap`: the requested count, cut
 * to the byte budget (at least one).
 */
export function encodeSlots(requested: number, tileSize: number, overlap: number, budget = ENCODE_BUFFER_BUDGET, tilesPerSlot = 1): { slots: number; slotBytes: number; bytes: number } {
  const side = tileSize + 2 * overlap;
  const slotBytes = side * (tilesPerSlot * tileSize + 2 * overlap) * 3;
  const slots = Math.max(1, Math.min(Math.max(1, Math.floor(requested)), Math.floor(budget / slotBytes)));
  return { slots, slotBytes, bytes: slots * slotBytes };
}

/** the export's own outputs are already there (dzsave's `existing: 'error'`) */
export class DzSaveExistsError extends Error {
  constructor(readonly paths: string[]) {
    super(`dzsave: ${paths.join(' and ')} already exist${paths.length === 1 ? 's' : ''}: writing over ${paths.length === 1 ? 'it' : 'them'} would mix old and new tiles`);
    this.name = 'DzSaveExistsError';
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export interface DzSaveResult {
  dziPath: string;
  filesDir: string;
  tiles: number;
  levels: number;
}

/**
 * Bounded queue of tile encodes. Each job (a block of adjacent tiles) gets a slot: an ArrayBuffer moved to the
 * worker and back with the reply, so blocks cost no allocation (and no fresh pages) after the first round and no
 * copy to the worker. Not a SharedArrayBuffer: V8 copies rows into shared memory ~5× slower than into plain memory.
 * A slot lost with a failed job is replaced. `pad` bytes after each slot let the encoder read a tile's rows with the
 * block's stride up to the block's end.
 */
class EncodeQueue {
  private readonly running = new Set<Promise<void>>();
  private readonly free: ArrayBuffer[] = [];
  private made = 0;
  private failure: unknown = null;
  done = 0;

  constructor(
    private readonly max: number,
    private readonly slotBytes: number,
    private readonly total: number,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {}

  /** Waits for a free slot, lets `fill` write the pixels into it, then runs `job(slot)` (`tiles` tiles; it resolves with the slot back) in the background. */
  async add(tiles: number, fill: (slot: Buffer) => void, job: (slot: ArrayBuffer) => Promise<ArrayBuffer>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.free.length === 0 && this.made >= this.max) await Promise.race(this.running);
    if (this.failure) throw this.failure;
    let slot = this.free.pop();
    if (!slot) {
      slot = new ArrayBuffer(this.slotBytes);
      this.made++;
    }
    fill(Buffer.from(slot));
    const p: Promise<void> = job(slot)
      .then((back) => {
        this.free.push(back);
        this.done += tiles;
        this.onProgress?.(this.done, this.total);
      })
      .catch((e) => {
        this.made--; // the slot went with the job
        this.failure ??= e;
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure;
  }
}

interface Ctx {
  g: DeepZoomGeometry;
  filesDir: string;
  quality: number;
  /** tiles per encode job (one slot) */
  perJob: number;
  queue: EncodeQueue;
  pool: CodecPool;
  signal?: AbortSignal;
}

/** Rows of one Deep Zoom level as they stream in; emits each tile row once its rows (with overlap) are in. */
class LevelWriter {
  private buf: Uint8Array;
  private y0 = 0; // level row index of buf's first row
  private n = 0; // rows held
  private nextTileRow = 0;
  private pending: Uint8Array | null = null; // an unpaired row waiting for the next one (for the level below)
  private readonly rowBytes: number;

  constructor(
    private readonly ctx: Ctx,
    readonly level: number,
    private readonly child: LevelWriter | null,
  ) {
    const L = ctx.g.levels[level];
    this.rowBytes = L.width * 3;
    this.buf = new Uint8Array(this.rowBytes * (ctx.g.tileSize + 2 * ctx.g.overlap + 8));
  }

  private get L() {
    return this.ctx.g.levels[this.level];
  }

  async push(rows: Uint8Array, count: number): Promise<void> {
    this.append(rows, count);
    await this.emitReady(false);
    if (this.child) {
      let src = rows;
      let cnt = count;
      if (this.pending) {
        const joined = new Uint8Array(this.rowBytes * (count + 1));
        joined.set(this.pending, 0);
        joined.set(rows.subarray(0, this.rowBytes * count), this.rowBytes);
        src = joined;
        cnt = count + 1;
        this.pending = null;
      }
      const pairs = cnt >> 1;
      if (cnt & 1) this.pending = src.slice(this.rowBytes * (cnt - 1), this.rowBytes * cnt);
      if (pairs > 0) {
        const out = downsampleRows(src, this.L.width, pairs * 2);
        await this.child.push(out, pairs);
      }
    }
  }

  async finish(): Promise<void> {
    await this.emitReady(true);
    if (this.child) {
      if (this.pending) {
        await this.child.push(downsampleRows(this.pending, this.L.width, 1), 1);
        this.pending = null;
      }
      await this.child.finish();
    }
  }

  private append(rows: Uint8Array, count: number): void {
    const need = (this.n + count) * this.rowBytes;
    if (need > this.buf.byteLength) {
      const next = new Uint8Array(Math.max(need, this.buf.byteLength * 2));
      next.set(this.buf.subarray(0, this.n * this.rowBytes));
      this.buf = next;
    }
    this.buf.set(rows.subarray(0, count * this.rowBytes), this.n * this.rowBytes);
    this.n += count;
  }

  private async emitReady(final: boolean): Promise<void> {
    const { g } = this.ctx;
    const L = this.L;
    while (this.nextTileRow < L.rows) {
      const r = this.nextTileRow;
      const bottom = Math.min(L.height, (r + 1) * g.tileSize + (r < L.rows - 1 ? g.overlap : 0));
      if (this.y0 + this.n < bottom) {
        if (final) throw new Error(`dzsave: level ${this.level} ended at row ${this.y0 + this.n}, tile row ${r} needs ${bottom}`);
        return;
      }
      throwIfAborted(this.ctx.signal, 'dzi export');
      const { queue, pool, quality, perJob } = this.ctx;
      const src = asBuffer(this.buf);
      const dir = join(this.ctx.filesDir, String(this.level));
      for (let c0 = 0; c0 < L.cols; c0 += perJob) {
        // a block of adjacent tiles (they share their overlap columns): one slot, one job
        const c1 = Math.min(L.cols, c0 + perJob);
        const first = g.tileRect(this.level, c0, r);
        const last = g.tileRect(this.level, c1 - 1, r);
        const { x: bx, y, h } = first;
        const bb = (last.x + last.w - bx) * 3;
        const tiles: { x: number; width: number; file: string }[] = [];
        for (let c = c0; c < c1; c++) {
          const rect = g.tileRect(this.level, c, r);
          tiles.push({ x: rect.x - bx, width: rect.w, file: join(dir, `${c}_${r}.jpeg`) });
        }
        const so0 = (y - this.y0) * this.rowBytes + bx * 3;
        await queue.add(
          tiles.length,
          (slot) => {
            for (let i = 0, so = so0; i < h; i++, so += this.rowBytes) src.copy(slot, i * bb, so, so + bb);
          },
          (slot) => pool.encodeTilesToFiles(slot, bb / 3, h, tiles, quality),
        );
      }
      this.nextTileRow++;
      // drop rows no later tile row needs
      const keepFrom = Math.max(this.y0, this.nextTileRow * g.tileSize - g.overlap);
      const drop = Math.min(this.n, keepFrom - this.y0);
      if (drop > 0) {
        this.buf.copyWithin(0, drop * this.rowBytes, this.n * this.rowBytes);
        this.n -= drop;
        this.y0 += drop;
      }
    }
  }
}

export async function dzsave(slide: Slide, outDir: string, name: string, opts: DzSaveOptions = {}): Promise<DzSaveResult> {
  const p = slide.properties;
  const tileSize = opts.tileSize ?? DEFAULT_TILE_SIZE;
  if (tileSize > MAX_DZSAVE_TILE_SIZE) throw new RangeError(`dzsave: tile size must be at most ${MAX_DZSAVE_TILE_SIZE} (got ${tileSize})`);
  const g = new DeepZoomGeometry(p.width, p.height, tileSize, opts.overlap ?? DEFAULT_OVERLAP);
  const quality = opts.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`JPEG quality must be 1..100 (got ${quality})`);
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new RangeError(`dzsave: bad name '${name}'`);
  const filesDir = join(outDir, `${name}_files`);
  const dziPath = join(outDir, `${name}.dzi`);
  const old = [];
  for (const f of [dziPath, filesDir]) if (await exists(f)) old.push(f);
  if (old.length > 0) {
    if (opts.existing !== 'replace') throw new DzSaveExistsError(old);
    for (const f of old) await rm(f, { recursive: true, force: true });
  }
  await mkdir(filesDir, { recursive: true });
  await Promise.all(g.levels.map((_, l) => mkdir(join(filesDir, String(l)), { recursive: true })));
  const total = g.levels.reduce((s, l) => s + l.cols * l.rows, 0);
  const pool = new CodecPool(opts.workers ?? availableParallelism());
  try {
    const requested = opts.concurrency ?? 4 * pool.size;
    const side = g.tileSize + 2 * g.overlap;
    // blocks of tiles per job while the slots still fit the budget (big tiles: one tile a job)
    const perJob = Math.max(1, Math.min(TILES_PER_JOB, g.levels[g.maxLevel].cols, Math.floor(ENCODE_BUFFER_BUDGET / (requested * side * side * 3))));
    const { slots, slotBytes } = encodeSlots(requested, g.tileSize, g.overlap, ENCODE_BUFFER_BUDGET, perJob);
    const queue = new EncodeQueue(slots, slotBytes + (perJob * g.tileSize + 2 * g.overlap) * 3, total, opts.onProgress);
    const ctx: Ctx = { g, filesDir, quality, perJob, queue, pool, signal: opts.signal };

    let writer: LevelWriter | null = null;
    for (let l = 0; l <= g.maxLevel; l++) writer = new LevelWriter(ctx, l, writer);
    const top = writer!;

    // stream level 0 in bands of one file-tile row (decoded in the workers); read the next band while this one is processed
    const L0 = p.levels[0];
    const encoded = (await slide.readEncodedTile(0, 0, 0, opts.signal)) !== null;
    const bandH = encoded ? L0.tileHeight : Math.max(1, Math.min(256, L0.tileHeight));
    const { cols } = nativeGrid(L0);
    const bands = encoded ? [new Uint8Array(p.width * bandH * 3), new Uint8Array(p.width * bandH * 3)] : [];
    const decodeBuffers: ArrayBuffer[] = []; // the decode jobs' pixel buffers, back from the workers for reuse
    let bandNo = 0;
    const read = async (y: number) => {
      const h = Math.min(bandH, p.height - y);
      if (!encoded) return slide.readRegion(0, y, 0, p.width, h, opts.signal);
      const band = { data: bands[(bandNo++) & 1], width: p.width, height: h }; // two bands, reused: one is read while the other is pushed
      const row = y / bandH;
      const encs = await Promise.all(Array.from({ length: cols }, (_, c) => slide.readEncodedTile(0, c, row, opts.signal)));
      // runs of whole adjacent tiles decode in the workers, several per job (one round trip), into one buffer each
      const run: { jpegs: Uint8Array[]; xs: number[]; widths: number[] } = { jpegs: [], xs: [], widths: [] };
      const jobs: Promise<void>[] = [];
      const flush = () => {
        if (run.jpegs.length === 0) return;
        const x0 = run.xs[0];
        const job = pool.decodeTiles(run.jpegs.splice(0), run.xs.splice(0), run.widths.splice(0), h, decodeBuffers.pop(), opts.signal);
        jobs.push(job.then(({ pixels, width }) => {
          const src = asBuffer(pixels);
          const rb = width * 3;
          for (let r = 0; r < h; r++) src.copy(band.data, (r * p.width + x0) * 3, r * rb, r * rb + rb);
          decodeBuffers.push(pixels.buffer as ArrayBuffer);
        }));
      };
      const perJob = Math.max(1, Math.ceil(cols / (2 * pool.size)));
      for (let c = 0; c < cols; c++) {
        const x = c * L0.tileWidth;
        const w = Math.min(L0.tileWidth, p.width - x);
        const enc = encs[c];
        if (enc && enc.width >= w && enc.height >= h) {
          run.jpegs.push(enc.bytes);
          run.xs.push(x);
          run.widths.push(w);
          if (run.jpegs.length >= perJob) flush();
          continue;
        }
        flush(); // a run holds adjacent tiles only
        jobs.push((async () => {
          const tile = enc ? await pool.decode(enc.bytes) : await slide.readTile(0, c, row, opts.signal);
          if (tile.width < w || tile.height < h) {
            // a short tile: white outside it (OpenSlide convention)
            for (let r = 0; r < h; r++) band.data.fill(255, (r * p.width + x) * 3, (r * p.width + x + w) * 3);
          }
          blit(tile, 0, 0, band, x, 0, Math.min(w, tile.width), Math.min(h, tile.height));
        })());
      }
      flush();
      await Promise.all(jobs);
      return band;
    };
    let next = read(0);
    for (let y = 0; y < p.height; y += bandH) {
      const band = await next;
      if (y + bandH < p.height) next = read(y + bandH);
      await top.push(band.data, band.height);
    }
    await top.finish();
    await queue.drain();
  } finally {
    await pool.close();
  }
  await writeFile(dziPath, g.xml('jpeg'));
  return { dziPath, filesDir, tiles: total, levels: g.levelCount };
}

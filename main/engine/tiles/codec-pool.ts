/**
 * sharp work in the engine's one worker pool (main/engine/tiff/decode-pool.ts: main/base/worker-pool.ts over the
 * one codec worker). sharp's per-call cost has a synchronous part on the calling thread (option marshalling),
 * which caps a single thread at a few thousand calls/s; bulk jobs (the Deep Zoom export) spread decode /
 * encode+write calls over the workers instead. The worker runs the same image code as this thread
 * (main/engine/tiff/image-codec.mjs).
 */
import type { RgbImage } from '../slide/types.js';
import { CodecPoolHandle } from '../tiff/decode-pool.js';

/** sharp work in a codec pool: the shared one by default, or a private one of `size` workers (ended by close()). */
export class CodecPool extends CodecPoolHandle {
  /** Encodes RGB pixels as JPEG and writes them to `file` (the pixel buffer is transferred: do not reuse it). */
  async encodeToFile(raw: Uint8Array, width: number, height: number, quality: number, file: string, signal?: AbortSignal): Promise<void> {
    const buf = transferable(raw);
    await this.pool.run({ op: 'encodeJpeg', raw: buf, width, height, quality, file }, { transfer: [buf], signal });
  }

  /** Encodes RGB pixels as JPEG (the pixels are copied; the caller keeps its buffer). */
  async encode(raw: Uint8Array, width: number, height: number, quality: number, signal?: AbortSignal): Promise<Uint8Array> {
    const buf = new Uint8Array(raw).buffer;
    const r = await this.pool.run<{ bytes: ArrayBuffer }>({ op: 'encodeJpeg', raw: buf, width, height, quality }, { transfer: [buf], signal });
    return new Uint8Array(r.bytes);
  }

  /** Decodes a JPEG (or any image sharp reads) to 8-bit RGB. */
  async decode(jpeg: Uint8Array, signal?: AbortSignal): Promise<RgbImage> {
    const copy = new Uint8Array(jpeg).buffer; // the caller's bytes may be cached: send a copy
    const r = await this.pool.run<{ raw: ArrayBuffer; width: number; height: number }>({ op: 'decodeImage', bytes: copy }, { transfer: [copy], signal });
    return { data: new Uint8Array(r.raw), width: r.width, height: r.height };
  }

  /**
   * Decodes a run of adjacent JPEG tiles in one round trip: tile i is `jpegs[i]`, at column `xs[i]` (ascending, each
   * starting where the one before ends), clipped to widths[i] × height. Resolves with their pixels side by side:
   * `width` (= the run's width) × `height` RGB, in `reuse` when it is big enough (it is moved to the worker).
   */
  async decodeTiles(jpegs: Uint8Array[], xs: number[], widths: number[], height: number, reuse?: ArrayBuffer, signal?: AbortSignal): Promise<{ pixels: Uint8Array; width: number }> {
    const { all, ends } = concat(jpegs);
    const width = xs[xs.length - 1] + widths[widths.length - 1] - xs[0];
    const bytes = width * height * 3;
    const out = reuse && reuse.byteLength >= bytes ? reuse : new ArrayBuffer(bytes);
    const r = await this.pool.run<{ out: ArrayBuffer }>(
      { op: 'decodeTiles', bytes: all.buffer, ends, xs: xs.map((x) => x - xs[0]), widths, width, height, out },
      { transfer: [all.buffer, out], signal },
    );
    return { pixels: new Uint8Array(r.out, 0, bytes), width };
  }

  /**
   * JPEG tiles of one size decoded in one round trip, stacked: tile i's pixels are the contiguous bytes
   * [i·w·h·3, (i+1)·w·h·3) of `data` (image-codec's decodeTileStack); null when the tiles do not allow it.
   */
  async decodeTileStack(jpegs: Uint8Array[], signal?: AbortSignal): Promise<RgbImage | null> {
    const { all, ends } = concat(jpegs);
    const r = await this.pool.run<{ data: ArrayBuffer | null; width: number; height: number }>({ op: 'decodeTileStack', bytes: all.buffer, ends }, { transfer: [all.buffer], signal });
    return r.data ? { data: new Uint8Array(r.data), width: r.width, height: r.height } : null;
  }

  /**
   * Encodes several tiles of one block of pixels (rows `stride` pixels apart, `height` rows, from the start of `block`)
   * as JPEG (libjpeg-turbo), tile i from column tiles[i].x, tiles[i].width wide, into tiles[i].file. Rows are read
   * with the full stride: `stride · height` pixels from each tile's first pixel must lie inside `block` (pad after
   * the rows). `block` is moved to the worker; resolves with it back.
   */
  async encodeTilesToFiles(block: ArrayBuffer, stride: number, height: number, tiles: { x: number; width: number; file: string }[], quality: number, signal?: AbortSignal): Promise<ArrayBuffer> {
    const r = await this.pool.run<{ block: ArrayBuffer }>({ op: 'encodeTilesToFiles', block, stride, height, tiles, quality }, { transfer: [block], signal });
    return r.block;
  }
}

/** the images' bytes one after the other, and where each ends */
function concat(jpegs: Uint8Array[]): { all: Uint8Array<ArrayBuffer>; ends: number[] } {
  const ends: number[] = [];
  let n = 0;
  for (const j of jpegs) ends.push((n += j.byteLength));
  const all = new Uint8Array(n);
  for (let i = 0; i < jpegs.length; i++) all.set(jpegs[i], i === 0 ? 0 : ends[i - 1]);
  return { all, ends };
}

/** An ArrayBuffer holding exactly these bytes that may be transferred (copies when it is a view into something larger). */
function transferable(a: Uint8Array): ArrayBuffer {
  if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer) return a.buffer;
  return new Uint8Array(a).buffer;
}

/**
 * A small pool of worker threads for sharp work: sharp's per-call cost has a synchronous part on the
 * calling thread (option marshalling), which caps a single thread at a few thousand calls/s. Bulk jobs
 * (the Deep Zoom export) spread decode / encode+write calls over workers instead.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { RgbImage } from '../slide/types.js';

interface Pending {
  resolve: (v: { raw?: ArrayBuffer; bytes?: ArrayBuffer; width?: number; height?: number }) => void;
  reject: (e: Error) => void;
}

export class CodecPool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 1;
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./codec-worker.mjs', import.meta.url), { execArgv: [] });
      w.on('message', (m: { id: number; error?: string; raw?: ArrayBuffer; bytes?: ArrayBuffer; width?: number; height?: number }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.load[p.worker]--;
        if (m.error) p.reject(new Error(m.error));
        else p.resolve(m);
      });
      w.on('error', (e) => this.failAll(e));
      this.workers.push(w);
      this.load.push(0);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** jobs queued or running in the workers */
  get busy(): number {
    return this.pending.size;
  }

  private send(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<{ raw?: ArrayBuffer; bytes?: ArrayBuffer; width?: number; height?: number }> {
    if (this.closed) return Promise.reject(new Error('codec pool is closed'));
    let wi = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[wi]) wi = i;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: wi });
      this.load[wi]++;
      this.workers[wi].postMessage({ ...msg, id }, transfer);
    });
  }

  /** Encodes RGB pixels as JPEG and writes them to `file` (the pixel buffer is transferred: do not reuse it). */
  async encodeToFile(raw: Uint8Array, width: number, height: number, quality: number, file: string): Promise<void> {
    const buf = transferable(raw);
    await this.send({ op: 'encode', raw: buf, width, height, quality, file }, [buf]);
  }

  /** Encodes RGB pixels as JPEG (the pixels are copied; the caller keeps its buffer). */
  /** Encodes the RGB pixels at `offset` of a SharedArrayBuffer as JPEG into `file` (keep them unchanged until this resolves). */
  async encodeSharedToFile(sab: SharedArrayBuffer, offset: number, width: number, height: number, quality: number, file: string): Promise<void> {
    await this.send({ op: 'encodeShared', sab, offset, width, height, quality, file }, []);
  }

  async encode(raw: Uint8Array, width: number, height: number, quality: number): Promise<Uint8Array> {
    const buf = new Uint8Array(raw).buffer;
    const r = await this.send({ op: 'encode', raw: buf, width, height, quality }, [buf]);
    return new Uint8Array(r.bytes!);
  }

  async decode(jpeg: Uint8Array): Promise<RgbImage> {
    const copy = new Uint8Array(jpeg).buffer; // the caller's bytes may be cached: send a copy
    const r = await this.send({ op: 'decode', bytes: copy }, [copy]);
    return { data: new Uint8Array(r.raw!), width: r.width!, height: r.height! };
  }

  /**
   * Decodes a JPEG tile into `band` (a SharedArrayBuffer of rows `bandWidth` RGB pixels wide), at column
   * `x`, clipped to maxWidth × maxHeight. No copy back to this thread.
   */
  async decodeInto(jpeg: Uint8Array, band: SharedArrayBuffer, bandWidth: number, x: number, maxWidth: number, maxHeight: number): Promise<void> {
    const copy = new Uint8Array(jpeg).buffer;
    await this.send({ op: 'decodeInto', bytes: copy, band, bandWidth, x, maxWidth, maxHeight }, [copy]);
  }

  private failAll(e: unknown) {
    const err = e instanceof Error ? e : new Error(String(e));
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('codec pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** An ArrayBuffer holding exactly these bytes that may be transferred (copies when it is a view into something larger). */
function transferable(a: Uint8Array): ArrayBuffer {
  if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer) return a.buffer;
  return new Uint8Array(a).buffer;
}

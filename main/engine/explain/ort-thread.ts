/**
 * ONNX Runtime sessions on a thread of their own (./ort-worker.mjs). onnxruntime-node builds a session
 * synchronously on the calling thread — 0.1 s for the shipped model, 1.3 s for a ResNet-18 on a loaded 2-core box —
 * and in the HTTP host or Electron's main process every tile, IPC call and HTTP answer waits meanwhile (a trust check
 * builds one per randomized block; an analysis or explanation one per model). Here sessions are created, run and
 * released in one worker; tensors cross as typed arrays (copied both ways, just their own bytes: callers keep their
 * inputs). The worker
 * holds the process up only while a call is pending; when it dies, the calls in flight and its sessions fail with
 * the reason, and the next create starts a new one.
 */
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { workerUrl } from '../../base/worker-url.js';

/** What the engine uses of a session: ort.InferenceSession satisfies it, and so does a session on the ORT thread. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: ort.InferenceSession.FeedsType, options?: ort.InferenceSession.RunOptions): Promise<ort.InferenceSession.ReturnType>;
  run(feeds: ort.InferenceSession.FeedsType, fetches: ort.InferenceSession.FetchesType, options?: ort.InferenceSession.RunOptions): Promise<ort.InferenceSession.ReturnType>;
  release(): Promise<void>;
}

interface WireTensor { type: ort.Tensor.Type; data: ort.Tensor.DataType; dims: readonly number[] }
interface Reply { id: number; ok: boolean; name?: string; message?: string; sid?: number; inputNames?: string[]; outputNames?: string[]; out?: Record<string, WireTensor> }

/** The worker's URL: beside this module, else beside the Electron bundle, else in the source tree. */
export function ortWorkerUrl(): URL {
  return workerUrl(import.meta.url, 'ort-worker.mjs', 'engine/explain');
}

class OrtThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** counts workers lost: a session lives only as long as the worker it was made in */
  generation = 0;

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(ortWorkerUrl(), { execArgv: [] });
    w.unref();
    w.on('message', (m: Reply) => this.answer(m));
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => this.lost(w, new Error(`the ONNX Runtime thread stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }

  call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      try { w.postMessage({ ...msg, id }, transfer); } catch (e) {
        this.pending.delete(id);
        if (this.pending.size === 0) w.unref();
        reject(e as Error);
      }
    });
  }

  private answer(m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.ok) p.resolve(m);
    else {
      const e = new Error(m.message);
      e.name = m.name ?? 'Error';
      p.reject(e);
    }
  }

  private lost(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.generation++;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(e);
  }

  /** stop the worker (its sessions go with it); the next call starts another */
  async stop(): Promise<void> {
    const w = this.worker;
    if (w) await w.terminate();
  }
}

const thread = new OrtThread();

class ThreadSession implements OrtSession {
  private released = false;
  constructor(private readonly sid: number, private readonly generation: number, readonly inputNames: readonly string[], readonly outputNames: readonly string[]) {}

  /** fetches: output names (run options are not used by the engine and not passed) */
  async run(feeds: ort.InferenceSession.FeedsType, fetchesOrOptions?: unknown): Promise<ort.InferenceSession.ReturnType> {
    const fetches = Array.isArray(fetchesOrOptions) ? (fetchesOrOptions as string[]) : undefined;
    if (this.released) throw new Error('the ONNX Runtime session was released');
    if (this.generation !== thread.generation) throw new Error('the ONNX Runtime thread stopped: the session is gone');
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [k, v] of Object.entries(feeds)) {
      const t = v as ort.Tensor;
      // one copy of just its bytes, moved across (a view would carry its whole buffer; the caller keeps its array)
      const d = t.data;
      if (ArrayBuffer.isView(d)) {
        const copy = Buffer.isBuffer(d) ? new Uint8Array(d) : (d as Float32Array).slice(); // (a Buffer's slice is a view)
        transfer.push(copy.buffer as ArrayBuffer);
        wire[k] = { type: t.type, data: copy, dims: t.dims };
      } else wire[k] = { type: t.type, data: d, dims: t.dims };
    }
    const r = await thread.call({ op: 'run', sid: this.sid, feeds: wire, ...(fetches ? { fetches } : {}) }, transfer);
    const out: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(r.out ?? {})) out[k] = new ort.Tensor(t.type, t.data as never, t.dims);
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.generation === thread.generation) await thread.call({ op: 'release', sid: this.sid });
  }
}

/**
 * ort.InferenceSession.create on the ORT thread: a path, or the model's bytes — copied, or with `transfer` moved to
 * the thread (no copy: copying tens of MB into fresh memory is itself ~0.1 s of the caller's time; the caller's array
 * is left empty, byteLength 0). Only an array that is its whole buffer moves; any other is copied.
 */
export async function createThreadSession(model: Uint8Array | string, options: ort.InferenceSession.SessionOptions, transfer = false): Promise<OrtSession> {
  const move = transfer && typeof model !== 'string' && model.byteOffset === 0 && model.byteLength === model.buffer.byteLength && !(model.buffer instanceof SharedArrayBuffer);
  const r = await thread.call({ op: 'create', model, options }, move ? [(model as Uint8Array).buffer as ArrayBuffer] : []);
  return new ThreadSession(r.sid!, thread.generation, r.inputNames ?? [], r.outputNames ?? []);
}

/** Stop the ORT thread and so every session on it (tests: a crash's consequences). */
export function stopOrtThread(): Promise<void> {
  return thread.stop();
}

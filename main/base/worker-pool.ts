/**
 * The one worker-thread pool abstraction: a fixed-size pool over one plain-JS worker module.
 *
 * - Workers start lazily, on the first job that finds none free (up to `size`), and are replaced on demand when
 *   one dies. A worker is ref'd only while it runs a job and unref'd when idle, so an idle pool never keeps the
 *   process alive and a process waiting on a job does not exit under it. (Node's Worker re-refs its message
 *   port when the first 'message' listener is added: unref() must come after the listeners, see unrefIdle.)
 * - Jobs queue here, at most one in flight per worker; a queued job whose AbortSignal fires leaves the queue at
 *   once and never runs (AbortError, code ABORTED); an abort while running rejects at once and the worker's
 *   late reply is dropped (the worker finishes the job rather than being killed and re-started).
 * - Wire protocol, both directions structured-clone with transfer lists:
 *     to the worker   { id, ...task }
 *     from the worker { id, value, transfer? }  or  { id, error: { name, code, message } }
 *   Use `serveWorker` semantics from the worker module (see main/engine/tiff/codec-worker.mjs).
 * - A job's error reply rejects with WorkerTaskError (its name / code / message as the worker threw it); a worker
 *   that dies mid-job rejects it with WorkerTaskError code WORKER_FAILED.
 *
 * Chosen over piscina (which fits Node 20 and ESM workers): aborting a running task there terminates its worker,
 * which for our WASM decoders means re-instantiating OpenJPEG per cancelled tile, and its worker entry point
 * must be resolvable beside the Electron bundle; the semantics we need fit in this file.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { AbortError } from './abort.js';

export interface WorkerPoolOptions {
  /** the worker module (plain JS ESM, so it runs without a TypeScript loader) */
  url: URL;
  /** threads (default: available cores, 1..4) */
  size?: number;
  /** names the pool in error messages */
  name?: string;
}

export interface RunOptions {
  /** buffers to move to the worker (the caller must not use them afterwards) */
  transfer?: TransferListItem[];
  signal?: AbortSignal;
}

/** A job's failure as the worker reported it (or WORKER_FAILED when the worker died). */
export class WorkerTaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly workerName = 'Error',
  ) {
    super(message);
    this.name = 'WorkerTaskError';
  }
}

interface Reply { id: number; value?: unknown; error?: { name?: string; code?: string; message?: string } }
interface Job {
  id: number;
  task: Record<string, unknown>;
  transfer: TransferListItem[];
  signal?: AbortSignal;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onAbort?: () => void;
  settled: boolean;
}
interface Slot { worker: Worker; job: Job | null }

export const defaultPoolSize = (): number => Math.max(1, Math.min(4, availableParallelism()));

export class WorkerPool {
  readonly size: number;
  readonly name: string;
  private readonly url: URL;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: WorkerPoolOptions) {
    this.url = opts.url;
    this.size = opts.size ?? defaultPoolSize();
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`WorkerPool: bad size ${opts.size}`);
    this.name = opts.name ?? 'worker pool';
  }

  /** jobs queued or running */
  get busy(): number {
    return this.queue.length + this.running;
  }

  /** jobs running in a worker */
  get running(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** workers started (0 until the first job) */
  get threads(): number {
    return this.slots.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `task` in a worker; resolves with the worker's `value`. */
  run<R>(task: Record<string, unknown>, opts: RunOptions = {}): Promise<R> {
    const { signal } = opts;
    if (this.closed) return Promise.reject(new AbortError(`${this.name} is closed`));
    if (signal?.aborted) return Promise.reject(new AbortError('aborted'));
    return new Promise<R>((resolve, reject) => {
      const job: Job = { id: this.nextId++, task, transfer: opts.transfer ?? [], signal, resolve: resolve as (v: unknown) => void, reject, settled: false };
      if (signal) {
        job.onAbort = () => {
          const qi = this.queue.indexOf(job);
          if (qi >= 0) this.queue.splice(qi, 1); // never runs
          this.finish(job, new AbortError('aborted')); // a running job's late reply is dropped
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Rejects every queued and running job (AbortError) and terminates the workers; later runs reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.finish(job, new AbortError(`${this.name} closed`));
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.job) { this.finish(s.job, new AbortError(`${this.name} closed`)); s.job = null; }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private finish(job: Job, error: Error | null, value?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (error) job.reject(error);
    else job.resolve(value);
  }

  private spawn(): Slot {
    const worker = new Worker(this.url, { execArgv: [] });
    const slot: Slot = { worker, job: null };
    worker.on('message', (m: Reply) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      slot.job = null;
      if (m.error) this.finish(job, new WorkerTaskError(m.error.code ?? 'ERROR', m.error.message ?? 'worker job failed', m.error.name));
      else this.finish(job, null, m.value);
      this.pump();
    });
    const die = (e: unknown) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      const job = slot.job;
      slot.job = null;
      if (job) this.finish(job, new WorkerTaskError('WORKER_FAILED', `${this.name}: worker failed (${e instanceof Error ? e.message : String(e)})`));
      this.pump(); // a fresh worker replaces it on demand
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`worker exited with code ${code}`)));
    // after the listeners: adding the first 'message' listener re-refs the worker's port (Node's
    // setupPortReferencing), which is what kept processes alive when unref() came first
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot) {
        if (this.slots.length >= this.size) break;
        slot = this.spawn();
      }
      const job = this.queue.shift()!;
      if (job.settled || job.signal?.aborted) { // dropped before it costs any work
        this.finish(job, new AbortError('aborted'));
        continue;
      }
      slot.job = job;
      slot.worker.ref(); // a waiting caller keeps the process alive until its job is done
      slot.worker.postMessage({ ...job.task, id: job.id }, job.transfer);
    }
    for (const s of this.slots) if (!s.job) s.worker.unref();
  }
}

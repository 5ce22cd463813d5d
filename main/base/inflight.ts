import { setMaxListeners } from 'node:events';
import { AbortError } from './abort.js';

/**
 * In-flight de-duplication with shared cancellation: concurrent `run(key, …)` calls share one
 * computation. Each caller can abort on its own (its promise rejects at once); the shared work is
 * aborted only when every caller waiting on it has aborted.
 */
export class Inflight<K, V> {
  private readonly map = new Map<K, { promise: Promise<V>; ctrl: AbortController; waiters: number }>();

  get size(): number {
    return this.map.size;
  }

  run(key: K, work: (signal: AbortSignal) => Promise<V>, signal?: AbortSignal): Promise<V> {
    if (signal?.aborted) return Promise.reject(new AbortError('request was aborted'));
    let entry = this.map.get(key);
    if (!entry) {
      const ctrl = new AbortController();
      const e = { promise: undefined as unknown as Promise<V>, ctrl, waiters: 0 };
      e.promise = (async () => work(ctrl.signal))().finally(() => {
        if (this.map.get(key) === e) this.map.delete(key);
      });
      e.promise.catch(() => {}); // callers observe it; never an unhandled rejection
      this.map.set(key, e);
      entry = e;
    }
    const e = entry;
    e.waiters++;
    if (!signal) {
      return e.promise.finally(() => {
        e.waiters--;
      });
    }
    return new Promise<V>((resolve, reject) => {
      let done = false;
      const finish = () => {
        if (done) return false;
        done = true;
        e.waiters--;
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = () => {
        if (!finish()) return;
        if (e.waiters === 0) {
          e.ctrl.abort();
          if (this.map.get(key) === e) this.map.delete(key);
        }
        reject(new AbortError('request was aborted'));
      };
      // one caller's signal commonly waits on many keys at once (a region read over dozens of tiles): not a leak
      try {
        setMaxListeners(0, signal);
      } catch {
        /* a signal Node's events module does not know (another realm): it may warn, nothing worse */
      }
      signal.addEventListener('abort', onAbort, { once: true });
      e.promise.then(
        (v) => finish() && resolve(v),
        (err) => finish() && reject(err),
      );
    });
  }
}

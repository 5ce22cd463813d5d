/**
 * Shared cache of encoded tiles: byte-budgeted LRU + in-flight de-duplication + bounded concurrency.
 * One instance serves every open slide (keys carry the slide's cache key as prefix).
 */
import { availableParallelism } from 'node:os';
import { ByteLru } from '../../base/lru.js';
import { Inflight } from '../../base/inflight.js';
import { Semaphore } from '../../base/limit.js';

export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

export interface TileCacheOptions {
  /** byte budget of encoded tiles (default 256 MiB) */
  maxBytes?: number;
  /** tiles computed at once (default: available cores, at least 2) */
  concurrency?: number;
}

export class TileCache {
  readonly lru: ByteLru<string, Uint8Array>;
  private readonly inflight = new Inflight<string, Uint8Array>();
  private readonly sem: Semaphore;
  hits = 0;
  misses = 0;

  constructor(opts: TileCacheOptions = {}) {
    this.lru = new ByteLru(opts.maxBytes ?? DEFAULT_CACHE_BYTES, (b) => b.byteLength);
    this.sem = new Semaphore(opts.concurrency ?? Math.max(2, availableParallelism()));
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Cached bytes for `key`, or the result of `compute` (run once for concurrent callers, within the concurrency bound). */
  get(key: string, compute: (signal: AbortSignal) => Promise<Uint8Array>, signal?: AbortSignal): Promise<Uint8Array> {
    const hit = this.lru.get(key);
    if (hit) {
      this.hits++;
      return Promise.resolve(hit);
    }
    this.misses++;
    return this.inflight.run(
      key,
      (sig) =>
        this.sem.run(async () => {
          const bytes = await compute(sig);
          if (!sig.aborted) this.lru.set(key, bytes);
          return bytes;
        }, sig),
      signal,
    );
  }

  /** Drops every entry whose key starts with `prefix` (a closed slide). */
  evictPrefix(prefix: string): number {
    return this.lru.deleteWhere((k) => k.startsWith(prefix));
  }
}

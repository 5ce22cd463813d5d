/**
 * The tile server's view of the one byte-budgeted cache (main/base/cache.ts): encoded tiles under a namespace of
 * the shared cache (or of a private one when `maxBytes` is given), in-flight de-duplication, and a bound on how
 * many tiles are computed at once. One instance serves every open slide (keys carry the slide's key as prefix).
 */
import { availableParallelism } from 'node:os';
import { ByteCache, DEFAULT_CACHE_BYTES, sharedCache, type CacheNamespace } from '../../base/cache.js';
import { Semaphore } from '../../base/limit.js';

export { DEFAULT_CACHE_BYTES };

export interface TileCacheOptions {
  /**
   * a private byte budget for this tile cache (tests, tools); default: the process-wide shared cache
   * (GLASSBOX_CACHE_MB, 256 MiB), whose budget the slide engine's decoded tiles share
   */
  maxBytes?: number;
  /** tiles computed at once (default: available cores, at least 2) */
  concurrency?: number;
  /** the byte cache to use (default: as maxBytes says) */
  store?: ByteCache;
}

export class TileCache {
  /** the byte cache behind this one (shared with the decoded-tile namespaces of the tilers using it) */
  readonly store: ByteCache;
  private readonly ns: CacheNamespace;
  private readonly sem: Semaphore;
  hits = 0;
  misses = 0;

  constructor(opts: TileCacheOptions = {}) {
    this.store = opts.store ?? (opts.maxBytes !== undefined ? new ByteCache({ maxBytes: opts.maxBytes }) : sharedCache());
    this.ns = this.store.namespace('tiles');
    this.sem = new Semaphore(opts.concurrency ?? Math.max(2, availableParallelism()));
  }

  /** bytes of encoded tiles held */
  get bytes(): number {
    return this.ns.bytes;
  }

  /** encoded tiles held */
  get size(): number {
    return this.ns.size;
  }

  /** @deprecated the counts as the former ByteLru exposed them: use `size` / `bytes` */
  get lru(): { readonly size: number; readonly bytes: number } {
    return { size: this.size, bytes: this.bytes };
  }

  get inflightCount(): number {
    return this.store.inflightCount;
  }

  /** Cached bytes for `key`, or the result of `compute` (run once for concurrent callers, within the concurrency bound). */
  get(key: string, compute: (signal: AbortSignal) => Promise<Uint8Array>, signal?: AbortSignal): Promise<Uint8Array> {
    const hit = this.ns.get<Uint8Array>(key);
    if (hit) {
      this.hits++;
      return Promise.resolve(hit);
    }
    this.misses++;
    return this.ns.load(key, (sig) => this.sem.run(() => compute(sig), sig), signal);
  }

  /** Drops every entry whose key starts with `prefix` (a closed slide). */
  evictPrefix(prefix: string): number {
    return this.ns.deletePrefix(prefix);
  }
}

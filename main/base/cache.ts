/**
 * The one byte-budgeted cache: decoded tiles (slide engine), decoded and encoded Deep Zoom tiles (tile server)
 * and whatever a later engine keeps (analysis) share ONE budget, so memory is bounded by one number however many
 * slides are open and whichever engine reads them.
 *
 * - Storage is `lru-cache` (maxSize + per-entry size): least-recently-used entries go first once the sum of the
 *   entries' bytes passes the budget; an entry larger than `maxEntryBytes` (default: a quarter of the budget) is
 *   returned to its caller but not kept, so one huge value cannot flush everything else.
 * - Loads are de-duplicated while in flight (./inflight.ts): concurrent `load(key, …)` calls share one
 *   computation; each caller may abort on its own, and the shared work is aborted only when every caller
 *   waiting on it has aborted. An aborted load is never stored.
 * - Callers never see raw keys of others: `cache.namespace('slide')` hands out a prefix unique to that holder
 *   (`slide#3|`), with its own entry / byte counts and `dispose()` (drops its entries and refuses later stores,
 *   e.g. a load that finishes after its slide closed).
 *
 * Use: `sharedCache().namespace('analysis')` once per owner, then `ns.load(key, (signal) => compute(signal), signal)`.
 * The shared budget is GLASSBOX_CACHE_MB (default 256 MiB) or `configureSharedCache({ maxBytes })` at start-up.
 */
import { LRUCache } from 'lru-cache';
import { Inflight } from './inflight.js';

export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

export interface ByteCacheOptions {
  /** the byte budget (default 256 MiB) */
  maxBytes?: number;
  /** largest single entry kept (default maxBytes / 4); larger values are returned but not stored */
  maxEntryBytes?: number;
}

/** Bytes held by a cached value: a typed array / ArrayBuffer, or an object with such a `data` (an RGB image). */
export function byteSize(v: unknown): number {
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v.byteLength;
  const data = (v as { data?: unknown } | null)?.data;
  if (data !== undefined && (ArrayBuffer.isView(data) || data instanceof ArrayBuffer)) return data.byteLength;
  throw new TypeError('ByteCache: pass the size of values that are neither byte arrays nor { data: bytes }');
}

interface Entry { value: unknown; bytes: number; ns: CacheNamespace | null }

export class ByteCache {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  private readonly lru: LRUCache<string, Entry>;
  private readonly inflight = new Inflight<string, unknown>();
  private readonly names = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(opts: ByteCacheOptions = {}) {
    const maxBytes = opts.maxBytes ?? DEFAULT_CACHE_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`ByteCache: bad byte budget ${maxBytes}`);
    const maxEntry = opts.maxEntryBytes ?? Math.max(1, Math.floor(maxBytes / 4));
    if (!Number.isSafeInteger(maxEntry) || maxEntry < 1 || maxEntry > maxBytes) throw new RangeError(`ByteCache: bad entry limit ${maxEntry}`);
    this.maxBytes = maxBytes;
    this.maxEntryBytes = maxEntry;
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      maxEntrySize: maxEntry,
      // an empty value still costs a map entry: count it as one byte so the budget bounds the entry count too
      sizeCalculation: (e) => Math.max(1, e.bytes),
      dispose: (e) => {
        if (e.ns) e.ns.account(-1, -e.bytes);
      },
    });
  }

  /** bytes held (the sum of the entries' sizes) */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  /** entries held */
  get size(): number {
    return this.lru.size;
  }

  /** loads running */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /** The value for `key` (marking it most recently used), or undefined. */
  get<V>(key: string): V | undefined {
    return this.lru.get(key)?.value as V | undefined;
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Stores `value` (size: `bytes`, else byteSize(value)); returns whether it was kept. */
  set(key: string, value: unknown, bytes?: number): boolean {
    return this.store(key, value, bytes ?? byteSize(value), null);
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Deletes every entry whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): number {
    let n = 0;
    for (const k of [...this.lru.keys()]) if (k.startsWith(prefix) && this.lru.delete(k)) n++;
    return n;
  }

  clear(): void {
    this.lru.clear();
  }

  /**
   * The cached value for `key`, or `loader`'s result (stored, then returned). Concurrent calls for one key share
   * one load; `signal` aborts this caller's wait (AbortError, code ABORTED) and the load itself once no caller
   * waits for it any more. `sizeOf` gives the stored size (default byteSize).
   */
  load<V>(key: string, loader: (signal: AbortSignal) => Promise<V>, signal?: AbortSignal, sizeOf?: (v: V) => number): Promise<V> {
    return this.loadIn(null, key, loader, signal, sizeOf);
  }

  /**
   * A view with keys under a prefix unique to its holder (`name#N|`): use one per owner (an open slide, a
   * tiler, an analysis run) and `dispose()` it when the owner goes.
   */
  namespace(name: string): CacheNamespace {
    if (!/^[\w.-]+$/.test(name)) throw new RangeError(`ByteCache: bad namespace name '${name}'`);
    const n = (this.names.get(name) ?? 0) + 1;
    this.names.set(name, n);
    return new CacheNamespace(this, `${name}#${n}|`);
  }

  /** @internal */
  loadIn<V>(ns: CacheNamespace | null, key: string, loader: (signal: AbortSignal) => Promise<V>, signal?: AbortSignal, sizeOf?: (v: V) => number): Promise<V> {
    const hit = this.lru.get(key);
    if (hit) {
      this.hits++;
      return Promise.resolve(hit.value as V);
    }
    this.misses++;
    return this.inflight.run(
      key,
      async (sig) => {
        const v = await loader(sig);
        if (!sig.aborted) this.store(key, v, sizeOf ? sizeOf(v) : byteSize(v), ns);
        return v;
      },
      signal,
    ) as Promise<V>;
  }

  /** @internal */
  store(key: string, value: unknown, bytes: number, ns: CacheNamespace | null): boolean {
    if (ns?.disposed) return false;
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`ByteCache: bad entry size ${bytes}`);
    const e: Entry = { value, bytes, ns };
    this.lru.set(key, e);
    if (this.lru.peek(key) !== e) return false; // over maxEntryBytes: not kept
    if (ns) ns.account(1, bytes);
    return true;
  }
}

/** One owner's part of a ByteCache: the same budget, keys under its own prefix, its own counts. */
export class CacheNamespace {
  private count = 0;
  private held = 0;
  private gone = false;

  constructor(
    readonly cache: ByteCache,
    readonly prefix: string,
  ) {}

  /** entries of this namespace held */
  get size(): number {
    return this.count;
  }

  /** bytes of this namespace held */
  get bytes(): number {
    return this.held;
  }

  get disposed(): boolean {
    return this.gone;
  }

  get<V>(key: string): V | undefined {
    return this.cache.get<V>(this.prefix + key);
  }

  has(key: string): boolean {
    return this.cache.has(this.prefix + key);
  }

  set(key: string, value: unknown, bytes?: number): boolean {
    return this.cache.store(this.prefix + key, value, bytes ?? byteSize(value), this);
  }

  delete(key: string): boolean {
    return this.cache.delete(this.prefix + key);
  }

  /** Deletes this namespace's entries whose key starts with `prefix`. */
  deletePrefix(prefix: string): number {
    return this.cache.deletePrefix(this.prefix + prefix);
  }

  /** As ByteCache.load, under this namespace. */
  load<V>(key: string, loader: (signal: AbortSignal) => Promise<V>, signal?: AbortSignal, sizeOf?: (v: V) => number): Promise<V> {
    return this.cache.loadIn(this, this.prefix + key, loader, signal, sizeOf);
  }

  /** Drops this namespace's entries (it stays usable). */
  clear(): void {
    if (this.count > 0) this.cache.deletePrefix(this.prefix);
  }

  /** Drops this namespace's entries and refuses every later store (loads still return their values). */
  dispose(): void {
    this.gone = true;
    this.clear();
  }

  /** @internal */
  account(entries: number, bytes: number): void {
    this.count += entries;
    this.held += bytes;
  }
}

let shared: ByteCache | null = null;

function envBudget(): number | undefined {
  const mb = process.env.GLASSBOX_CACHE_MB;
  if (mb === undefined || mb === '') return undefined;
  const n = Number(mb);
  if (!Number.isFinite(n) || n < 1) throw new RangeError(`GLASSBOX_CACHE_MB must be a number of MiB ≥ 1 (got '${mb}')`);
  return Math.floor(n * 2 ** 20);
}

/** The process-wide cache every engine shares (created on first use: GLASSBOX_CACHE_MB or 256 MiB). */
export function sharedCache(): ByteCache {
  if (!shared) shared = new ByteCache({ maxBytes: envBudget() });
  return shared;
}

/**
 * Sets the shared cache's budget: call it at start-up, before anything uses the cache. Once the shared cache
 * exists its budget is fixed (a different one throws), since namespaces already handed out point at it.
 */
export function configureSharedCache(opts: ByteCacheOptions): ByteCache {
  if (shared) {
    if ((opts.maxBytes === undefined || opts.maxBytes === shared.maxBytes) && (opts.maxEntryBytes === undefined || opts.maxEntryBytes === shared.maxEntryBytes)) return shared;
    throw new Error(`configureSharedCache: the shared cache is already in use with a ${shared.maxBytes}-byte budget`);
  }
  shared = new ByteCache(opts);
  return shared;
}

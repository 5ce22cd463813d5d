/**
 * ORT sessions: execution-provider choice ('auto' = CUDA if its provider library is present, else WebGPU if an
 * adapter exists, else CPU) and an LRU cache of sessions keyed by (model, layer, method set, EP), ref-counted
 * so a session in use is never released.
 *
 * Fallback (ep 'auto' only): a GPU provider that cannot create the session is skipped (and not tried again in this
 * process); a GPU session that fails on its first run (e.g. an op variant the provider lacks) is replaced by a CPU
 * session for that model, and later 'auto' requests for the same model go straight to CPU. Both report why
 * (`fallbackReason`). A forced provider never falls back: EP_UNAVAILABLE.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExplainError, type ExecutionProviderName } from './types.js';
import { cachedSession, commitSession, discard, sessionCachePath, sessionTempPath } from './disk-cache.js';
import { createThreadSession, type OrtSession } from './ort-thread.js';

const require = createRequire(import.meta.url);

export function cudaProviderLibrary(): string {
  let root: string;
  try { root = dirname(require.resolve('onnxruntime-node/package.json')); } catch { root = 'node_modules/onnxruntime-node'; }
  return join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

/**
 * On Linux a WebGPU adapter needs a GPU device node; without one Dawn can only offer a software adapter (slower
 * than the CPU provider) or fail noisily, so 'auto' skips WebGPU there. Other platforms: try it.
 */
export function mayHaveGpu(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    if (existsSync('/dev/nvidia0')) return true;
    return readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch { return false; }
}

/** per-process memo: a provider that failed to create a session once is not tried again in 'auto' (→ why) */
const failed = new Map<ExecutionProviderName, string>();
/** session key → why its GPU session failed on the first run: 'auto' uses CPU for it from then on */
const runFailures = new Map<string, string>();

/** Tests only: replace provider discovery ('auto' order before CPU) and session creation, e.g. to inject a failing provider. */
export interface ProviderHooks {
  autoOrder?: () => ExecutionProviderName[];
  create?: (bytes: Uint8Array, ep: ExecutionProviderName, options: ort.InferenceSession.SessionOptions) => Promise<OrtSession>;
}
let hooks: ProviderHooks = {};
/** Install (or with {} remove) provider hooks; also forgets the failure memos. Clear the session cache around it. */
export function setProviderHooks(h: ProviderHooks): void {
  hooks = h;
  failed.clear();
  runFailures.clear();
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];

/** ORT's error without its source location and failed-check preamble ("/onnxruntime_src/…cc:136 fn … was false. ") */
export function ortReason(e: unknown): string {
  const line = firstLine(e);
  const m = /^\/\S+\.(?:cc|cpp|h):\d+ .*? (?:was false|failed)\. (.+)$/.exec(line);
  return m ? m[1] : line;
}

/**
 * Graph optimisations on; intra-op threads = the cores this process may use, without spin-waiting: several
 * sessions (explain + predict, other explainers) stay alive side by side, and spinning pools starve each other.
 */
const baseOptions: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  executionMode: 'sequential',
  intraOpNumThreads: Math.max(1, availableParallelism()),
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/**
 * A model to open a session on: its bytes on demand, and (optional) the identity its optimised CPU model is cached
 * under. `owned`: the bytes are this layer's to give away (moved to the ORT thread, not copied); `bytes()` then
 * builds them again if asked after that (another provider tried).
 */
export interface ModelSource {
  bytes: () => Uint8Array;
  cacheId?: string;
  owned?: boolean;
}

function sourceOf(m: Uint8Array | ModelSource): ModelSource {
  if (!(m instanceof Uint8Array)) return m;
  return { bytes: () => m };
}

/** sessions are built and run on the ORT thread (./ort-thread.ts), so building one never stalls the host */
async function tryCreate(src: ModelSource, ep: ExecutionProviderName): Promise<OrtSession> {
  const options = { ...baseOptions, executionProviders: [ep] };
  if (hooks.create) return hooks.create(src.bytes(), ep, options);
  const path = ep === 'cpu' && src.cacheId ? sessionCachePath(src.cacheId, options) : null;
  const own = !!src.owned;
  if (!path) return createThreadSession(src.bytes(), options, own);
  // the optimised model a previous process saved: no graph optimisation to redo (disk-cache.ts)
  const hit = cachedSession(path);
  if (hit) {
    try { return await createThreadSession(hit, { ...options, graphOptimizationLevel: 'disabled' }); } catch { /* unreadable: rebuild it */ }
  }
  const tmp = sessionTempPath(path);
  try {
    const session = await createThreadSession(src.bytes(), { ...options, optimizedModelFilePath: tmp }, own);
    commitSession(tmp, path);
    return session;
  } catch (e) {
    discard(tmp);
    throw e;
  }
}

export interface CreatedSession {
  session: OrtSession;
  /** the provider actually used */
  ep: ExecutionProviderName;
  /** 'auto' only: why a GPU provider was passed over for CPU */
  fallbackReason?: string;
}

/** Create a session on the requested provider; returns the provider actually used. */
export async function createSession(model: Uint8Array | ModelSource, ep: ExecutionProviderName | 'auto'): Promise<CreatedSession> {
  const src = sourceOf(model);
  if (ep === 'cpu') return { session: await tryCreate(src, 'cpu'), ep: 'cpu' };
  if (ep === 'cuda' || ep === 'webgpu') {
    if (ep === 'cuda' && !hooks.create && !existsSync(cudaProviderLibrary())) {
      throw new ExplainError('EP_UNAVAILABLE', `execution provider 'cuda' is not available: ${cudaProviderLibrary()} is missing (onnxruntime-node was installed without its CUDA libraries)`);
    }
    // without a GPU device node, Dawn only prints its failed probes (Vulkan loader, …) to stderr before failing
    if (ep === 'webgpu' && !hooks.create && !mayHaveGpu()) {
      throw new ExplainError('EP_UNAVAILABLE', `execution provider 'webgpu' is not available: no GPU device (${process.platform === 'linux' ? 'no /dev/dri/renderD* or /dev/nvidia0' : 'none found'})`);
    }
    try { return { session: await tryCreate(src, ep), ep }; } catch (e) {
      throw new ExplainError('EP_UNAVAILABLE', `execution provider '${ep}' is not available: ${ortReason(e)}`, { cause: e });
    }
  }
  // auto
  const reasons: string[] = [];
  for (const p of autoOrder()) {
    const before = failed.get(p);
    if (before) { reasons.push(before); continue; }
    try { return { session: await tryCreate(src, p), ep: p }; } catch (e) {
      const why = `${p} could not create a session (${firstLine(e)})`;
      failed.set(p, why);
      reasons.push(why);
    }
  }
  const session = await tryCreate(src, 'cpu');
  return { session, ep: 'cpu', ...(reasons.length ? { fallbackReason: `${reasons.join('; ')}: using cpu` } : {}) };
}

/** GPU providers 'auto' tries, in order, before CPU */
function autoOrder(): ExecutionProviderName[] {
  if (hooks.autoOrder) return hooks.autoOrder();
  const order: ExecutionProviderName[] = [];
  if (existsSync(cudaProviderLibrary())) order.push('cuda');
  if (mayHaveGpu()) order.push('webgpu');
  return order;
}

interface Entry { key: string; promise: Promise<CreatedSession>; refs: number; dead?: boolean }
const entries = new Map<string, Entry>();
const MAX_IDLE = 6;

export interface AcquiredSession extends CreatedSession { release: () => Promise<void> }

/** Get (or create) a cached session; call the returned release() when done. */
export async function acquireSession(key: string, build: () => Uint8Array, ep: ExecutionProviderName | 'auto', cacheId?: string): Promise<AcquiredSession> {
  // 'auto' for a model whose GPU session failed on its first run: CPU, with the recorded reason
  const prior = ep === 'auto' ? runFailures.get(key) : undefined;
  const fullKey = `${key}|${prior ? 'cpu' : ep}`;
  let entry = entries.get(fullKey);
  if (entry) { entries.delete(fullKey); entries.set(fullKey, entry); } else {
    // build() serialises afresh on each call: the bytes are ours to move to the ORT thread
    const promise = Promise.resolve().then(() => createSession({ bytes: once(build), cacheId, owned: true }, prior ? 'cpu' : ep));
    entry = { key: fullKey, promise, refs: 0 };
    entries.set(fullKey, entry);
    promise.catch(() => entries.delete(fullKey));
  }
  entry.refs++;
  const e = entry;
  let s: CreatedSession;
  try { s = await e.promise; } catch (err) { e.refs--; throw err; }
  let released = false;
  return {
    ...s,
    ...(prior ? { fallbackReason: prior } : {}),
    release: async () => {
      if (released) return;
      released = true;
      e.refs--;
      if (e.dead && e.refs === 0) { try { await s.session.release(); } catch { /* already gone */ } }
      await evictIdle();
    },
  };
}

/**
 * A cached session used by one explainer. Under 'auto', when its GPU provider fails on the first run, it moves to a
 * CPU session for the same model (fallbackReason says why) and reruns; a forced GPU provider that fails to run
 * raises EP_UNAVAILABLE; a CPU failure raises BAD_INPUT.
 */
export class ManagedSession {
  private proven = false;
  private switching: Promise<void> | null = null;
  private constructor(private cur: AcquiredSession, private readonly key: string, private readonly build: () => Uint8Array,
    private readonly requested: ExecutionProviderName | 'auto', private readonly what: string, private readonly cacheId?: string) {}

  /** `cacheId`: the model's identity for the on-disk cache of optimised CPU models (disk-cache.ts); none: not cached */
  static async open(key: string, build: () => Uint8Array, ep: ExecutionProviderName | 'auto', what: string, cacheId?: string): Promise<ManagedSession> {
    return new ManagedSession(await acquireSession(key, build, ep, cacheId), key, build, ep, what, cacheId);
  }
  /** the provider in use now */
  get ep(): ExecutionProviderName { return this.cur.ep; }
  get fallbackReason(): string | undefined { return this.cur.fallbackReason; }

  async run(feeds: ort.InferenceSession.FeedsType, fetches: string[]): Promise<ort.InferenceSession.ReturnType> {
    for (;;) {
      const s = this.cur;
      try {
        const r = await s.session.run(feeds, fetches);
        if (this.cur === s) this.proven = true;
        return r;
      } catch (err) {
        if (this.cur !== s) continue; // a concurrent run already moved to CPU: rerun there
        const msg = firstLine(err);
        if (s.ep === 'cpu') throw new ExplainError('BAD_INPUT', `running the ${this.what} failed: ${msg}`, { cause: err });
        if (this.requested !== 'auto' || this.proven) {
          const hint = this.requested === 'auto' ? '' : `; ep 'auto' falls back to cpu`;
          throw new ExplainError('EP_UNAVAILABLE', `execution provider '${s.ep}' failed to run the ${this.what}: ${msg}${hint}`, { cause: err });
        }
        this.switching ??= this.fallBack(s, msg).finally(() => { this.switching = null; });
        await this.switching;
      }
    }
  }

  private async fallBack(failing: AcquiredSession, msg: string): Promise<void> {
    const reason = `${failing.ep} failed on the first run of the ${this.what} (${msg}): using cpu`;
    runFailures.set(this.key, reason);
    // the failing 'auto' session leaves the cache; it is released once nobody uses it
    const full = `${this.key}|auto`;
    const entry = entries.get(full);
    if (entry) { entries.delete(full); entry.dead = true; }
    const next = await acquireSession(this.key, this.build, 'cpu', this.cacheId);
    this.cur = { ...next, fallbackReason: reason };
    await failing.release();
  }

  async release(): Promise<void> { await this.cur.release(); }
}

/** `f` called once (a model is serialised once when several providers are tried), again only when its bytes moved away */
function once(f: () => Uint8Array): () => Uint8Array {
  let v: Uint8Array | null = null;
  return () => {
    if (!v || v.byteLength === 0) v = f();
    return v;
  };
}

async function evictIdle(): Promise<void> {
  const idle = [...entries.values()].filter((x) => x.refs === 0);
  while (idle.length > MAX_IDLE) {
    const victim = idle.shift()!;
    entries.delete(victim.key);
    try { await (await victim.promise).session.release(); } catch { /* already gone */ }
  }
}

/** Release every idle cached session (tests, shutdown). */
export async function clearSessionCache(): Promise<void> {
  for (const x of [...entries.values()]) {
    if (x.refs > 0) continue;
    entries.delete(x.key);
    try { await (await x.promise).session.release(); } catch { /* ignore */ }
  }
}

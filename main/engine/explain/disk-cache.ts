/**
 * What a process would otherwise redo at every start, kept on disk (the whole-process `glassbox explain` spends
 * most of its fixed start-up here):
 *   <root>/probe/<key>.json     a model's probed tensor shapes, element types and small integer constants
 *                               (graph-info.ts runs the model with every intermediate exposed, twice);
 *   <root>/sessions/<key>.onnx  an ORT-optimised CPU model (the augmented explanation model or the forward model),
 *                               saved by ORT while it builds the first session (optimizedModelFilePath) and loaded by
 *                               later ones with graph optimisation off: the layout transforms and constant folding
 *                               over every weight are the bulk of session creation.
 * Keys: the model's content hash, ORT's version, a format version, and for sessions the digest of the whole graph
 * except the model's own weights (so any change to the emitted backward graph is a new key), the session options,
 * CPU model and architecture (an optimised CPU model may hold kernels laid out for this CPU).
 * Writes go to a temporary name and are renamed into place. At most MAX_SESSIONS optimised models are kept (least
 * recently used go first). Root: GLASSBOX_CACHE_DIR, else $XDG_CACHE_HOME/glassbox, else ~/.cache/glassbox, plus
 * /explain. GLASSBOX_EXPLAIN_CACHE=0 turns the cache off. A broken entry is ignored and rebuilt.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, homedir } from 'node:os';
import { join } from 'node:path';

const FORMAT = 1;
/** optimised models kept (each about the size of the model) */
export const MAX_SESSIONS = 8;

const ORT_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export function explainCacheDir(): string | null {
  if (process.env.GLASSBOX_EXPLAIN_CACHE === '0') return null;
  const base = process.env.GLASSBOX_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'glassbox');
  return join(base, 'explain');
}

export function digest(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 40);
}

function atomicWrite(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
  }
}

// ---- probed shapes ----

export interface ProbeRecord {
  dims: Array<[string, number[]]>;
  dtypes: Array<[string, string]>;
  probed: Array<[string, number[]]>;
}

function probePath(modelKey: string): string | null {
  const root = explainCacheDir();
  return root ? join(root, 'probe', `${digest(modelKey, ORT_VERSION, String(FORMAT))}.json`) : null;
}

export function loadProbe(modelKey: string): ProbeRecord | null {
  const p = probePath(modelKey);
  if (!p) return null;
  try {
    const r = JSON.parse(readFileSync(p, 'utf8')) as ProbeRecord & { format?: number };
    if (r.format !== FORMAT || !Array.isArray(r.dims) || !Array.isArray(r.dtypes) || !Array.isArray(r.probed)) return null;
    return r;
  } catch {
    return null;
  }
}

export function saveProbe(modelKey: string, rec: ProbeRecord): void {
  const p = probePath(modelKey);
  if (!p) return;
  try {
    mkdirSync(join(p, '..'), { recursive: true });
    atomicWrite(p, JSON.stringify({ format: FORMAT, ...rec }));
  } catch { /* a read-only cache folder only costs time */ }
}

// ---- optimised CPU sessions ----

/** The cache file for a CPU session of a model identified by `id` (model hash + graph digest), or null when off. */
export function sessionCachePath(id: string, options: object): string | null {
  const root = explainCacheDir();
  if (!root) return null;
  const cpu = cpus()[0]?.model ?? 'unknown-cpu';
  return join(root, 'sessions', `${digest(id, ORT_VERSION, String(FORMAT), JSON.stringify(options), cpu, arch())}.onnx`);
}

/** The cached optimised model at `path` when it is there (and marks it recently used). */
export function cachedSession(path: string): string | null {
  try {
    if (statSync(path).size === 0) return null;
    const now = new Date();
    utimesSync(path, now, now);
    return path;
  } catch {
    return null;
  }
}

/** A temporary name for ORT to write the optimised model to; commitSession renames it into place. */
export function sessionTempPath(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}.onnx`;
}

export function commitSession(tmp: string, path: string): void {
  try {
    renameSync(tmp, path);
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
    return;
  }
  prune(join(path, '..'));
}

export function discard(tmp: string): void {
  try { unlinkSync(tmp); } catch { /* never written */ }
}

function prune(dir: string): void {
  try {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.onnx') && !f.includes('.tmp-'))
      .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { f } of files.slice(MAX_SESSIONS)) unlinkSync(join(dir, f));
  } catch { /* another process pruned first */ }
}

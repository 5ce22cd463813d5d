/**
 * On-disk result cache, keyed by what determines a result: slide content (sha256), model content (sha256 of
 * model.onnx + config.json), classes, method, signed, layer and grid settings. One folder per key:
 *   <root>/<key>/          a complete result: its files + manifest.json (sizes and sha256 of every file);
 *                          written to a temporary folder and renamed into place, so it appears whole or not at all
 *   <root>/<key>.partial/  an interrupted run (manifest.json says complete: false): resumed, never read as complete
 * A folder whose manifest or files do not check out is ignored (and replaced by the next save).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '../explain/npy.js';
import type { PartialState } from './pipeline.js';

export function defaultCacheDir(): string {
  const base = process.env.GLASSBOX_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'glassbox');
  return join(base, 'analysis');
}

export function sha256Hex(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** sha256 of a file's bytes, streamed; remembered per (path, size, mtime) under `memoDir`. */
export async function fileSha256(path: string, memoDir?: string): Promise<string> {
  const st = await stat(path);
  const memoKey = sha256Hex(`${path}\0${st.size}\0${st.mtimeMs}`);
  const memo = memoDir ? join(memoDir, 'hashes', memoKey) : null;
  if (memo) {
    try {
      const v = (await readFile(memo, 'utf8')).trim();
      if (/^[0-9a-f]{64}$/.test(v)) return v;
    } catch { /* not memoised */ }
  }
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 1 << 22 }).on('data', (c) => h.update(c)).on('end', resolve).on('error', reject);
  });
  const hex = h.digest('hex');
  if (memo) await atomicWrite(memo, hex).catch(() => {});
  return hex;
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

interface Manifest {
  key: string;
  complete: boolean;
  files: Record<string, { bytes: number; sha256: string }>;
  meta?: Record<string, unknown>;
}

export class ResultCache {
  constructor(readonly root: string = defaultCacheDir()) {}

  private async writeFolder(dir: string, key: string, complete: boolean, files: Map<string, Uint8Array>, meta?: Record<string, unknown>): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await mkdir(tmp, { recursive: true });
    const manifest: Manifest = { key, complete, files: {}, meta };
    for (const [name, bytes] of files) {
      await writeFile(join(tmp, name), bytes);
      manifest.files[name] = { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
    }
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    // replace: move any old folder aside first, so `dir` is never half-written
    const old = `${dir}.old-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await rename(dir, old).catch(() => {});
    await rename(tmp, dir);
    await rm(old, { recursive: true, force: true });
  }

  /** The files of a verified folder, or null (missing, partial where complete is wanted, or corrupt). */
  private async readFolder(dir: string, key: string, complete: boolean): Promise<{ files: Map<string, Uint8Array>; meta?: Record<string, unknown> } | null> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      return null;
    }
    if (manifest?.key !== key || manifest.complete !== complete || typeof manifest.files !== 'object') return null;
    const files = new Map<string, Uint8Array>();
    for (const [name, want] of Object.entries(manifest.files)) {
      if (name.includes('/') || name.includes('\\') || name.startsWith('.')) return null;
      try {
        const bytes = new Uint8Array(await readFile(join(dir, name)));
        if (bytes.byteLength !== want.bytes || sha256Hex(bytes) !== want.sha256) return null;
        files.set(name, bytes);
      } catch {
        return null;
      }
    }
    return { files, meta: manifest.meta };
  }

  /** A complete, verified result's files, or null. */
  async get(key: string): Promise<Map<string, Uint8Array> | null> {
    return (await this.readFolder(join(this.root, key), key, true))?.files ?? null;
  }

  async put(key: string, files: Map<string, Uint8Array>): Promise<void> {
    await this.writeFolder(join(this.root, key), key, true, files);
    await rm(join(this.root, `${key}.partial`), { recursive: true, force: true });
  }

  async getPartial(key: string, classes: readonly number[]): Promise<PartialState | null> {
    const r = await this.readFolder(join(this.root, `${key}.partial`), key, false);
    if (!r) return null;
    try {
      const indices = JSON.parse(new TextDecoder().decode(r.files.get('indices.json')!)) as number[];
      const probabilities = decodeNpy(r.files.get('probabilities.npy')!).data;
      const maps = new Map<number, Float32Array>();
      for (const k of classes) maps.set(k, decodeNpy(r.files.get(`maps-${k}.npy`)!).data);
      if (!Array.isArray(indices) || !indices.every((i) => Number.isInteger(i) && i >= 0)) return null;
      const n = indices.length;
      if (n === 0 || probabilities.length % n !== 0) return null;
      for (const m of maps.values()) if (m.length % n !== 0) return null;
      return { indices, maps, probabilities };
    } catch {
      return null;
    }
  }

  async putPartial(key: string, s: PartialState): Promise<void> {
    const n = s.indices.length;
    if (n === 0) return;
    const files = new Map<string, Uint8Array>();
    files.set('indices.json', new TextEncoder().encode(JSON.stringify(s.indices)));
    files.set('probabilities.npy', encodeNpy({ data: s.probabilities, dims: [n, s.probabilities.length / n] }));
    for (const [k, m] of s.maps) files.set(`maps-${k}.npy`, encodeNpy({ data: m, dims: [n, m.length / n] }));
    await this.writeFolder(join(this.root, `${key}.partial`), key, false, files);
  }

  /** keys of complete entries (for tests and housekeeping) */
  async keys(): Promise<string[]> {
    try {
      return (await readdir(this.root)).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch {
      return [];
    }
  }
}

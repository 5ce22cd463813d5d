/**
 * Per-slide annotation store: one JSON file per slide, `<dataDir>/<key>.json`, keyed by the slide's content
 * fingerprint (slideFingerprint: a renamed or moved slide keeps its annotations).
 *
 * Durability: every change is written as a whole new file — temp file in the same folder, fsync, rename over the
 * old one, fsync the folder — so the file on disk is always a complete old or complete new state; a crash or
 * `kill -9` at any moment loses at most the change in flight. Changes that arrive while a write is running are
 * coalesced into the next write (each caller's promise resolves once a write containing its change is durable).
 * Temp files left by a killed process are removed on open.
 *
 * Corruption: a file that is not valid JSON or not this format is renamed to `<key>.json.corrupt-<timestamp>` and
 * the store opens empty, with a notice saying so; a file with some unreadable annotations loads the readable ones,
 * keeps a copy of the original as `<key>.json.corrupt-<timestamp>` and lists what was skipped. Nothing is dropped
 * silently or overwritten. One process should write a given store at a time (the app's main process).
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { validateAnnotation, validateClass } from './model.js';
import { AnnotationError, type Annotation, type AnnotationClass, type AnnotationStoreApi } from './types.js';

export const STORE_FORMAT = 'glassbox-annotations';
export const STORE_VERSION = 1;
const MIB = 1 << 20;

/**
 * A slide's content fingerprint: sha256 over its size and three 1 MiB samples (start — where TIFF/SVS/NDPI keep
 * their header and usually the first directories —, middle and end). Cheap (≤ 3 MiB read) and unchanged by renames
 * and moves; any re-save of the image changes it.
 */
export async function slideFingerprint(path: string | readonly string[]): Promise<string> {
  // a multi-file slide (a DICOM series): the fingerprint over each file's
  if (typeof path !== 'string' && path.length === 0) throw new AnnotationError('BAD_INPUT', 'slideFingerprint: no files');
  if (typeof path !== 'string' && path.length !== 1) return createHash('sha256').update((await Promise.all(path.map((p) => slideFingerprint(p)))).join('\n')).digest('hex');
  if (typeof path !== 'string') path = path[0];
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const h = createHash('sha256').update(`glassbox-slide-fingerprint-v1\0${size}\0`);
    const starts = size <= 3 * MIB ? [0] : [0, Math.floor(size / 2 - MIB / 2), size - MIB];
    for (const s of starts) {
      const buf = Buffer.alloc(Math.min(size <= 3 * MIB ? size : MIB, size - s));
      const { bytesRead } = await fh.read(buf, 0, buf.length, s);
      h.update(buf.subarray(0, bytesRead));
    }
    return h.digest('hex');
  } finally {
    await fh.close();
  }
}

const KEY_RE = /^[A-Za-z0-9_-]{1,128}$/;

const stamp = (d = new Date()) => d.toISOString().replace(/[:.]/g, '-');

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Windows cannot open/fsync a directory; the rename is still atomic there
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

/** write `data` to `path` atomically and durably (temp + fsync + rename + fsync dir) */
export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  const dir = join(path, '..');
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fsyncDir(dir);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

interface Waiter { v: number; resolve: () => void; reject: (e: unknown) => void }

class AnnotationStore implements AnnotationStoreApi {
  readonly notices: string[] = [];
  private items = new Map<string, Annotation>();
  private classList: AnnotationClass[] = [];
  private version = 0;
  private waiters: Waiter[] = [];
  private writing = false;

  constructor(readonly key: string, readonly file: string) {}

  list(): Annotation[] { return [...this.items.values()].map((a) => structuredClone(a)); }
  get(id: string): Annotation | undefined { const a = this.items.get(id.toLowerCase()); return a && structuredClone(a); }
  classes(): AnnotationClass[] { return structuredClone(this.classList); }

  async put(a: Annotation): Promise<void> { return this.putMany([a]); }

  async putMany(list: Annotation[]): Promise<void> {
    const valid = list.map((a, i) => validateAnnotation(structuredClone(a), undefined, `annotations[${i}]`));
    for (const a of valid) this.items.set(a.id, a);
    return this.save();
  }

  async delete(id: string): Promise<boolean> {
    if (!this.items.delete(id.toLowerCase())) return false;
    await this.save();
    return true;
  }

  async replaceAll(annotations: Annotation[], classes?: AnnotationClass[]): Promise<void> {
    const valid = annotations.map((a, i) => validateAnnotation(structuredClone(a), undefined, `annotations[${i}]`));
    const cls = classes?.map((c, i) => validateClass(c, `classes[${i}]`));
    const ids = new Set(valid.map((a) => a.id));
    if (ids.size !== valid.length) throw new AnnotationError('BAD_INPUT', 'annotations: duplicate ids');
    this.items = new Map(valid.map((a) => [a.id, a]));
    if (cls) this.classList = cls;
    return this.save();
  }

  async setClasses(classes: AnnotationClass[]): Promise<void> {
    const cls = classes.map((c, i) => validateClass(c, `classes[${i}]`));
    if (new Set(cls.map((c) => c.name)).size !== cls.length) throw new AnnotationError('BAD_INPUT', 'classes: duplicate names');
    this.classList = cls;
    return this.save();
  }

  flush(): Promise<void> {
    return this.waiters.length ? new Promise((resolve, reject) => this.waiters.push({ v: this.version, resolve, reject })) : Promise.resolve();
  }

  private serialize(): string {
    return JSON.stringify({
      format: STORE_FORMAT, version: STORE_VERSION, key: this.key, savedAt: new Date().toISOString(),
      classes: this.classList, annotations: [...this.items.values()],
    });
  }

  private save(): Promise<void> {
    const v = ++this.version;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ v, resolve, reject }));
    void this.pump();
    return p;
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.waiters.length) {
        const v = this.version;
        let err: unknown = null;
        try {
          await atomicWriteFile(this.file, this.serialize());
        } catch (e) {
          err = new AnnotationError('STORE', `could not save annotations to ${this.file}: ${(e as Error).message}`, { cause: e });
        }
        const done = this.waiters.filter((w) => w.v <= v);
        this.waiters = this.waiters.filter((w) => w.v > v);
        for (const w of done) if (err) w.reject(err); else w.resolve();
      }
    } finally {
      this.writing = false;
    }
  }

  /** load the file (called once by openAnnotationStore) */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AnnotationError('STORE', `cannot read ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
      if (typeof doc !== 'object' || doc === null || doc.format !== STORE_FORMAT) throw new Error(`not a ${STORE_FORMAT} file`);
      if (doc.version !== STORE_VERSION) throw new Error(`format version ${String(doc.version)} (this build reads ${STORE_VERSION})`);
      if (!Array.isArray(doc.annotations) || !Array.isArray(doc.classes)) throw new Error('annotations or classes missing');
    } catch (e) {
      const aside = `${this.file}.corrupt-${stamp()}`;
      await rename(this.file, aside);
      this.notices.push(`The annotation store ${basename(this.file)} could not be read (${(e as Error).message}); `
        + `it was set aside as ${basename(aside)} and this slide starts with no annotations.`);
      return;
    }
    const problems: string[] = [];
    (doc.annotations as unknown[]).forEach((a, i) => {
      try {
        const v = validateAnnotation(a, undefined, `annotations[${i}]`);
        if (this.items.has(v.id)) throw new Error(`annotations[${i}]: duplicate id ${v.id}`);
        this.items.set(v.id, v);
      } catch (e) { problems.push((e as Error).message); }
    });
    (doc.classes as unknown[]).forEach((c, i) => {
      try { this.classList.push(validateClass(c, `classes[${i}]`)); } catch (e) { problems.push((e as Error).message); }
    });
    if (problems.length) {
      const aside = `${this.file}.corrupt-${stamp()}`;
      await copyFile(this.file, aside);
      this.notices.push(`${problems.length} item(s) of the annotation store ${basename(this.file)} could not be read and were skipped `
        + `(${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}); the original file was kept as ${basename(aside)}.`);
    }
  }

  /** remove temp files of writers that no longer run */
  async cleanTemps(): Promise<void> {
    const dir = join(this.file, '..'), base = basename(this.file);
    for (const n of await readdir(dir)) {
      const m = new RegExp(`^${base.replace(/[.]/g, '\\.')}\\.tmp-(\\d+)-`).exec(n);
      if (m && (Number(m[1]) === process.pid ? false : !alive(Number(m[1])))) await unlink(join(dir, n)).catch(() => {});
    }
  }
}

/** Opens (creating the folder if needed) the store of the slide with fingerprint `key` in `dataDir`. */
export async function openAnnotationStore(dataDir: string, key: string): Promise<AnnotationStoreApi> {
  if (!KEY_RE.test(key)) throw new AnnotationError('BAD_INPUT', `store key must be 1–128 letters, digits, '-' or '_' (got '${key}')`);
  await mkdir(dataDir, { recursive: true });
  const st = await stat(dataDir);
  if (!st.isDirectory()) throw new AnnotationError('STORE', `${dataDir} is not a folder`);
  const store = new AnnotationStore(key, join(dataDir, `${key}.json`));
  await store.cleanTemps();
  await store.load();
  return store;
}

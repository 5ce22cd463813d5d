/**
 * Folder browsing for the HTTP host (`glassbox serve --root DIR…`): lists sub-folders and slide files, and only
 * under the roots the operator named. A path is refused unless it is absolute, has no '..' segment, and its real
 * path (symlinks resolved) lies inside a root's real path; entries that are symlinks leading outside are left out.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { BrowseDTO, BrowseEntryDTO } from '../contract/slides.js';
import { ServiceError } from './errors.js';

/** entries returned per folder (dirs first); the rest is reported as truncated */
export const MAX_BROWSE_ENTRIES = 2000;
/** file name endings the slide reader opens (DICOM series are opened as folders too) */
export const SLIDE_FILE_RE = /\.(svs|ndpi|tiff?|btf|tf8|dcm|ome\.tiff?)$/i;

const inside = (p: string, root: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

export class FolderBrowser {
  private real: Promise<string[]> | null = null;

  /** `roots`: absolute folders (checked to exist by the caller; resolved again here) */
  constructor(readonly roots: readonly string[]) {
    for (const r of roots) if (!isAbsolute(r)) throw new TypeError(`browse root '${r}' must be absolute`);
  }

  get enabled(): boolean {
    return this.roots.length > 0;
  }

  private realRoots(): Promise<string[]> {
    this.real ??= Promise.all(this.roots.map((r) => realpath(r).catch(() => resolve(r))));
    return this.real;
  }

  /** The real path of `path` when it lies inside a root, else null. */
  private async contained(path: string): Promise<string | null> {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return null;
    }
    return (await this.realRoots()).some((r) => inside(real, r)) ? real : null;
  }

  async list(path?: string): Promise<BrowseDTO> {
    if (!this.enabled) throw new ServiceError('NOT_FOUND', 'this host has no folders to browse (start it with glassbox serve --root DIR)');
    if (path === undefined) {
      const entries: BrowseEntryDTO[] = this.roots.map((r) => ({ name: basename(r) || r, path: r, kind: 'dir' }));
      return { path: null, parent: null, entries, truncated: false };
    }
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw new ServiceError('BAD_REQUEST', 'browse: "path" must be a non-empty string without NUL bytes');
    if (!isAbsolute(path)) throw new ServiceError('BAD_REQUEST', `browse: "path" must be absolute (got '${path.slice(0, 200)}')`);
    if (path.split(/[\\/]/).includes('..')) throw new ServiceError('BAD_REQUEST', "browse: '..' is not allowed in a path");
    const real = await this.contained(path);
    if (real === null) throw new ServiceError('FORBIDDEN', `browse: '${path.slice(0, 200)}' is not inside a folder this host was started with (--root)`);
    const st = await stat(real);
    if (!st.isDirectory()) throw new ServiceError('BAD_REQUEST', `browse: '${path.slice(0, 200)}' is not a folder`);
    const here = resolve(path);
    const dirs: BrowseEntryDTO[] = [];
    const files: BrowseEntryDTO[] = [];
    let total = 0;
    for (const d of await readdir(real, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      const full = join(here, d.name);
      let size: number | undefined;
      if (d.isSymbolicLink()) {
        // a link is listed only when it leads somewhere inside the roots
        const target = await this.contained(join(real, d.name));
        if (target === null) continue;
        const t = await stat(target).catch(() => null);
        isDir = !!t?.isDirectory();
        isFile = !!t?.isFile();
        size = t?.size;
      }
      if (isDir) {
        total++;
        dirs.push({ name: d.name, path: full, kind: 'dir' });
      } else if (isFile && SLIDE_FILE_RE.test(d.name)) {
        total++;
        size ??= (await stat(join(real, d.name)).catch(() => null))?.size;
        files.push({ name: d.name, path: full, kind: 'slide', ...(size !== undefined ? { size } : {}) });
      }
    }
    const byName = (a: BrowseEntryDTO, b: BrowseEntryDTO) => a.name.localeCompare(b.name, undefined, { numeric: true });
    const entries = [...dirs.sort(byName), ...files.sort(byName)].slice(0, MAX_BROWSE_ENTRIES);
    const atRoot = this.roots.some((r) => resolve(r) === here) || (await this.realRoots()).includes(real);
    return { path: here, parent: atRoot ? null : dirname(here), entries, truncated: total > entries.length };
  }
}

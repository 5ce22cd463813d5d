/**
 * SlideService (contract) over the slide engine: a registry of open slides under opaque random ids (one per open:
 * the same file opened twice shares one Slide, closed with its last id)
 * (only these are ever served), mpp overrides, recent files, DTO mapping, error mapping.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { BrowseDTO, HostInfoDTO, OpenSlideRequest, RecentFileDTO, SetMppRequest, SlideInfoDTO } from '../contract/slides.js';
import { MPP_OVERRIDE_RANGE, SLIDE_ID_RE } from '../contract/slides.js';
import type { Mpp, OpenSlideOptions, Slide } from '../engine/slide/types.js';
import { SlideTiler, TileCache, dzsave, type DzSaveOptions, type DzSaveResult, type TileCacheOptions, type TilerOptions } from '../engine/tiles/index.js';
import { ServiceError } from './errors.js';
import { toSlideInfoDTO } from './dto.js';
import type { SlideHostService } from './host.js';
import { RecentFiles } from './recent.js';
import { FolderBrowser } from './browse.js';

export type OpenSlideFn = (path: string, opts?: OpenSlideOptions) => Promise<Slide>;

export interface SlideServiceDeps {
  host: HostInfoDTO['host'];
  version?: string;
  /** where recent.json lives; undefined keeps the list in memory */
  configDir?: string;
  /** the engine's openSlide (injectable for tests) */
  openSlide?: OpenSlideFn;
  /** Deep Zoom tile size / overlap / JPEG quality (default: tileSize 'native' — the file's tiles, passed through) */
  tiles?: TilerOptions;
  cache?: TileCacheOptions;
  /**
   * May this (absolute, resolved) path be opened? Undefined allows any path (the HTTP host: its guard
   * blocks cross-site use). The Electron host passes its allow-list of paths the user chose.
   */
  authorizeOpen?: (path: string) => boolean | Promise<boolean>;
  /** absolute folders whose sub-folders and slide files browse() lists (`glassbox serve --root DIR`); none: no browsing */
  browseRoots?: string[];
}

/** One opened file, shared by every open of the same path; closed when the last open of it is closed. */
interface Shared {
  path: string;
  slide: Slide;
  tiler: SlideTiler;
  refs: number;
}

/** One open (one client's handle): its own id over a shared slide, so one client's DELETE never breaks another's. */
interface Entry {
  id: string;
  path: string;
  shared: Shared;
  slide: Slide;
  tiler: SlideTiler;
  mppOverride: { x: number; y: number } | null;
}

async function defaultOpenSlide(path: string, opts?: OpenSlideOptions): Promise<Slide> {
  const mod = (await import('../engine/slide/index.js')) as { openSlide: OpenSlideFn };
  return mod.openSlide(path, opts);
}

export function newSlideId(): string {
  return randomBytes(16).toString('base64url'); // 22 chars of [A-Za-z0-9_-]
}

export class SlideServiceImpl implements SlideHostService {
  private readonly slides = new Map<string, Entry>();
  private readonly files = new Map<string, Shared>();
  private readonly opening = new Map<string, Promise<Shared>>();
  readonly cache: TileCache;
  readonly recentFiles: RecentFiles;
  private readonly openFn: OpenSlideFn;
  private readonly browser: FolderBrowser;

  constructor(private readonly deps: SlideServiceDeps) {
    this.cache = new TileCache(deps.cache);
    this.recentFiles = new RecentFiles(deps.configDir);
    this.openFn = deps.openSlide ?? defaultOpenSlide;
    this.browser = new FolderBrowser(deps.browseRoots ?? []);
  }

  async open(req: OpenSlideRequest): Promise<SlideInfoDTO> {
    if (!req || typeof req.path !== 'string' || req.path.length === 0) throw new ServiceError('BAD_REQUEST', 'open: "path" must be a non-empty string');
    if (req.path.includes('\0')) throw new ServiceError('BAD_REQUEST', 'open: "path" contains a NUL byte');
    if (!isAbsolute(req.path)) throw new ServiceError('BAD_REQUEST', `open: "path" must be absolute (got '${req.path}')`);
    const path = resolve(req.path);
    if (this.deps.authorizeOpen && !(await this.deps.authorizeOpen(path))) {
      throw new ServiceError('FORBIDDEN', `open: '${path}' was not chosen by the user (open it with File ▸ Open, drag-and-drop, the recent list or the command line)`);
    }
    let shared = this.files.get(path); // the same file again: the same slide, a new id
    while (!shared) {
      let pending = this.opening.get(path);
      if (!pending) {
        pending = (async () => {
          const slide = await this.openFn(path);
          const tiler = new SlideTiler(slide, this.cache, newSlideId(), { tileSize: 'native', ...this.deps.tiles });
          const fresh: Shared = { path, slide, tiler, refs: 0 };
          this.files.set(path, fresh);
          return fresh;
        })().finally(() => this.opening.delete(path));
        this.opening.set(path, pending);
      }
      const opened = await pending;
      // closed again while this call waited (its last other holder let go): open it afresh
      if (this.files.get(path) === opened) shared = opened;
    }
    shared.refs++;
    const entry: Entry = { id: newSlideId(), path, shared, slide: shared.slide, tiler: shared.tiler, mppOverride: null };
    this.slides.set(entry.id, entry);
    await this.recentFiles.add(path).catch(() => {
      /* a read-only config dir must not stop a slide from opening */
    });
    return this.dto(entry);
  }

  async list(): Promise<SlideInfoDTO[]> {
    return [...this.slides.values()].map((e) => this.dto(e));
  }

  async get(id: string): Promise<SlideInfoDTO> {
    return this.dto(this.entry(id));
  }

  async close(id: string): Promise<void> {
    const e = this.entry(id);
    this.slides.delete(id);
    if (--e.shared.refs > 0) return; // another open of the same file still uses it
    if (this.files.get(e.path) === e.shared) this.files.delete(e.path);
    e.shared.tiler.dispose();
    await e.shared.slide.close();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.slides.keys()].map((id) => this.close(id)));
  }

  async setMpp(id: string, req: SetMppRequest): Promise<SlideInfoDTO> {
    const e = this.entry(id);
    if (!req || !('mpp' in req)) throw new ServiceError('BAD_REQUEST', 'setMpp: body must be {"mpp": {"x": number, "y": number} | null}');
    if (req.mpp === null) e.mppOverride = null;
    else {
      const { x, y } = req.mpp;
      for (const [k, v] of Object.entries({ x, y })) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < MPP_OVERRIDE_RANGE.min || v > MPP_OVERRIDE_RANGE.max) {
          throw new ServiceError('BAD_REQUEST', `setMpp: mpp.${k} must be a number from ${MPP_OVERRIDE_RANGE.min} to ${MPP_OVERRIDE_RANGE.max} µm/px (got ${v})`);
        }
      }
      e.mppOverride = { x, y };
    }
    return this.dto(e);
  }

  recent(): Promise<RecentFileDTO[]> {
    return this.recentFiles.list();
  }

  /** A folder under the browse roots (sub-folders and slide files only); no path: the roots. */
  browse(path?: string): Promise<BrowseDTO> {
    return this.browser.list(path);
  }

  async hostInfo(): Promise<HostInfoDTO> {
    return { app: 'glassbox', version: this.version, host: this.deps.host, browse: this.browser.enabled };
  }

  async dziXml(id: string): Promise<string> {
    return this.entry(id).tiler.dziXml();
  }

  dziTile(id: string, level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array> {
    return this.entry(id).tiler.dziTile(level, col, row, signal);
  }

  nativeTile(id: string, level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array> {
    return this.entry(id).tiler.nativeTile(level, col, row, signal);
  }

  associated(id: string, name: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.entry(id).tiler.associated(name, signal);
  }

  regionPng(id: string, r: { x: number; y: number; w: number; h: number; level: number }, signal?: AbortSignal): Promise<Uint8Array> {
    return this.entry(id).tiler.regionPng(r.x, r.y, r.level, r.w, r.h, signal);
  }

  /** A complete Deep Zoom export of an open slide to OUTDIR/<name>.dzi + <name>_files/ (`glassbox dzi`; engine dzsave). */
  exportDeepZoom(id: string, outDir: string, name: string, opts?: DzSaveOptions): Promise<DzSaveResult> {
    return dzsave(this.entry(id).slide, outDir, name, opts);
  }

  /** The tiler of an open slide (tests and benchmarks inspect its counters; hosts use the methods above). */
  tiler(id: string): SlideTiler {
    return this.entry(id).tiler;
  }

  mpp(id: string): Mpp | null {
    const e = this.entry(id);
    return e.mppOverride ? { ...e.mppOverride, source: 'user' } : e.slide.properties.mpp;
  }

  /** The engine slide behind an open id, and its effective µm/px (for the analysis service; never sent to clients). */
  slideFor(id: string): { slide: Slide; path: string; mpp: Mpp | null } {
    const e = this.entry(id);
    return { slide: e.slide, path: e.path, mpp: this.mpp(e.id) };
  }

  /** the app's version as the host passed it (package.json's, read by the composition root); 'unknown' in bare tests */
  get version(): string {
    return this.deps.version ?? 'unknown';
  }

  private entry(id: string): Entry {
    if (typeof id !== 'string' || !SLIDE_ID_RE.test(id)) throw new ServiceError('BAD_REQUEST', `invalid slide id '${String(id).slice(0, 80)}'`);
    const e = this.slides.get(id);
    if (!e) throw new ServiceError('NOT_FOUND', `no open slide with id '${id}' (open it first)`);
    return e;
  }

  private dto(e: Entry): SlideInfoDTO {
    return toSlideInfoDTO(e.id, e.path, e.slide.properties, this.mpp(e.id), e.tiler.geometry);
  }
}

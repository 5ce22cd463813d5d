/**
 * App state (Svelte 5 runes) and the actions that change it. The only I/O is the contract API.
 * Room left for what comes next: `layers` (a heatmap as a second TiledImage with opacity, a layers panel).
 */
import type { HostInfoDTO, RecentFileDTO, SlideInfoDTO } from '../../../main/contract/slides.js';
import type { GlassboxBridge } from '../../../main/contract/bridge.js';
import { ApiError, createApi, errorFromBody } from './api.js';

export interface UiError {
  id: number;
  title: string;
  message: string;
  code?: string;
}

export interface Layer {
  id: string;
  name: string;
  kind: 'slide' | 'heatmap';
  visible: boolean;
  opacity: number;
}

export const api = createApi();

export const bridge: GlassboxBridge | null =
  typeof window !== 'undefined' ? ((window as unknown as { glassbox?: GlassboxBridge }).glassbox ?? null) : null;

export const app = $state({
  host: null as HostInfoDTO | null,
  slide: null as SlideInfoDTO | null,
  /** every slide the host has open (e.g. `glassbox serve A.svs B.ndpi`): tabs switch between them when > 1 */
  openSlides: [] as SlideInfoDTO[],
  /** message while opening ("Opening CMU-1.svs…"), null when idle */
  loading: null as string | null,
  /** the open slide's first view is drawn (or 3 s have passed): secondary requests (associated images) wait for it */
  viewReady: false,
  errors: [] as UiError[],
  notices: [] as UiError[],
  recent: [] as RecentFileDTO[],
  showInfo: true,
  showNavigator: true,
  showHelp: false,
  showOpen: false,
  showAbout: false,
  /** hint shown in the open dialog (e.g. after a browser drop) */
  openHint: '' as string,
  /** screen px per level-0 px, updated by the viewer */
  zoom: 0,
  cursor: null as { x: number; y: number } | null,
  tileSource: 'native' as 'native' | 'dzi',
  layers: [{ id: 'slide', name: 'Slide', kind: 'slide', visible: true, opacity: 1 }] as Layer[],
});

let nextId = 1;

export function pushError(title: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof ApiError ? err.code : undefined;
  // de-duplicate identical messages that are already visible
  if (app.errors.some((e) => e.title === title && e.message === message)) return;
  app.errors.push({ id: nextId++, title, message, code });
  if (app.errors.length > 5) app.errors.shift();
}

export function pushNotice(title: string, message: string): void {
  app.notices.push({ id: nextId++, title, message });
  if (app.notices.length > 3) app.notices.shift();
}

export function dismissError(id: number): void {
  app.errors = app.errors.filter((e) => e.id !== id);
  app.notices = app.notices.filter((e) => e.id !== id);
}

export async function refreshRecent(): Promise<void> {
  try {
    app.recent = await api.recent();
  } catch (e) {
    pushError('Could not load the recent files', e);
  }
}

export async function loadHost(): Promise<void> {
  try {
    app.host = await api.hostInfo();
  } catch (e) {
    pushError('Glassbox host not reachable', e);
  }
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export async function openPath(path: string): Promise<boolean> {
  const p = path.trim();
  if (!p) {
    pushError('Nothing to open', new Error('Enter the full path of a slide file on the host machine.'));
    return false;
  }
  app.loading = `Opening ${baseName(p)}…`;
  try {
    const info = await api.open(p);
    const previous = app.slide;
    app.slide = info;
    app.tileSource = 'native';
    app.errors = [];
    app.showOpen = false;
    app.openHint = '';
    // one slide at a time, as the desktop app works; with several open (slide tabs) the new one joins them
    const closing = previous && previous.id !== info.id && app.openSlides.length <= 1 ? api.close(previous.id).catch(() => undefined) : null;
    // the same slide again: the viewer keeps it, nothing new to load
    if (previous && previous.id === info.id) app.loading = null;
    void refreshRecent();
    void (closing ?? Promise.resolve()).then(refreshOpenSlides);
    return true;
  } catch (e) {
    app.loading = null;
    pushError(`Could not open ${baseName(p)}`, e);
    return false;
  }
  // app.loading is cleared by the viewer when the first image is drawn (or fails)
}

/** The host's open slides, for the slide tabs. */
export async function refreshOpenSlides(): Promise<void> {
  try {
    app.openSlides = await api.list();
  } catch {
    /* the tabs keep their last list */
  }
}

/** Show another slide the host has open (a slide tab): the viewer loads it; nothing is closed. */
export function switchSlide(id: string): void {
  if (app.slide?.id === id) return;
  const next = app.openSlides.find((s) => s.id === id);
  if (!next) return;
  app.loading = `Opening ${next.name}…`;
  app.slide = next;
  app.tileSource = 'native';
  app.zoom = 0;
  app.cursor = null;
}

/** Show a slide the host already has open (e.g. `glassbox serve SLIDE…`, or a file the desktop app was started with); tabs offer the others. */
export async function showAlreadyOpen(): Promise<void> {
  try {
    const open = await api.list();
    app.openSlides = open;
    if (open.length > 0 && !app.slide && !app.loading) {
      app.loading = `Opening ${open[0].name}…`;
      app.slide = open[0];
      app.tileSource = 'native';
    }
  } catch (e) {
    pushError('Could not list the open slides', e);
  }
}

export async function closeSlide(): Promise<void> {
  const s = app.slide;
  app.slide = null;
  app.zoom = 0;
  app.cursor = null;
  app.loading = null;
  if (s) await api.close(s.id).catch((e) => pushError('Could not close the slide', e));
  await refreshOpenSlides();
  // another slide is still open (glassbox serve A B): show it rather than an empty viewer
  if (!app.slide && app.openSlides.length > 0) switchSlide(app.openSlides[0].id);
}

export async function setMpp(x: number | null): Promise<boolean> {
  const s = app.slide;
  if (!s) return false;
  try {
    app.slide = await api.setMpp(s.id, x === null ? null : { x, y: x });
    return true;
  } catch (e) {
    pushError('Could not set the pixel size', e);
    return false;
  }
}

/**
 * After a tile failed in the viewer: ask for it again to name the problem — the host's own error
 * ({error:{code,message}}), or a lost host when the request cannot be made at all.
 */
export async function diagnoseTileFailure(url: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    pushError('Lost connection to the Glassbox host', new ApiError('HOST_UNREACHABLE', `Cannot reach the Glassbox host (${(e as Error)?.message ?? e}). Is it still running?`, 0));
    return;
  }
  if (res.ok) return; // transient: the viewer retries
  const body = await res.text().catch(() => '');
  pushError('A tile failed to load', errorFromBody(res.status, res.statusText, body));
}

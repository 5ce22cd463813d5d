/**
 * Annotation state of the open slide (Svelte 5 runes) and its actions. Every change is sent at once (the host
 * saves it atomically and answers with the whole set) and recorded for undo / redo as the annotations before and
 * after it; undo sends the "before" back. Requests go out one at a time, in order.
 */
import type {
  AnnotationClassDTO, AnnotationDTO, AnnotationFormatDTO, AnnotationImportFormatDTO, AnnotationInputDTO, AnnotationMeasurementsDTO, AnnotationSetDTO,
  GeometryDTO, HeatmapRefDTO, RegionsFromHeatmapRequest, ShapeDTO,
} from '../../../../main/contract/annotations.js';
import { DEFAULT_ANNOTATION_CLASSES } from '../../../../main/contract/annotations.js';
import { app, bridge, pushError, pushNotice } from '../store.svelte.js';
import { an, displayRange } from '../analysis.svelte.js';
import { annotationApi as api } from './api.js';
import { BRUSH_DEFAULT_PX, BRUSH_MAX_PX, BRUSH_MIN_PX, brushStep } from './brush-size.js';

const BRUSH_KEY = 'glassbox.brushPx';

export type Tool = 'select' | 'rectangle' | 'ellipse' | 'polygon' | 'polyline' | 'brush' | 'point';
export const TOOLS: Array<{ id: Tool; label: string; key: string; title: string }> = [
  { id: 'select', label: 'Select', key: 'S', title: 'Select, move, edit vertices (S); drag the slide to pan' },
  { id: 'rectangle', label: 'Rectangle', key: 'R', title: 'Rectangle (R): drag' },
  { id: 'ellipse', label: 'Ellipse', key: 'O', title: 'Ellipse (O): drag' },
  { id: 'polygon', label: 'Polygon', key: 'P', title: 'Polygon (P): click the vertices, double-click or click the first one to close; Backspace removes the last. Or drag: a freehand outline' },
  { id: 'polyline', label: 'Line', key: 'V', title: 'Line / polyline (V): click the points, double-click or Enter to end; the length shows as you draw' },
  { id: 'brush', label: 'Brush', key: 'B', title: 'Brush (B): paint an area. A stroke that starts inside the selected area adds to it; Alt+stroke cuts from it; [ and ] change the size' },
  { id: 'point', label: 'Point', key: '.', title: 'Point (.): click' },
];

interface Step { before: AnnotationDTO[]; after: AnnotationDTO[] }
const MAX_UNDO = 200;

export const ann = $state({
  slideId: null as string | null,
  loaded: false,
  annotations: [] as AnnotationDTO[],
  classes: [] as AnnotationClassDTO[],
  revision: 0,
  savedAt: null as string | null,
  /** requests not yet answered */
  pending: 0,
  /** the last save error (cleared by the next success) */
  saveError: null as string | null,
  selectedId: null as string | null,
  tool: 'select' as Tool,
  /** the class new annotations get (null: unclassified) */
  activeClass: null as string | null,
  showPanel: false,
  showRegions: false,
  /** a shape is being drawn (Esc cancels it) */
  drawing: false,
  /** the brush's diameter in screen px ([ and ] change it; remembered) */
  brushPx: storedBrushPx(),
  undo: 0,
  redo: 0,
  measurements: {} as Record<string, AnnotationMeasurementsDTO>,
  mpp: null as { x: number; y: number } | null,
  /** the heatmap the statistics are of, e.g. "Grad-CAM · red" */
  statsOf: null as string | null,
});

function storedBrushPx(): number {
  let v = NaN;
  try { v = Number(globalThis.localStorage?.getItem(BRUSH_KEY)); } catch { /* no storage */ }
  return Number.isFinite(v) && v >= BRUSH_MIN_PX && v <= BRUSH_MAX_PX ? v : BRUSH_DEFAULT_PX;
}
export function setBrushPx(px: number): void {
  ann.brushPx = Math.min(BRUSH_MAX_PX, Math.max(BRUSH_MIN_PX, Math.round(px)));
  try { globalThis.localStorage?.setItem(BRUSH_KEY, String(ann.brushPx)); } catch { /* no storage */ }
}

const undoStack: Step[] = [];
const redoStack: Step[] = [];
let chain: Promise<unknown> = Promise.resolve();
let loadToken = 0;

export const selected = (): AnnotationDTO | null => ann.annotations.find((a) => a.id === ann.selectedId) ?? null;
export const classOf = (name: string | null): AnnotationClassDTO | null => (name ? ann.classes.find((c) => c.name === name) ?? null : null);

function applySet(s: AnnotationSetDTO): void {
  if (s.slideId !== ann.slideId) return;
  ann.annotations = s.annotations;
  if (!defaultsPending) ann.classes = s.classes;
  ann.revision = s.revision;
  ann.savedAt = s.savedAt;
  for (const n of s.notices) if (!shownNotices.has(n)) { shownNotices.add(n); pushNotice('Annotations', n); }
  if (ann.selectedId && !s.annotations.some((a) => a.id === ann.selectedId)) ann.selectedId = null;
  scheduleMeasure();
}
const shownNotices = new Set<string>();
/** the class list shown is the defaults, not yet saved (they are, before the first change) */
let defaultsPending = false;

/** run one request after the others; its set (if any) becomes the state */
function send<T extends { set?: AnnotationSetDTO } | AnnotationSetDTO>(what: string, fn: () => Promise<T>): Promise<T | null> {
  ann.pending++;
  const p = chain.then(fn).then((r) => {
    const set = 'annotations' in r ? (r as AnnotationSetDTO) : (r as { set?: AnnotationSetDTO }).set;
    // only the last answer of a queue is the state to show (earlier ones lack the changes still in flight)
    if (set && ann.pending <= 1) applySet(set);
    ann.saveError = null;
    return r;
  }, (e: unknown) => {
    ann.saveError = e instanceof Error ? e.message : String(e);
    pushError(`Could not ${what}`, e);
    // the host's state is the truth: reload it
    void reload();
    return null;
  }).finally(() => { ann.pending--; });
  chain = p;
  return p;
}

export async function loadAnnotations(slideId: string | null): Promise<void> {
  const token = ++loadToken;
  undoStack.length = redoStack.length = 0;
  ann.undo = ann.redo = 0;
  ann.slideId = slideId;
  ann.annotations = [];
  ann.measurements = {};
  ann.selectedId = null;
  ann.loaded = false;
  ann.drawing = false;
  defaultsPending = false;
  if (!slideId) return;
  try {
    const s = await api.get(slideId);
    if (token !== loadToken) return;
    applySet(s);
    // a slide without classes offers QuPath's defaults; they are saved with the first change to the list
    if (s.classes.length === 0) {
      ann.classes = DEFAULT_ANNOTATION_CLASSES.map((c) => ({ ...c, color: [...c.color] as AnnotationClassDTO['color'] }));
      defaultsPending = true;
    }
    ann.loaded = true;
  } catch (e) {
    if (token === loadToken) pushError('Could not load the annotations', e);
  }
}

async function reload(): Promise<void> {
  if (!ann.slideId) return;
  try {
    applySet(await api.get(ann.slideId));
  } catch {
    /* reported already */
  }
}

const toInput = (a: AnnotationDTO): AnnotationInputDTO => ({
  id: a.id, shape: a.shape, geometry: a.geometry, name: a.name, description: a.description, classification: a.classification, isLocked: a.isLocked,
  provenance: a.provenance,
});

/** make the host's state `to` for these ids (a missing id is deleted) */
function sendState(from: AnnotationDTO[], to: AnnotationDTO[], what: string): Promise<unknown> {
  const slide = ann.slideId;
  if (!slide) return Promise.resolve();
  const keep = new Set(to.map((a) => a.id));
  const gone = from.filter((a) => !keep.has(a.id)).map((a) => a.id);
  // optimistic: show it now, the host's answer replaces it
  const byId = new Map(ann.annotations.map((a) => [a.id, a]));
  for (const id of gone) byId.delete(id);
  for (const a of to) byId.set(a.id, a);
  ann.annotations = [...byId.values()];
  const ops: Promise<unknown>[] = [];
  if (defaultsPending) ops.push(setClasses(ann.classes));
  // a locked annotation must be unlocked before it can be deleted: unlock first
  const lockedGone = from.filter((a) => !keep.has(a.id) && a.isLocked);
  if (lockedGone.length) ops.push(send(what, () => api.put(slide, { annotations: lockedGone.map((a) => ({ ...toInput(a), isLocked: false })) })));
  if (gone.length) ops.push(send(what, () => api.remove(slide, { ids: gone })));
  if (to.length) ops.push(send(what, () => api.put(slide, { annotations: to.map(toInput) })));
  return Promise.all(ops);
}

/** a change already made, recorded for undo (a new change clears the redo list) */
function record(step: Step): void {
  undoStack.push(step);
  if (undoStack.length > MAX_UNDO) undoStack.shift();
  redoStack.length = 0;
  ann.undo = undoStack.length;
  ann.redo = 0;
}

/** one undoable change: the annotations before (absent: created) and after (absent: deleted) */
export function commit(before: AnnotationDTO[], after: AnnotationDTO[], what = 'save the annotation'): Promise<unknown> {
  record({ before, after });
  return sendState(before, after, what);
}

/** undo: the last step's "before" goes back to the host; redo: its "after" */
function replay(from: Step[], to: Step[], back: boolean): void {
  const s = from.pop();
  if (!s) return;
  to.push(s);
  ann.undo = undoStack.length;
  ann.redo = redoStack.length;
  void (back ? sendState(s.after, s.before, 'undo') : sendState(s.before, s.after, 'redo'));
}
export const undo = (): void => replay(undoStack, redoStack, true);
export const redo = (): void => replay(redoStack, undoStack, false);

/** a new annotation from what was drawn; selected afterwards */
export function create(shape: ShapeDTO, geometry: GeometryDTO): void {
  const now = new Date().toISOString();
  const kind = shape.kind;
  const n = ann.annotations.filter((a) => a.shape.kind === kind).length + 1;
  const a: AnnotationDTO = {
    id: crypto.randomUUID(), shape, geometry, name: `${kind[0].toUpperCase()}${kind.slice(1)} ${n}`, description: '', classification: classOf(ann.activeClass),
    isLocked: false, measurements: {}, provenance: { source: 'drawn' }, createdAt: now, updatedAt: now,
  };
  ann.selectedId = a.id;
  void commit([], [a], 'save the new annotation');
}

/** change fields of one annotation (undoable) */
export function update(id: string, patch: Partial<Pick<AnnotationDTO, 'shape' | 'geometry' | 'name' | 'description' | 'classification' | 'isLocked'>>): void {
  const a = ann.annotations.find((x) => x.id === id);
  if (!a) return;
  if (a.isLocked && !('isLocked' in patch)) {
    pushNotice('Locked', `“${a.name || 'This annotation'}” is locked: unlock it to change it.`);
    return;
  }
  void commit([a], [{ ...a, ...patch }]);
}

export function removeSelected(): void {
  const a = selected();
  if (!a) return;
  if (a.isLocked) {
    pushNotice('Locked', `“${a.name || 'This annotation'}” is locked: unlock it to delete it.`);
    return;
  }
  ann.selectedId = null;
  void commit([a], [], 'delete the annotation');
}

export function setClasses(classes: AnnotationClassDTO[]): Promise<unknown> {
  const slide = ann.slideId;
  ann.classes = classes;
  defaultsPending = false;
  return slide ? send('save the classes', () => api.setClasses(slide, { classes })) : Promise.resolve();
}

/** the heatmap shown now, as the measurement / regions reference (null: none loaded) */
export function heatmapRef(): HeatmapRefDTO | null {
  const a = an.analysis;
  if (!a || !a.geometry || an.mapRevision < 0) return null;
  const classIndex = a.classIndices[Math.min(an.classIdx, a.classIndices.length - 1)];
  return { analysisId: a.id, classIndex, ...(an.mode === 'probability' ? {} : { threshold: displayRange().threshold }) };
}

let measureTimer: ReturnType<typeof setTimeout> | null = null;
/** measurements (and heatmap statistics) of every annotation, shortly after a change */
export function scheduleMeasure(): void {
  if (measureTimer) clearTimeout(measureTimer);
  measureTimer = setTimeout(() => void measureNow(), 120);
}

async function measureNow(): Promise<void> {
  const slide = ann.slideId;
  if (!slide || ann.annotations.length === 0) {
    ann.measurements = {};
    return;
  }
  const heat = heatmapRef();
  try {
    const r = await api.measure(slide, heat ? { heatmap: heat } : {});
    if (slide !== ann.slideId) return;
    ann.mpp = r.mpp;
    ann.measurements = Object.fromEntries(r.items.map((m) => [m.id, m]));
    const a = an.analysis;
    ann.statsOf = heat && a ? `${a.method} · ${a.classes[Math.min(an.classIdx, a.classes.length - 1)]}` : null;
  } catch (e) {
    // a map that is not there yet is not an error worth showing
    if ((e as { code?: string }).code !== 'NOT_FOUND') pushError('Could not measure the annotations', e);
  }
}

export async function regionsFromHeatmap(req: Omit<RegionsFromHeatmapRequest, 'analysisId' | 'classIndex'>): Promise<{ added: number; threshold: number } | null> {
  const slide = ann.slideId;
  const ref = heatmapRef();
  if (!slide || !ref) {
    pushError('No heatmap', new Error('Analyse the slide (Heatmap panel) before making regions from its map.'));
    return null;
  }
  const before = new Set(ann.annotations.map((a) => a.id));
  const r = await send('make regions from the heatmap', () => api.regions(slide, { ...req, analysisId: ref.analysisId, classIndex: ref.classIndex }));
  if (!r) return null;
  const added = ann.annotations.filter((a) => !before.has(a.id));
  if (added.length) record({ before: [], after: added });
  return { added: r.added.length, threshold: r.threshold };
}

/** import a file's text (browser) or through the native dialog (Electron); undoable as "these were added" */
export async function importFile(format: AnnotationImportFormatDTO, file?: File): Promise<void> {
  const slide = ann.slideId;
  if (!slide) return;
  const before = new Map(ann.annotations.map((a) => [a.id, a]));
  let warnings: string[] = [];
  if (file) {
    const text = await file.text();
    const r = await send(`import ${file.name}`, () => api.importText(slide, format, text, file.name));
    if (!r) return;
    warnings = r.warnings;
  } else if (bridge?.importAnnotations) {
    const r = await bridge.importAnnotations(slide, format);
    if (!r) return;
    if (!r.ok) {
      pushError('Could not import the annotations', new Error(r.error));
      return;
    }
    warnings = r.warnings ?? [];
    await reload();
  } else return;
  const changed = ann.annotations.filter((a) => before.get(a.id) !== a && !sameAs(before.get(a.id), a));
  if (changed.length) record({ before: changed.map((a) => before.get(a.id)).filter((a): a is AnnotationDTO => !!a), after: changed });
  pushNotice('Imported', `${changed.length} annotation(s) imported.${warnings.length ? ' ' + warnings.slice(0, 3).join(' · ') : ''}`);
}

const sameAs = (a: AnnotationDTO | undefined, b: AnnotationDTO) => !!a && a.updatedAt === b.updatedAt;

/** export through the native save dialog (Electron) or as a download from the host (browser) */
export async function exportFile(format: AnnotationFormatDTO, ids?: string[]): Promise<void> {
  const slide = ann.slideId;
  if (!slide) return;
  if (bridge?.exportAnnotations && !ids) {
    const r = await bridge.exportAnnotations(slide, format);
    if (r && !r.ok) pushError('Could not export the annotations', new Error(r.error));
    else if (r) pushNotice('Exported', r.path);
    return;
  }
  const a = document.createElement('a');
  a.href = api.exportUrl(slide, format, ids);
  a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** the level-0 box of an annotation, for the viewer to fly to (registered by the layer) */
let flyFn: ((id: string) => void) | null = null;
export function registerFlyTo(fn: ((id: string) => void) | null): void {
  flyFn = fn;
}
export function flyTo(id: string): void {
  ann.selectedId = id;
  flyFn?.(id);
}

/** keyboard commands of the annotation layer (App.svelte routes 'ann-*' commands here); false: not handled */
export function annotationCommand(cmd: string): boolean {
  if (!app.slide) return false;
  const tool = TOOLS.find((t) => `ann-tool-${t.id}` === cmd);
  if (tool) {
    ann.tool = tool.id;
    return true;
  }
  // Edit ▸ Undo / Redo from the native menu while typing in a field: the field's own undo
  const el = document.activeElement as HTMLElement | null;
  const typing = !!el && (el.isContentEditable || el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button'].includes((el as HTMLInputElement).type)));
  switch (cmd) {
    case 'ann-undo': if (typing) document.execCommand('undo'); else undo(); return true;
    case 'ann-redo': if (typing) document.execCommand('redo'); else redo(); return true;
    case 'ann-delete': removeSelected(); return true;
    case 'ann-panel': ann.showPanel = !ann.showPanel; return true;
    case 'ann-brush-smaller': case 'ann-brush-larger':
      setBrushPx(brushStep(ann.brushPx, cmd === 'ann-brush-larger'));
      if (ann.tool !== 'brush') ann.tool = 'brush';
      return true;
  }
  return false;
}

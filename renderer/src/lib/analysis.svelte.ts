/**
 * Heatmap layer state (Svelte 5 runes) and its actions: models and layers, starting an analysis of the current
 * view (the whole slide continues in the background, re-prioritised as the user pans), polling its status and
 * refetching the live float32 map whenever `revision` bumps, and the display settings the overlay reads.
 * The maps themselves are kept out of $state (large typed arrays): `an.mapVersion` bumps when they change.
 */
import type { AnalysisDTO, CamMethodDTO, ExplainPatchDTO, ModelDTO, ModelLayerDTO, RectDTO } from '../../../main/contract/analysis.js';
import { app, api, bridge, pushError } from './store.svelte.js';
import { liveResolution, mapStats, percentileAbs, type ColormapName, type DisplayMode, type ResolutionReport } from './heatmap.js';

export const an = $state({
  showPanel: false,
  models: [] as ModelDTO[],
  invalid: [] as Array<{ folder: string; reason: string }>,
  modelsLoaded: false,
  /** the folder dialog is open / the chosen folder is being loaded (Electron) */
  addingFolder: false,
  /** why the last chosen folder is not a model package (cleared by the next try) */
  addFolderError: null as string | null,
  modelId: null as string | null,
  /** layers of the selected model (stride, cell µm) */
  layers: [] as ModelLayerDTO[],
  classes: [] as string[],
  method: 'gradcam' as CamMethodDTO,
  signed: false,
  layer: null as string | null,
  /** patch overlap (0: none); overlapping patches are averaged, which removes seams */
  overlap: 0,
  analysis: null as AnalysisDTO | null,
  /** layers of the analysis's model (for the resolution advice) */
  analysisLayers: [] as ModelLayerDTO[],
  starting: false,
  // display
  visible: true,
  /** index into analysis.classes */
  classIdx: 0,
  mode: 'for' as DisplayMode,
  colormap: 'viridis' as ColormapName,
  opacity: 0.6,
  /** top of the colour range as a multiple of the slide-global scale */
  rangeFrac: 1,
  /** hide displayed values below this fraction of the range top */
  thresholdFrac: 0.05,
  smooth: true,
  /** slide-global display scale: 99th percentile of |value| of the whole current map */
  scale: 0,
  stats: { min: 0, max: 0, finite: 0, negative: 0 },
  mapVersion: 0,
  /** the analysis revision the current map is from */
  mapRevision: -1,
  structureUm: 12,
  /** ms from "analyse this view" to the first heatmap drawn */
  firstDrawMs: null as number | null,
  t0: 0,
});

/** the patches a region's trust check runs on, outlined and numbered on the slide while its panel is open */
export const trustMarks = $state({ patches: [] as RectDTO[] });

/** "Explain this patch" (right-click / E on a point): the side panel's state */
export const ex = $state({
  open: false,
  loading: false,
  /** the level-0 point asked about */
  point: null as { x: number; y: number } | null,
  result: null as ExplainPatchDTO | null,
  /** the model it was computed with */
  modelName: '',
  error: null as string | null,
});
let explainToken = 0;

/** the class to explain: the one shown (an analysis of the selected model), else the first picked one */
function explainClass(): string | undefined {
  const a = an.analysis;
  if (a && a.modelId === an.modelId && a.classes.length) return a.classes[Math.min(an.classIdx, a.classes.length - 1)];
  return an.classes[0];
}

/** Run the selected model's explanation on the patch centred on this level-0 point, at its method / layer / class. */
export async function explainAt(x: number, y: number): Promise<void> {
  const s = app.slide;
  if (!s) return;
  const token = ++explainToken;
  ex.open = true;
  ex.loading = true;
  ex.error = null;
  ex.point = { x: Math.round(x), y: Math.round(y) };
  try {
    if (!an.modelsLoaded) await loadModels();
    const m = selectedModel();
    if (!m) throw new Error('No model to explain with: add a model package first.');
    const r = await api.explainPatch(s.id, {
      modelId: m.id, x: Math.round(x), y: Math.round(y), class: explainClass(), method: an.method,
      signed: an.signed && an.method === 'gradcam' ? true : undefined, layer: an.layer ?? undefined,
    });
    if (token !== explainToken) return;
    ex.result = r;
    ex.modelName = m.name;
  } catch (e) {
    if (token !== explainToken) return;
    ex.result = null;
    ex.error = e instanceof Error ? e.message : String(e);
  } finally {
    if (token === explainToken) ex.loading = false;
  }
}

export function closeExplain(): void {
  explainToken++;
  ex.open = false;
  ex.loading = false;
  ex.result = null;
  ex.error = null;
  ex.point = null;
}

/** the current maps (not reactive; see an.mapVersion) */
export const maps = {
  cam: null as Float32Array | null,
  probs: null as Float32Array | null,
  /** classes in the probability array (the model's class count) */
  K: 0,
};

let viewRectFn: (() => RectDTO | null) | null = null;
export function registerViewRect(fn: (() => RectDTO | null) | null): void {
  viewRectFn = fn;
}

export const selectedModel = (): ModelDTO | null => an.models.find((m) => m.id === an.modelId) ?? null;

export async function loadModels(): Promise<void> {
  try {
    const list = await api.models();
    an.models = list.models;
    an.invalid = list.invalid;
    an.modelsLoaded = true;
    if (!an.modelId || !list.models.some((m) => m.id === an.modelId)) await selectModel(list.models[0]?.id ?? null);
  } catch (e) {
    pushError('Could not list the models', e);
  }
}

/** Electron: the folder dialog, then the chosen package joins the model list and is selected. */
export async function addModelFolder(): Promise<void> {
  if (!bridge?.addModelFolder || an.addingFolder) return;
  an.addingFolder = true;
  an.addFolderError = null;
  try {
    const r = await bridge.addModelFolder();
    if (!r) return; // cancelled
    if (!r.ok) {
      an.addFolderError = r.error;
      return;
    }
    await loadModels();
    await selectModel(r.model.id);
  } catch (e) {
    pushError('Could not add the model folder', e);
  } finally {
    an.addingFolder = false;
  }
}

export async function selectModel(id: string | null): Promise<void> {
  an.modelId = id;
  an.layers = [];
  an.layer = null;
  const m = selectedModel();
  an.classes = m ? [m.classes[0]] : [];
  if (!m) return;
  if (an.signed && an.method !== 'gradcam') an.signed = false;
  try {
    const layers = await api.modelLayers(m.id);
    if (an.modelId !== m.id) return;
    an.layers = layers;
    an.layer = layers.find((l) => l.isDefault)?.name ?? m.targetLayer ?? layers[layers.length - 1]?.name ?? null;
  } catch (e) {
    pushError(`Could not list the layers of ${m.name}`, e);
  }
}

let pollTimer: ReturnType<typeof setTimeout> | null = null;
let pollToken = 0;
let lastProbFetch = 0;
let lastScaleAt = 0;
let fetchedKey = '';

function stopPolling(): void {
  pollToken++;
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

function resetMaps(): void {
  maps.cam = null;
  maps.probs = null;
  maps.K = 0;
  an.scale = 0;
  an.stats = { min: 0, max: 0, finite: 0, negative: 0 };
  an.mapRevision = -1;
  fetchedKey = '';
  an.mapVersion++;
}

/** Forget the current analysis view (slide closed or changed); a running analysis is cancelled. */
export function clearAnalysis(): void {
  const a = an.analysis;
  closeExplain();
  stopPolling();
  if (a && (a.state === 'running' || a.state === 'paused')) api.actOnAnalysis(a.id, { action: 'cancel' }).catch(() => undefined);
  an.analysis = null;
  an.analysisLayers = [];
  an.firstDrawMs = null;
  resetMaps();
}

export async function analyseView(): Promise<void> {
  const s = app.slide;
  const m = selectedModel();
  if (!s || !m || an.starting) return;
  if (an.classes.length === 0) {
    pushError('Nothing to analyse', new Error('Pick at least one class.'));
    return;
  }
  an.starting = true;
  clearAnalysis();
  an.t0 = performance.now();
  const priority = viewRectFn?.() ?? undefined;
  try {
    const signed = an.signed && an.method === 'gradcam';
    const a = await api.startAnalysis({
      slideId: s.id, modelId: m.id, classes: an.classes.length === m.classes.length ? 'all' : [...an.classes], method: an.method,
      ...(signed ? { signed: true } : {}), ...(an.layer ? { layer: an.layer } : {}), ...(an.overlap > 0 ? { overlap: an.overlap } : {}), ...(priority ? { priority } : {}),
    });
    an.analysis = a;
    an.classIdx = 0;
    an.analysisLayers = an.layers;
    // a signed analysis opens on the signed view; an unsigned one cannot show 'against' or 'signed'
    if (signed) an.mode = 'signed';
    else if (an.mode === 'against' || an.mode === 'signed') an.mode = 'for';
    an.visible = true;
    void poll(pollToken);
  } catch (e) {
    pushError('Could not start the analysis', e);
  } finally {
    an.starting = false;
  }
}

async function poll(token: number): Promise<void> {
  const a0 = an.analysis;
  if (!a0 || token !== pollToken) return;
  let a: AnalysisDTO;
  try {
    a = await api.analysis(a0.id);
  } catch (e) {
    if (token !== pollToken) return;
    pushError('Lost the analysis status', e);
    pollTimer = setTimeout(() => void poll(token), 2000);
    return;
  }
  if (token !== pollToken) return;
  an.analysis = a;
  try {
    await fetchMaps(a, token);
  } catch (e) {
    if (token === pollToken) pushError('Could not fetch the heatmap', e);
  }
  if (token !== pollToken) return;
  const live = a.state === 'running' || a.state === 'paused';
  if (!live) return;
  // fast while the first cells arrive (time to first heatmap), then calmer
  // each revision refetches the whole map: big maps are polled less often (≈ 1 s per 20 M cells)
  const age = performance.now() - an.t0;
  const cells = a.geometry ? a.geometry.shape[0] * a.geometry.shape[1] : 0;
  const delay = a.state === 'paused' ? 800 : Math.max(age < 4000 ? 100 : 350, Math.min(3000, cells / 20_000));
  pollTimer = setTimeout(() => void poll(token), delay);
}

async function fetchMaps(a: AnalysisDTO, token: number, force = false): Promise<void> {
  if (!a.geometry || a.revision <= 0 && a.state === 'running' && a.progress.done === 0) return;
  const k = a.classIndices[Math.min(an.classIdx, a.classIndices.length - 1)];
  const key = `${a.id}:${k}:${a.revision}`;
  const finished = a.state !== 'running' && a.state !== 'paused';
  const now = performance.now();
  const wantProbs = an.mode === 'probability' || finished || now - lastProbFetch > 1500 || !maps.probs;
  if (key === fetchedKey && !force) return;
  const [rows, cols] = a.geometry.shape;
  let cam: Float32Array;
  try {
    cam = await api.heatmap(a.id, k);
  } catch (e) {
    if ((e as { code?: string }).code === 'NOT_FOUND') return; // no map yet
    throw e;
  }
  if (token !== pollToken) return;
  if (cam.length !== rows * cols) throw new Error(`the map has ${cam.length} values, the geometry says ${rows} × ${cols}`);
  let probs = maps.probs;
  if (wantProbs) {
    try {
      probs = await api.probabilities(a.id);
      lastProbFetch = now;
    } catch (e) {
      if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    }
    if (token !== pollToken) return;
  }
  maps.cam = cam;
  if (probs && probs.length % (rows * cols) === 0) {
    maps.probs = probs;
    maps.K = probs.length / (rows * cols);
  }
  // the slide-global scale over the whole current map; while streaming at most every 1.5 s (it sorts ≤ 2 M values)
  if (finished || an.scale === 0 || now - lastScaleAt > 1500 || fetchedKey.split(':')[1] !== String(k)) {
    an.scale = percentileAbs(cam, 0.99);
    lastScaleAt = now;
  }
  an.stats = mapStats(cam);
  an.mapRevision = a.revision;
  fetchedKey = key;
  an.mapVersion++;
}

/** Show another of the analysed classes. */
export async function showClass(i: number): Promise<void> {
  an.classIdx = i;
  const a = an.analysis;
  if (a) await fetchMaps(a, pollToken, true).catch((e) => pushError('Could not fetch the heatmap', e));
}

export async function act(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
  const a = an.analysis;
  if (!a) return;
  try {
    an.analysis = await api.actOnAnalysis(a.id, { action });
    if (action === 'resume') {
      stopPolling();
      void poll(pollToken);
    }
  } catch (e) {
    pushError(`Could not ${action} the analysis`, e);
  }
}

let prioTimer: ReturnType<typeof setTimeout> | null = null;
let lastPrio = '';
/** The user settled on a new view: compute it next (debounced). */
export function viewChanged(): void {
  if (prioTimer) clearTimeout(prioTimer);
  prioTimer = setTimeout(() => {
    const a = an.analysis;
    if (!a || (a.state !== 'running' && a.state !== 'paused')) return;
    const roi = viewRectFn?.();
    if (!roi) return;
    const key = JSON.stringify(roi);
    if (key === lastPrio) return;
    lastPrio = key;
    api.actOnAnalysis(a.id, { action: 'prioritize', roi }).catch(() => undefined);
  }, 350);
}

export function toggleHeatmap(): void {
  an.visible = !an.visible;
}

/** Value range the overlay maps onto the colormap. */
export function displayRange(): { lo: number; hi: number; threshold: number } {
  if (an.mode === 'probability') {
    const hi = Math.min(1, an.rangeFrac);
    return { lo: 0, hi, threshold: an.thresholdFrac * hi };
  }
  const base = an.scale > 0 ? an.scale : Math.max(Math.abs(an.stats.max), Math.abs(an.stats.min), 1e-12);
  const hi = base * an.rangeFrac;
  return { lo: 0, hi, threshold: an.thresholdFrac * hi };
}

/** The server's resolution report, or (while running) the same numbers from the geometry, slide and model. */
export function resolutionOf(): ResolutionReport | null {
  const a = an.analysis;
  if (!a) return null;
  if (a.resolution) return a.resolution;
  const m = an.models.find((x) => x.id === a.modelId);
  if (!a.geometry || !m) return null;
  const layer = an.analysisLayers.find((l) => l.name === a.layer);
  return liveResolution(a.geometry.cellSize, app.slide?.mpp ?? null, m.spacingUmPx, layer?.stride ?? m.stride);
}

/**
 * AnalysisService (contract) over the analysis engine: the model registry (shipped packages + folders the user
 * adds, under opaque ids), whole-slide analyses of open slides under opaque ids, their live progress and maps
 * (the partial stitched map while running), pause / resume / cancel / re-prioritise, and the result cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type {
  AnalysisActionRequest, AnalysisDTO, AnalysisService, ExplainPatchDTO, ExplainPatchRequest, ModelDTO, ModelLayerDTO, ModelListDTO,
  StartAnalysisRequest,
} from '../contract/analysis.js';
import { ANALYSIS_ID_RE } from '../contract/analysis.js';
import {
  applyTransforms, checkPackageAgainstModel, listModelPackages, loadModelPackage, resizeBilinear, resolveClass, type ModelPackage,
} from '../engine/model/index.js';
import {
  AnalysisError, analyzeSlide, heatmapFileNames, readLevel, ResultCache, softmaxRows, type AnalysisJob, type AnalysisResult, type AnalysisSettings,
} from '../engine/analysis/index.js';
import { decodeNpy } from '../engine/explain/npy.js';
import { ServiceError } from './errors.js';
import type { SlideServiceImpl } from './slide-service.js';

export interface AnalysisServiceDeps {
  slides: SlideServiceImpl;
  /** folders whose sub-folders are model packages (the shipped `models/` first) */
  modelRoots: Array<{ dir: string; source: 'shipped' | 'user' }>;
  /** single package folders the user added */
  modelFolders?: string[];
  /** null: no result cache */
  cache?: ResultCache | null;
  version: string;
  ep?: AnalysisSettings['ep'];
}

interface Entry {
  id: string;
  slideId: string;
  modelId: string;
  pkg: ModelPackage;
  settings: AnalysisSettings;
  job: AnalysisJob | null;
  state: AnalysisDTO['state'];
  source: AnalysisDTO['source'];
  result: AnalysisResult | null;
  /** a cached result: maps and sidecar by class */
  cached: { heatmaps: Map<number, Float32Array>; probabilities: Float32Array; meta: Record<string, unknown> } | null;
  progress: AnalysisDTO['progress'];
  revision: number;
  error: AnalysisDTO['error'];
  done: Promise<void>;
  /** the live maps, computed once per revision */
  snap: { revision: number; heatmaps: Map<number, Float32Array>; probabilities: Float32Array } | null;
  /** actions asked for before the engine's job existed (applied when it does) */
  pending: AnalysisActionRequest[];
}

const modelIdOf = (path: string) => createHash('sha256').update(resolve(path)).digest('base64url').slice(0, 16);

export class AnalysisServiceImpl implements AnalysisService {
  private readonly entries = new Map<string, Entry>();
  private readonly cache: ResultCache | null;
  private readonly userFolders: string[];

  constructor(private readonly deps: AnalysisServiceDeps) {
    this.cache = deps.cache === undefined ? new ResultCache() : deps.cache;
    this.userFolders = [...(deps.modelFolders ?? [])];
  }

  /** add a package folder (Electron: the user's dialog choice); returns its DTO or throws naming the problem */
  async addModelFolder(dir: string): Promise<ModelDTO> {
    let pkg: ModelPackage;
    try {
      pkg = await loadModelPackage(dir);
    } catch (e) {
      throw new ServiceError('BAD_REQUEST', (e as Error).message);
    }
    if (!pkg.config) throw new ServiceError('BAD_REQUEST', `${dir}: a bare .onnx model cannot analyse slides (it needs a config.json)`);
    if (!this.userFolders.includes(resolve(dir))) this.userFolders.push(resolve(dir));
    return this.modelDto(pkg, 'user');
  }

  private modelDto(pkg: ModelPackage, source: ModelDTO['source']): ModelDTO {
    const c = pkg.config!;
    return {
      id: modelIdOf(pkg.configPath ?? pkg.modelPath), name: pkg.id, source, classes: c.class_names, spacingUmPx: c.spacing_um_px,
      patchSizePx: c.patch_size_pixels, targetLayer: c.target_layer ?? null, stride: c.stride ?? null, description: c.description ?? null,
    };
  }

  private async packages(): Promise<{ list: Array<{ pkg: ModelPackage; dto: ModelDTO }>; invalid: ModelListDTO['invalid'] }> {
    const list: Array<{ pkg: ModelPackage; dto: ModelDTO }> = [];
    const invalid: ModelListDTO['invalid'] = [];
    for (const root of this.deps.modelRoots) {
      const { packages, errors } = await listModelPackages(root.dir);
      for (const pkg of packages) list.push({ pkg, dto: this.modelDto(pkg, root.source) });
      for (const e of errors) invalid.push({ folder: basename(e.split(':')[0] ?? root.dir), reason: e });
    }
    for (const dir of this.userFolders) {
      try {
        const pkg = await loadModelPackage(dir);
        if (pkg.config) list.push({ pkg, dto: this.modelDto(pkg, 'user') });
      } catch (e) {
        invalid.push({ folder: basename(dir), reason: (e as Error).message });
      }
    }
    return { list, invalid };
  }

  async models(): Promise<ModelListDTO> {
    const { list, invalid } = await this.packages();
    return { models: list.map((m) => m.dto), invalid };
  }

  async model(id: string): Promise<ModelPackage> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{16}$/.test(id)) throw new ServiceError('BAD_REQUEST', `invalid model id '${String(id).slice(0, 40)}'`);
    const hit = (await this.packages()).list.find((m) => m.dto.id === id);
    if (!hit) throw new ServiceError('NOT_FOUND', `no model with id '${id}'`);
    return hit.pkg;
  }

  async modelLayers(modelId: string): Promise<ModelLayerDTO[]> {
    const pkg = await this.model(modelId);
    const { listTargetLayers } = await import('../engine/explain/index.js');
    const layers = await listTargetLayers(pkg.modelPath);
    const c = pkg.config!;
    const def = c.target_layer ?? layers.find((l) => l.isDefault)?.name;
    return layers.map((l) => ({
      name: l.name, opType: l.opType, channels: l.channels, height: l.height, width: l.width, stride: l.stride,
      cellUm: (c.patch_size_pixels / l.width) * c.spacing_um_px, isDefault: l.name === def,
    }));
  }

  async start(req: StartAnalysisRequest): Promise<AnalysisDTO> {
    const { slide, mpp } = this.deps.slides.slideFor(req.slideId);
    const pkg = await this.model(req.modelId);
    const c = pkg.config!;
    let classes: number[];
    try {
      classes = req.classes === 'all' ? c.class_names.map((_, i) => i) : [...new Set(req.classes.map((n) => resolveClass(n, c.num_classes, c.class_names)))];
    } catch (e) {
      throw new ServiceError('BAD_REQUEST', (e as Error).message);
    }
    if (classes.length === 0) throw new ServiceError('BAD_REQUEST', 'classes: name at least one class, or "all"');
    const settings: AnalysisSettings = {
      classes, method: req.method, signed: req.signed ?? false, layer: req.layer, batch: req.batch ?? 16, overlap: req.overlap ?? 0,
      minTissue: req.minTissue ?? 0.1, region: req.region, ep: this.deps.ep ?? 'auto',
      // the user's µm/px override on the slide applies to its analyses too
      mpp: mpp?.source === 'user' ? mpp.x : undefined,
    };
    const id = randomBytes(12).toString('base64url');
    const e: Entry = {
      id, slideId: req.slideId, modelId: req.modelId, pkg, settings, job: null, state: 'running', source: null, result: null, cached: null,
      progress: { stage: 'queued', done: 0, total: 0, rate: 0, eta: null, elapsed: 0 }, revision: 0, error: null, done: Promise.resolve(), pending: [], snap: null,
    };
    this.entries.set(id, e);
    e.done = analyzeSlide({
      slide, model: pkg, settings, cache: this.cache, version: this.deps.version, priority: req.priority,
      onJob: (j) => {
        e.job = j;
        for (const a of e.pending.splice(0)) applyAction(j, a);
      },
      onProgress: (p) => {
        e.progress = { ...p };
        if (e.state === 'running' || e.state === 'paused') e.state = e.job?.isPaused ? 'paused' : 'running';
      },
      onBatch: () => { e.revision++; },
    }).then((out) => {
      e.source = out.source;
      if (out.result) {
        e.result = out.result;
        e.state = out.result.complete ? 'done' : 'cancelled';
      } else {
        e.cached = decodeCached(out.files, settings.classes, c.class_names);
        const meta = e.cached.meta as { patch?: { analysed?: number } };
        e.progress = { stage: 'done', done: meta.patch?.analysed ?? 0, total: meta.patch?.analysed ?? 0, rate: 0, eta: 0, elapsed: 0 };
        e.state = 'done';
      }
      e.revision++;
    }, (err: unknown) => {
      e.state = err instanceof AnalysisError && err.code === 'ABORTED' ? 'cancelled' : 'failed';
      e.error = { code: err instanceof AnalysisError ? err.code : (err as { code?: string })?.code ?? 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
      e.revision++;
    });
    return this.dto(e);
  }

  async list(): Promise<AnalysisDTO[]> {
    return [...this.entries.values()].map((e) => this.dto(e));
  }

  private entry(id: string): Entry {
    if (typeof id !== 'string' || !ANALYSIS_ID_RE.test(id)) throw new ServiceError('BAD_REQUEST', `invalid analysis id '${String(id).slice(0, 80)}'`);
    const e = this.entries.get(id);
    if (!e) throw new ServiceError('NOT_FOUND', `no analysis with id '${id}'`);
    return e;
  }

  async get(id: string): Promise<AnalysisDTO> {
    return this.dto(this.entry(id));
  }

  /** wait until the analysis has finished (done, cancelled or failed) */
  async settled(id: string): Promise<AnalysisDTO> {
    const e = this.entry(id);
    await e.done;
    return this.dto(e);
  }

  async act(id: string, req: AnalysisActionRequest): Promise<AnalysisDTO> {
    const e = this.entry(id);
    if (req.action === 'prioritize' && !req.roi) throw new ServiceError('BAD_REQUEST', 'prioritize needs roi {x, y, w, h}');
    if (e.state === 'running' || e.state === 'paused') {
      if (e.job) applyAction(e.job, req);
      else e.pending.push(req);
      if (req.action === 'pause') e.state = 'paused';
      if (req.action === 'resume') e.state = 'running';
    }
    return this.dto(e);
  }

  async remove(id: string): Promise<void> {
    const e = this.entry(id);
    if (e.job) e.job.cancel();
    else e.pending.push({ action: 'cancel' });
    await e.done;
    this.entries.delete(id);
  }

  /** float32 rows × cols for class index k: the final map, or the live partial one */
  heatmap(id: string, k: number): Float32Array {
    const e = this.entry(id);
    if (!e.settings.classes.includes(k)) throw new ServiceError('NOT_FOUND', `class ${k} is not part of analysis ${id} (it has ${e.settings.classes.join(', ')})`);
    const m = e.result?.heatmaps.get(k) ?? e.cached?.heatmaps.get(k) ?? this.live(e)?.heatmaps.get(k);
    if (!m) throw new ServiceError('NOT_FOUND', `analysis ${id} has no map yet (stage: ${e.progress.stage})`);
    return m;
  }

  probabilities(id: string): Float32Array {
    const e = this.entry(id);
    const p = e.result?.probabilities ?? e.cached?.probabilities ?? this.live(e)?.probabilities;
    if (!p) throw new ServiceError('NOT_FOUND', `analysis ${id} has no probabilities yet (stage: ${e.progress.stage})`);
    return p;
  }

  /** the running job's stitched maps, recomputed only when new batches arrived */
  private live(e: Entry): Entry['snap'] {
    if (e.snap && e.snap.revision === e.revision) return e.snap;
    const s = e.job?.snapshot();
    e.snap = s ? { revision: e.revision, heatmaps: s.heatmaps, probabilities: s.probabilities } : null;
    return e.snap;
  }

  /**
   * Explain one patch: the model's patch centred on the level-0 point, read exactly as the whole-slide pipeline
   * reads its patches (level via readLevel, readRegion, bilinear to patch_size_pixels, the package's transforms),
   * one explain() call, the raw map at the layer's full cell resolution and the softmax of the logits.
   */
  async explainPatch(slideId: string, req: ExplainPatchRequest): Promise<ExplainPatchDTO> {
    const { slide, mpp } = this.deps.slides.slideFor(slideId);
    const pkg = await this.model(req.modelId);
    const c = pkg.config!;
    const props = slide.properties;
    if (!(Number.isFinite(req.x) && Number.isFinite(req.y)) || req.x < 0 || req.y < 0 || req.x >= props.width || req.y >= props.height) {
      throw new ServiceError('BAD_REQUEST', `point (${req.x}, ${req.y}) is outside the slide (0..${props.width - 1}, 0..${props.height - 1})`);
    }
    if (req.signed && req.method !== 'gradcam') throw new ServiceError('BAD_REQUEST', 'signed maps exist for method gradcam only');
    // the slide µm/px as the analyses use it: the user's override, the slide's own, or (unknown) the model's
    const m = (mpp?.source === 'user' ? mpp : props.mpp) ?? { x: c.spacing_um_px, y: c.spacing_um_px };
    const fx = c.spacing_um_px / m.x, fy = c.spacing_um_px / m.y;
    const P = c.patch_size_pixels;
    const pw = Math.max(1, Math.round(P * fx)), ph = Math.max(1, Math.round(P * fy));
    const patch = { x: Math.round(req.x - pw / 2), y: Math.round(req.y - ph / 2), w: pw, h: ph };
    const level = readLevel(props.levels, Math.min(fx, fy));
    const ds = props.levels[level].downsample;
    const { createExplainer, ExplainError } = await import('../engine/explain/index.js');
    let explainer;
    try {
      explainer = await createExplainer(pkg.modelPath, { layer: req.layer ?? c.target_layer, methods: [req.method], ep: this.deps.ep ?? 'auto' });
    } catch (e) {
      if (e instanceof ExplainError && (e.code === 'UNKNOWN_TENSOR' || e.code === 'BAD_INPUT')) throw new ServiceError('BAD_REQUEST', `layer: ${e.message}`);
      throw e;
    }
    try {
      try {
        checkPackageAgainstModel(pkg, explainer.numClasses);
      } catch (e) {
        throw new ServiceError('BAD_REQUEST', (e as Error).message);
      }
      const K = explainer.numClasses;
      let target: number | null = null;
      if (req.class !== undefined) {
        try {
          target = resolveClass(req.class, c.num_classes, c.class_names);
        } catch (e) {
          throw new ServiceError('BAD_REQUEST', (e as Error).message);
        }
      }
      let img = await slide.readRegion(patch.x, patch.y, level, Math.max(1, Math.round(pw / ds)), Math.max(1, Math.round(ph / ds)));
      if (img.width !== P || img.height !== P) img = resizeBilinear(img, P, P);
      const t = applyTransforms(img, c.transform);
      const input = { data: t.data, dims: t.dims };
      if (target === null) {
        const logits = (await explainer.predict(input)).data;
        target = argmax(logits, K);
      }
      const seed = new Float32Array(K);
      seed[target] = 1;
      const out = await explainer.explain(input, { data: seed, dims: [K] });
      const mapName = req.signed ? 'gradcam-signed' : req.method;
      const map = out.maps[mapName];
      if (!map) throw new ServiceError('INTERNAL', `the engine returned no '${mapName}' map`);
      const probs = softmaxRows(out.logits.data, 1, K);
      const h = explainer.layer.height, w = explainer.layer.width;
      const names = c.class_names;
      return {
        patch, map: Array.from(map.data.subarray(0, h * w)), mapShape: [h, w], cellSize: [pw / w, ph / h], cellUm: (P / w) * c.spacing_um_px,
        classes: names, probabilities: Array.from(probs.subarray(0, K)), predicted: names[argmax(probs, K)] ?? String(argmax(probs, K)),
        explained: names[target] ?? String(target), method: req.method, signed: req.signed ?? false, layer: explainer.layer.name, readLevel: level, patchSizePx: P,
      };
    } finally {
      await explainer.dispose();
    }
  }

  async closeAll(): Promise<void> {
    for (const e of this.entries.values()) e.job?.cancel();
    await Promise.allSettled([...this.entries.values()].map((e) => e.done));
  }

  private dto(e: Entry): AnalysisDTO {
    const c = e.pkg.config!;
    const r = e.result;
    const meta = e.cached?.meta as undefined | { origin_px: [number, number]; cell_size_px: [number, number]; shape: [number, number]; patch: { size_px: [number, number]; cells: [number, number] }; resolution: AnalysisDTO['resolution']; layer: string; provider: string; warnings: string[] };
    const g = r?.geometry ?? e.job?.geometry;
    const live = r ? null : e.job?.details;
    return {
      id: e.id, slideId: e.slideId, modelId: e.modelId, state: e.state, source: e.source, progress: e.progress, revision: e.revision,
      classes: e.settings.classes.map((k) => c.class_names[k]), classIndices: e.settings.classes, method: e.settings.method, signed: e.settings.signed,
      layer: r?.layer ?? live?.layer ?? meta?.layer ?? e.settings.layer ?? c.target_layer ?? null,
      provider: r?.provider ?? live?.provider ?? meta?.provider ?? null,
      geometry: g ? { origin: g.origin, cellSize: g.cellSize, shape: g.shape, patchSize: g.patchSize, cellsPerPatch: g.cellsPerPatch }
        : meta ? { origin: meta.origin_px, cellSize: meta.cell_size_px, shape: meta.shape, patchSize: meta.patch.size_px, cellsPerPatch: meta.patch.cells } : null,
      resolution: r?.resolution ?? live?.resolution ?? meta?.resolution ?? null,
      warnings: r?.warnings ?? live?.warnings ?? meta?.warnings ?? [],
      error: e.error,
    };
  }
}

function argmax(a: ArrayLike<number>, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[i] > a[best]) best = i;
  return best;
}

function applyAction(j: AnalysisJob, a: AnalysisActionRequest): void {
  if (a.action === 'prioritize') j.prioritize(a.roi!);
  else if (a.action === 'pause') j.pause();
  else if (a.action === 'resume') j.resume();
  else j.cancel();
}

function decodeCached(files: Map<string, Uint8Array>, classes: number[], names: string[]): NonNullable<Entry['cached']> {
  const heatmaps = new Map<number, Float32Array>();
  let meta: Record<string, unknown> = {};
  for (const [k, base] of heatmapFileNames({ classes, classNames: names })) {
    heatmaps.set(k, decodeNpy(files.get(`${base}.npy`)!).data);
    meta = JSON.parse(new TextDecoder().decode(files.get(`${base}.json`)!)) as Record<string, unknown>;
  }
  return { heatmaps, probabilities: decodeNpy(files.get('probabilities.npy')!).data, meta };
}

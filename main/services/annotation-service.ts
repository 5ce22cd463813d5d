/**
 * AnnotationService (contract) over the annotations engine: one store per slide CONTENT (the engine's rename-proof
 * fingerprint of the file) in the app's data folder, opened when a slide's annotations are first asked for and
 * shared by every open id of that file. Edits, classes, measurements (with heatmap statistics from a loaded
 * analysis), heatmap → regions, QuPath GeoJSON / ASAP XML import and export, CSV of measurements.
 * Every mutating call resolves once the store has written the change durably; a bad import changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import type {
  AnnotationDTO, AnnotationFormatDTO, CropFileDTO, CropFormatDTO, CropRequest, AnnotationImportFormatDTO, AnnotationInputDTO, AnnotationService, AnnotationSetDTO, DeleteAnnotationsRequest,
  ExportedFileDTO, HeatmapRefDTO, ImportAnnotationsResponse, MeasureRequest, MeasureResponse, PutAnnotationsRequest, RegionsFromHeatmapRequest,
  RegionsFromHeatmapResponse, SetClassesRequest,
} from '../contract/annotations.js';
import { ANNOTATION_FORMAT_FILES, ANNOTATION_LIMITS } from '../contract/annotations.js';
import {
  AnnotationError, DEFAULT_LIMITS, fromAsapXml, fromGeoJSON, heatmapRegions, heatmapStats, measureAnnotation, measurementRecord, measurementsCsv, newAnnotation,
  openAnnotationStore, slideFingerprint, stringifyGeoJSON, toAsapXml, validateAnnotation,
  type Annotation, type AnnotationClass, type AnnotationStoreApi, type HeatmapGrid, type ImportLimits, type ImportResult, type PixelSize,
} from '../engine/annotations/index.js';
import { ExportError, renderCrop, type HeatmapPaint } from '../engine/export/index.js';
import { overlayPaint } from '../contract/colormap.js';
import { chooseScaleBar } from '../contract/scalebar.js';
import { ServiceError } from './errors.js';
import type { SlideServiceImpl } from './slide-service.js';
import type { AnalysisServiceImpl } from './analysis-service.js';

export interface AnnotationServiceDeps {
  slides: SlideServiceImpl;
  /** heatmap statistics and regions need the loaded analyses */
  analysis?: AnalysisServiceImpl;
  /** where the per-slide stores live (the app's data folder + /annotations); undefined: a private temporary folder */
  dataDir?: string;
}

/** the engine's import limits, tightened to the contract's */
const LIMITS: ImportLimits = {
  ...DEFAULT_LIMITS,
  maxBytes: ANNOTATION_LIMITS.importBytes,
  maxVerticesPerAnnotation: ANNOTATION_LIMITS.verticesPerAnnotation,
  maxCoordinate: ANNOTATION_LIMITS.maxCoordinate,
};

interface Opened {
  store: AnnotationStoreApi;
  revision: number;
  savedAt: string | null;
}

type HeatmapRef = HeatmapRefDTO;

function asServiceError(e: unknown, what: string): unknown {
  if (!(e instanceof AnnotationError)) return e;
  const code = e.code === 'TOO_LARGE' ? 'LIMIT' : e.code === 'STORE' ? 'INTERNAL' : 'BAD_REQUEST';
  return new ServiceError(code, `${what}: ${e.message}`, { cause: e });
}

export class AnnotationServiceImpl implements AnnotationService {
  private readonly stores = new Map<string, Promise<Opened>>();
  /** slide path → content key */
  private readonly keys = new Map<string, Promise<string>>();
  readonly dataDir: string;
  private readonly ownDir: boolean;

  constructor(private readonly deps: AnnotationServiceDeps) {
    this.ownDir = !deps.dataDir;
    this.dataDir = deps.dataDir ?? mkdtempSync(join(tmpdir(), 'glassbox-annotations-'));
  }

  /** the store of an open slide (opened once per slide content) */
  private async open(slideId: string): Promise<Opened> {
    const { path, slide } = this.deps.slides.slideFor(slideId);
    let key = this.keys.get(path);
    if (!key) {
      key = slideFingerprint(slide.files ?? path);
      this.keys.set(path, key);
      key.catch(() => this.keys.delete(path));
    }
    const k = await key;
    let opened = this.stores.get(k);
    if (!opened) {
      opened = openAnnotationStore(this.dataDir, k).then((store) => ({ store, revision: 0, savedAt: null }));
      this.stores.set(k, opened);
      opened.catch(() => this.stores.delete(k));
    }
    try {
      return await opened;
    } catch (e) {
      throw asServiceError(e, 'annotation store');
    }
  }

  private mppOf(slideId: string): PixelSize {
    const m = this.deps.slides.mpp(slideId);
    return m ? { x: m.x, y: m.y } : null;
  }

  private setDto(slideId: string, o: Opened): AnnotationSetDTO {
    return {
      slideId, annotations: o.store.list() as AnnotationDTO[], classes: o.store.classes(), revision: o.revision, savedAt: o.savedAt,
      notices: [...o.store.notices],
    };
  }

  /** run a durable change, then bump the revision */
  private async change(o: Opened, what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      throw asServiceError(e, what);
    }
    o.revision++;
    o.savedAt = new Date().toISOString();
  }

  async get(slideId: string): Promise<AnnotationSetDTO> {
    return this.setDto(slideId, await this.open(slideId));
  }

  async put(slideId: string, req: PutAnnotationsRequest): Promise<AnnotationSetDTO> {
    const o = await this.open(slideId);
    const mpp = this.mppOf(slideId);
    const now = new Date();
    const list: Annotation[] = req.annotations.map((inp, i) => {
      try {
        return this.build(o.store, inp, mpp, now);
      } catch (e) {
        throw asServiceError(e, `annotations[${i}]`);
      }
    });
    await this.change(o, 'save', () => o.store.putMany(list));
    // classes the annotations use join the list (as QuPath adds a class it meets)
    const missing = this.missingClasses(o.store, list);
    if (missing.length) await this.change(o, 'save classes', () => o.store.setClasses([...o.store.classes(), ...missing]));
    return this.setDto(slideId, o);
  }

  /** a stored annotation from the renderer's input: createdAt and provenance of an existing id are kept */
  private build(store: AnnotationStoreApi, inp: AnnotationInputDTO, mpp: PixelSize, now: Date): Annotation {
    const old = store.get(inp.id);
    if (old?.isLocked && inp.isLocked !== false) throw new ServiceError('BAD_REQUEST', `annotation ${inp.id} is locked (unlock it first)`);
    const a = newAnnotation({
      id: inp.id, shape: inp.shape, geometry: inp.geometry, name: inp.name ?? old?.name ?? '', description: inp.description ?? old?.description ?? '',
      classification: inp.classification !== undefined ? inp.classification : old?.classification ?? null, isLocked: inp.isLocked ?? old?.isLocked ?? false,
      provenance: old?.provenance ?? inp.provenance ?? { source: 'drawn' }, color: old?.color, metadata: old?.metadata, now,
    });
    if (old) a.createdAt = old.createdAt;
    // an import's own measurements stay as they came unless the shape changed; drawn shapes get fresh ones
    const sameGeometry = old && JSON.stringify(old.geometry) === JSON.stringify(a.geometry);
    a.measurements = sameGeometry && old.provenance.source === 'import' ? old.measurements : measurementRecord(a, mpp);
    return validateAnnotation(a, LIMITS);
  }

  private missingClasses(store: AnnotationStoreApi, list: Annotation[]): AnnotationClass[] {
    const have = new Set(store.classes().map((c) => c.name));
    const out: AnnotationClass[] = [];
    for (const a of list) {
      const c = a.classification;
      if (c && !have.has(c.name)) {
        have.add(c.name);
        out.push({ name: c.name, color: [...c.color] as AnnotationClass['color'] });
      }
    }
    return out;
  }

  async remove(slideId: string, req: DeleteAnnotationsRequest): Promise<AnnotationSetDTO> {
    const o = await this.open(slideId);
    const locked = req.ids.filter((id) => o.store.get(id)?.isLocked);
    if (locked.length) throw new ServiceError('BAD_REQUEST', `${locked.length} of these annotations are locked (unlock them to delete): ${locked.slice(0, 3).join(', ')}`);
    const unknown = req.ids.filter((id) => !o.store.get(id));
    if (unknown.length) throw new ServiceError('NOT_FOUND', `no annotation with id ${unknown.slice(0, 3).join(', ')} on this slide`);
    await this.change(o, 'delete', async () => {
      for (const id of req.ids) await o.store.delete(id);
    });
    return this.setDto(slideId, o);
  }

  async setClasses(slideId: string, req: SetClassesRequest): Promise<AnnotationSetDTO> {
    const o = await this.open(slideId);
    const names = new Set<string>();
    for (const c of req.classes) {
      if (names.has(c.name)) throw new ServiceError('BAD_REQUEST', `classes: '${c.name}' is listed twice`);
      names.add(c.name);
    }
    await this.change(o, 'save classes', () => o.store.setClasses(req.classes.map((c) => ({ name: c.name, color: [...c.color] as AnnotationClass['color'] }))));
    return this.setDto(slideId, o);
  }

  /**
   * The analysis's map of class index k as the engine's HeatmapGrid (the final map, or the live partial one),
   * with its probabilities and the model's class names.
   */
  private async grid(slideId: string, ref: HeatmapRef): Promise<HeatmapGrid> {
    const svc = this.deps.analysis;
    if (!svc) throw new ServiceError('NOT_FOUND', 'no analyses on this host');
    const a = await svc.get(ref.analysisId);
    if (a.slideId !== slideId) throw new ServiceError('BAD_REQUEST', `analysis ${ref.analysisId} is of another slide`);
    if (!a.geometry) throw new ServiceError('NOT_FOUND', `analysis ${ref.analysisId} has no map yet`);
    const pos = a.classIndices.indexOf(ref.classIndex);
    if (pos < 0) throw new ServiceError('BAD_REQUEST', `class index ${ref.classIndex} is not part of analysis ${ref.analysisId} (it has ${a.classIndices.join(', ')})`);
    const values = svc.heatmap(ref.analysisId, ref.classIndex);
    let probabilities: Float32Array | undefined;
    try {
      probabilities = svc.probabilities(ref.analysisId);
    } catch {
      probabilities = undefined; // no probabilities yet: statistics without them
    }
    const model = (await svc.models()).models.find((m) => m.id === a.modelId);
    const className = a.classes[pos];
    return {
      origin: a.geometry.origin, cellSize: a.geometry.cellSize, shape: a.geometry.shape, values, probabilities, classNames: model?.classes,
      file: `heatmap-${className}`, className, mpp: this.mppOf(slideId),
      meta: { method: a.method, layer: a.layer ?? undefined, model: model?.name, signed: a.signed },
    };
  }

  async measure(slideId: string, req: MeasureRequest): Promise<MeasureResponse> {
    const o = await this.open(slideId);
    const mpp = this.mppOf(slideId);
    const grid = req.heatmap ? await this.grid(slideId, req.heatmap) : null;
    const list = req.ids ? req.ids.map((id) => o.store.get(id)).filter((a): a is Annotation => !!a) : o.store.list();
    const items = list.map((a) => {
      const area = a.geometry.type === 'Polygon' || a.geometry.type === 'MultiPolygon';
      return {
        id: a.id, shape: measureAnnotation(a, mpp),
        heatmap: grid && area ? heatmapStats(a.geometry, grid, req.heatmap?.threshold) : null,
      };
    });
    return { mpp, items };
  }

  async regionsFromHeatmap(slideId: string, req: RegionsFromHeatmapRequest): Promise<RegionsFromHeatmapResponse> {
    const o = await this.open(slideId);
    const grid = await this.grid(slideId, { analysisId: req.analysisId, classIndex: req.classIndex });
    let out: { annotations: Annotation[]; threshold: number };
    // without the slide's µm/px the minimum area is in level-0 px² (the engine's is µm² only): filtered here
    const pxArea = grid.mpp ? 0 : req.minAreaUm2 ?? 0;
    try {
      out = heatmapRegions(grid, {
        threshold: req.threshold, percentile: req.percentile, minAreaUm2: grid.mpp ? req.minAreaUm2 : undefined, smoothCells: req.smoothCells,
        classification: req.classification === undefined ? undefined : req.classification,
      });
    } catch (e) {
      throw asServiceError(e, 'regions from heatmap');
    }
    if (pxArea > 0) out.annotations = out.annotations.filter((a) => measureAnnotation(a, null).areaPx >= pxArea);
    if (out.annotations.length) {
      await this.change(o, 'save regions', () => o.store.putMany(out.annotations));
      const missing = this.missingClasses(o.store, out.annotations);
      if (missing.length) await this.change(o, 'save classes', () => o.store.setClasses([...o.store.classes(), ...missing]));
    }
    return { added: out.annotations.map((a) => a.id), threshold: out.threshold, set: this.setDto(slideId, o) };
  }

  async importText(slideId: string, format: AnnotationImportFormatDTO, text: string, fileName?: string): Promise<ImportAnnotationsResponse> {
    const o = await this.open(slideId);
    if (Buffer.byteLength(text, 'utf8') > ANNOTATION_LIMITS.importBytes) {
      throw new ServiceError('LIMIT', `import: the file is larger than ${ANNOTATION_LIMITS.importBytes / 1024 / 1024} MiB`);
    }
    let r: ImportResult;
    try {
      const opts = { limits: LIMITS, file: fileName ? basename(fileName) : undefined };
      r = format === 'geojson' ? fromGeoJSON(text, opts) : fromAsapXml(text, opts);
    } catch (e) {
      throw asServiceError(e, `import (${format === 'geojson' ? 'GeoJSON' : 'ASAP XML'})`);
    }
    const locked = r.annotations.filter((a) => o.store.get(a.id)?.isLocked);
    if (locked.length) throw new ServiceError('BAD_REQUEST', `import: ${locked.length} annotation(s) in the file would replace locked ones (${locked[0].id}); nothing was imported`);
    const added = r.annotations.filter((a) => !o.store.get(a.id)).map((a) => a.id);
    const replaced = r.annotations.length - added.length;
    const have = new Set(o.store.classes().map((c) => c.name));
    const classes = [...o.store.classes(), ...r.classes.filter((c) => !have.has(c.name))];
    await this.change(o, 'import', async () => {
      await o.store.putMany(r.annotations);
      if (classes.length !== o.store.classes().length) await o.store.setClasses(classes);
    });
    const warnings = [...r.warnings];
    if (replaced) warnings.push(`${replaced} annotation(s) with the same id as existing ones replaced them`);
    return { added, warnings, set: this.setDto(slideId, o) };
  }

  async exportText(slideId: string, format: AnnotationFormatDTO, ids?: string[], heatmap?: HeatmapRef): Promise<ExportedFileDTO> {
    const o = await this.open(slideId);
    let list = o.store.list();
    if (ids) {
      const want = new Set(ids);
      list = list.filter((a) => want.has(a.id));
      if (list.length !== want.size) throw new ServiceError('NOT_FOUND', `export: ${want.size - list.length} of the ids are not annotations of this slide`);
    }
    const name = this.deps.slides.slideFor(slideId).path;
    const stem = basename(name, extname(name));
    const f = ANNOTATION_FORMAT_FILES[format];
    let text: string;
    if (format === 'geojson') text = stringifyGeoJSON(list);
    else if (format === 'asap') text = toAsapXml(list, o.store.classes());
    else {
      const grid = heatmap ? await this.grid(slideId, heatmap) : undefined;
      text = measurementsCsv(list, { mpp: this.mppOf(slideId), grid, threshold: heatmap?.threshold });
    }
    return { filename: `${stem}.annotations.${f.ext}`, mime: f.mime, text };
  }

  /**
   * One annotation's bounding box as an image (the export engine's renderCrop): at `mpp` µm/px (the slide's own, or
   * the user's override) or a downsample, with the outline, a burned-in scale bar and, when asked, the heatmap in
   * the viewer's colours, range, threshold and opacity.
   */
  async crop(slideId: string, id: string, format: CropFormatDTO, req: CropRequest): Promise<CropFileDTO> {
    const o = await this.open(slideId);
    const a = o.store.get(id);
    if (!a) throw new ServiceError('NOT_FOUND', `no annotation with id ${id} on this slide`);
    const { slide } = this.deps.slides.slideFor(slideId);
    const m = this.deps.slides.mpp(slideId);
    let mpp: number | undefined, downsample = req.downsample;
    if (req.mpp !== undefined) {
      if (!m) throw new ServiceError('BAD_REQUEST', 'crop: the slide\'s µm/px is unknown: set it, or give a downsample instead of µm/px');
      // the slide's own µm/px: the engine writes it into the file; a user override: the same scale as a downsample
      if (m.source === 'user' || !slide.properties.mpp) downsample = req.mpp / m.x;
      else mpp = req.mpp;
    }
    let overlay: { grid: HeatmapGrid; paint: HeatmapPaint } | null = null;
    if (req.overlay) {
      const v = req.overlay;
      const grid = await this.grid(slideId, { analysisId: v.analysisId, classIndex: v.classIndex });
      if (v.mode === 'probability') {
        const k = v.classIndex, K = grid.classNames?.length ?? 0, n = grid.shape[0] * grid.shape[1];
        if (!grid.probabilities || K === 0 || grid.probabilities.length !== n * K) throw new ServiceError('NOT_FOUND', 'crop: this analysis has no probabilities yet');
        const plane = new Float32Array(n);
        for (let i = 0; i < n; i++) plane[i] = grid.probabilities[i * K + k];
        grid.values = plane;
      }
      const paint: HeatmapPaint = overlayPaint({ mode: v.mode, colormap: v.colormap, range: { lo: 0, hi: v.hi, threshold: v.threshold }, opacity: v.opacity, smooth: v.smooth });
      overlay = { grid, paint };
    }
    const color = a.classification?.color ?? a.color ?? [255, 200, 0];
    try {
      const r = await renderCrop(slide, a.geometry, {
        mpp, downsample, format, margin: req.margin, overlay, outline: req.outline === false ? null : { color },
        scaleBar: req.scaleBar === false ? null : chooseScaleBar,
      });
      const stem = (a.name || a.classification?.name || 'annotation').replace(/[^\w.-]+/g, '_').slice(0, 60);
      return { filename: `${stem}_${a.id.slice(0, 8)}.${format === 'png' ? 'png' : 'tif'}`, mime: format === 'png' ? 'image/png' : 'image/tiff', bytes: r.bytes, width: r.width, height: r.height };
    } catch (e) {
      if (e instanceof ExportError) throw new ServiceError(e.code === 'LIMIT' ? 'LIMIT' : 'BAD_REQUEST', `crop: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** wait for queued writes (tests, shutdown) */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.stores.values()].map(async (p) => (await p).store.flush()));
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.ownDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

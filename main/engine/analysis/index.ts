/**
 * Whole-slide analysis: `analyzeSlide` = result cache lookup → (resume an interrupted run) → AnalysisJob →
 * result files, cached atomically. The job's pieces (tissue mask, grid, scheduler, stitcher) are exported for
 * the service and tests.
 */
import type { Slide } from '../slide/types.js';
import type { ModelPackage } from '../model/index.js';
import { AnalysisJob, type AnalyzeInput } from './pipeline.js';
import { resultFiles, FORMAT_VERSION, type Provenance } from './outputs.js';
import { ResultCache, fileSha256, sha256Hex } from './result-cache.js';
import type { AnalysisResult, AnalysisSettings, Progress, Rect } from './types.js';

export * from './types.js';
export { AnalysisJob, softmaxRows, type PartialState, type AnalyzeInput } from './pipeline.js';
export { computeTissueMask, tissueFraction, otsu, maskDownsample, type TissueMask } from './tissue.js';
export { planGrid, patchRect, readLevel, clampRegion } from './grid.js';
export { Stitcher, tentWeights, valueRange, absQuantile } from './stitch.js';
export { PatchScheduler } from './scheduler.js';
export { resultFiles, sidecar, patchesCsv, heatmapFileNames, classFileName, FORMAT_VERSION, type Provenance } from './outputs.js';
export { ResultCache, defaultCacheDir, fileSha256, sha256Hex } from './result-cache.js';

export interface AnalyzeSlideOptions {
  slide: Slide;
  model: ModelPackage;
  settings: AnalysisSettings;
  /** null: no cache (always compute, never save) */
  cache?: ResultCache | null;
  priority?: Rect;
  onProgress?: (p: Progress) => void;
  onBatch?: AnalyzeInput['onBatch'];
  /** receives the running job (pause, resume, cancel, prioritize) */
  onJob?: (job: AnalysisJob) => void;
  version: string;
  createExplainer?: AnalyzeInput['createExplainer'];
  checkpointMs?: number;
}

export interface AnalyzeSlideOutcome {
  key: string;
  /** 'cache': a complete cached result; 'computed': this run (resumed: how many patches came from a partial run) */
  source: 'cache' | 'computed';
  resumed: number;
  files: Map<string, Uint8Array>;
  result?: AnalysisResult;
  provenance: Provenance;
}

/** sha256 over the model file's and its config.json's sha256 (each remembered per path, size and mtime under memoDir) */
export async function modelSha256(model: ModelPackage, memoDir?: string): Promise<string> {
  const parts = [await fileSha256(model.modelPath, memoDir)];
  if (model.configPath) parts.push(await fileSha256(model.configPath, memoDir));
  return sha256Hex(parts.join('\n'));
}

/** A slide's content hash: its file's sha256; for a multi-file slide (a DICOM series) the sha256 over each file's. */
async function slideSha256(slide: Slide, memoDir?: string): Promise<string> {
  const files = slide.files ?? [slide.path];
  if (files.length === 1) return fileSha256(files[0], memoDir);
  return sha256Hex((await Promise.all(files.map((f) => fileSha256(f, memoDir)))).join('\n'));
}

export async function analyzeSlide(o: AnalyzeSlideOptions): Promise<AnalyzeSlideOutcome> {
  const { slide, model, settings } = o;
  const cache = o.cache === undefined ? new ResultCache() : o.cache;
  const [slideHash, modelHash] = await Promise.all([slideSha256(slide, cache?.root), modelSha256(model, cache?.root)]);
  const r = settings.region;
  const provenance: Provenance = {
    slide: { path: slide.path, sha256: slideHash, width: slide.properties.width, height: slide.properties.height },
    model: {
      name: model.id, path: model.modelPath, sha256: modelHash,
      spacing_um_px: model.config?.spacing_um_px ?? NaN, patch_size_pixels: model.config?.patch_size_pixels ?? NaN,
    },
    settings: { overlap: settings.overlap, min_tissue: settings.minTissue, region: r ? [r.x, r.y, r.w, r.h] : null, batch: settings.batch },
    version: o.version,
  };
  const key = sha256Hex(JSON.stringify({
    v: FORMAT_VERSION, slide: slideHash, model: modelHash, classes: settings.classes, method: settings.method, signed: settings.signed,
    layer: settings.layer ?? model.config?.target_layer ?? null, overlap: settings.overlap, minTissue: settings.minTissue,
    mpp: settings.mpp ?? slide.properties.mpp ?? null, region: r ?? null,
  }));
  if (cache) {
    const hit = await cache.get(key);
    if (hit) return { key, source: 'cache', resumed: 0, files: hit, provenance };
  }
  const partial = cache ? await cache.getPartial(key, settings.classes) : null;
  const job = new AnalysisJob({
    slide, model, settings, priority: o.priority, resume: partial ?? undefined, onProgress: o.onProgress, onBatch: o.onBatch,
    checkpoint: cache ? (s) => cache.putPartial(key, s) : undefined, checkpointMs: o.checkpointMs, createExplainer: o.createExplainer,
  });
  o.onJob?.(job);
  const result = await job.run();
  const files = resultFiles(result, provenance);
  if (cache && result.complete) await cache.put(key, files);
  return { key, source: 'computed', resumed: partial?.indices.length ?? 0, files, result, provenance };
}

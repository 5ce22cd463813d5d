/**
 * Whole-slide analysis job: tissue mask → patch grid at the model's µm/px → reads ∥ batched inference + CAM →
 * stitched slide-level maps. Reads for the next batches are in flight while the model runs (prefetch depth 2,
 * bounded), so the model waits on I/O only when reading is slower than inference. ROI first; re-prioritise,
 * pause, resume and cancel while running; progress with rate and ETA; a checkpoint hook for resumable runs.
 */
import { setMaxListeners } from 'node:events';
import type { Slide } from '../slide/types.js';
import type { ModelPackage } from '../model/index.js';
import { applyTransforms, checkPackageAgainstModel, resizeBilinear } from '../model/index.js';
import type { Explainer } from '../explain/types.js';
import { ExplainError } from '../explain/types.js';
import { computeTissueMask, maskDownsample, tissueFraction, type TissueMask } from './tissue.js';
import { clampRegion, planGrid, readLevel, type GridPlan } from './grid.js';
import { PatchScheduler } from './scheduler.js';
import { Stitcher } from './stitch.js';
import {
  AnalysisError, type AnalysisResult, type AnalysisSettings, type BatchResult, type Patch, type Progress, type Rect, type Resolution,
} from './types.js';

/** What a resumable run has finished: patch indices, per-class maps [n, ch, cw], probabilities [n, K]. */
export interface PartialState {
  indices: number[];
  maps: Map<number, Float32Array>;
  probabilities: Float32Array;
}

export interface AnalyzeInput {
  slide: Slide;
  model: ModelPackage;
  settings: AnalysisSettings;
  /** computed first (e.g. the current view) */
  priority?: Rect;
  /** results of an earlier, interrupted run with the same settings */
  resume?: PartialState;
  onProgress?: (p: Progress) => void;
  /** each analysed batch, as it completes (for live display) */
  onBatch?: (b: BatchResult, geometry: GridPlan['geometry']) => void;
  /** called every `checkpointMs` and when cancelled, with everything finished so far */
  checkpoint?: (s: PartialState) => Promise<void>;
  checkpointMs?: number;
  /** createExplainer, injectable for tests */
  createExplainer?: typeof import('../explain/index.js').createExplainer;
}

const PREFETCH = 2;

interface Prepared { patches: Patch[]; input: Float32Array }

export class AnalysisJob {
  private readonly abort = new AbortController();
  private paused = false;
  private wake: (() => void) | null = null;
  private scheduler: PatchScheduler | null = null;
  private pendingPriority: Rect | undefined;
  private progress: Progress = { stage: 'tissue', done: 0, total: 0, rate: 0, eta: null, elapsed: 0 };
  private live: { stitcher: Stitcher; batches: number } | null = null;
  private info: { resolution: Resolution; warnings: string[]; layer: string; provider: string } | null = null;

  constructor(private readonly input: AnalyzeInput) {
    this.pendingPriority = input.priority;
    // every in-flight region read listens to this one signal
    setMaxListeners(0, this.abort.signal);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get state(): Progress {
    return { ...this.progress };
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.emit({ stage: 'paused' });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.wake?.();
  }

  cancel(): void {
    this.abort.abort();
    this.wake?.();
  }

  /** Re-order the patches still waiting: those in `roi` next. */
  prioritize(roi: Rect): void {
    if (this.scheduler) this.scheduler.prioritize(roi);
    else this.pendingPriority = roi;
  }

  /** The grid (null until the model is loaded): cheap, for status reports. */
  get geometry(): GridPlan['geometry'] | null {
    return this.live?.stitcher.geometry ?? null;
  }

  /** The resolution report, warnings, layer and provider, known once the model is loaded (null before). */
  get details(): { resolution: Resolution; warnings: string[]; layer: string; provider: string } | null {
    return this.info;
  }

  /** The stitched maps so far (null before the grid exists); `batches` counts the batches stitched. */
  snapshot(): { geometry: GridPlan['geometry']; heatmaps: Map<number, Float32Array>; probabilities: Float32Array; batches: number } | null {
    if (!this.live) return null;
    const st = this.live.stitcher;
    return { geometry: st.geometry, heatmaps: new Map(st.classes.map((k) => [k, st.heatmap(k)])), probabilities: st.probabilities(), batches: this.live.batches };
  }

  private emit(p: Partial<Progress>): void {
    this.progress = { ...this.progress, ...p };
    this.input.onProgress?.({ ...this.progress });
  }

  private async waitWhilePaused(): Promise<void> {
    while (this.paused && !this.abort.signal.aborted) await new Promise<void>((r) => { this.wake = r; });
    this.wake = null;
  }

  async run(): Promise<AnalysisResult> {
    const { slide, model, settings } = this.input;
    const signal = this.abort.signal;
    const cfg = model.config;
    if (!cfg) throw new AnalysisError('BAD_INPUT', `${model.modelPath} is a bare .onnx model: whole-slide analysis needs a model package (config.json with patch_size_pixels and spacing_um_px)`);
    const warnings: string[] = [];
    const t0 = performance.now();
    const props = slide.properties;

    // ---- resolution: slide µm/px (vendor, TIFF tags, override or assumed) against the model's
    let mpp: Resolution['slide_mpp'];
    if (settings.mpp !== undefined) {
      if (!(Number.isFinite(settings.mpp) && settings.mpp > 0 && settings.mpp < 100)) throw new AnalysisError('BAD_INPUT', `--mpp must be a resolution in µm/px between 0 and 100 (got ${settings.mpp})`);
      mpp = { x: settings.mpp, y: settings.mpp, source: 'user' };
    } else if (props.mpp) {
      mpp = { x: props.mpp.x, y: props.mpp.y, source: props.mpp.source };
    } else {
      mpp = { x: cfg.spacing_um_px, y: cfg.spacing_um_px, source: 'assumed' };
      warnings.push(`the slide's resolution is unknown: assuming the model's ${cfg.spacing_um_px} µm/px (factor 1.00); give the real µm/px with --mpp`);
    }
    const fx = cfg.spacing_um_px / mpp.x, fy = cfg.spacing_um_px / mpp.y;
    if (Math.abs(fx - 1) > 0.05 && mpp.source !== 'assumed') {
      warnings.push(fx > 1
        ? `the slide is ${fmt(mpp.x)} µm/px and the model reads ${fmt(cfg.spacing_um_px)} µm/px: patches are downsampled by ${fx.toFixed(2)}×`
        : `the slide is ${fmt(mpp.x)} µm/px, coarser than the model's ${fmt(cfg.spacing_um_px)} µm/px: patches are UPSAMPLED ${(1 / fx).toFixed(2)}× and the maps are less trustworthy`);
    }
    const region = clampRegion(settings.region, props.width, props.height);
    if (settings.region && (region.w !== settings.region.w || region.h !== settings.region.h)) {
      warnings.push(`the region was clipped to the slide: ${region.x},${region.y},${region.w},${region.h}`);
    }

    // ---- the model: its layer fixes the cells per patch
    this.emit({ stage: 'model', elapsed: 0 });
    const tm = performance.now();
    const create = this.input.createExplainer ?? (await import('../explain/index.js')).createExplainer;
    const layer = settings.layer ?? cfg.target_layer;
    const mapName = settings.signed ? 'gradcam-signed' : settings.method;
    if (settings.signed && settings.method !== 'gradcam') throw new AnalysisError('BAD_INPUT', `a signed map exists for --method gradcam only (got ${settings.method})`);
    if (!(Number.isInteger(settings.batch) && settings.batch >= 1 && settings.batch <= 1024)) throw new AnalysisError('BAD_INPUT', `batch must be an integer 1..1024 (got ${settings.batch})`);
    if (!(settings.minTissue >= 0 && settings.minTissue <= 1)) throw new AnalysisError('BAD_INPUT', `minimum tissue fraction must be in [0, 1] (got ${settings.minTissue})`);
    const explainer: Explainer = await create(model.modelPath, { layer, methods: [settings.method], ep: settings.ep });
    try {
      try {
        checkPackageAgainstModel(model, explainer.numClasses);
      } catch (e) {
        throw new AnalysisError('MODEL_MISMATCH', (e as Error).message);
      }
      const K = explainer.numClasses;
      for (const k of settings.classes) if (!(Number.isInteger(k) && k >= 0 && k < K)) throw new AnalysisError('BAD_INPUT', `class ${k} out of range: the model has ${K} classes`);
      const [C, H, W] = explainer.inputShape;
      const P = cfg.patch_size_pixels;
      // what the package's transforms make of a P×P patch must be what the model reads
      const probe = applyTransforms({ data: new Uint8Array(P * P * 3), width: P, height: P }, cfg.transform);
      if (probe.dims[1] !== C || probe.dims[2] !== H || probe.dims[3] !== W) {
        throw new AnalysisError('MODEL_MISMATCH', `${model.configPath}: a ${P}×${P} px patch becomes ${probe.dims.slice(1).join('×')} after the config's transforms, but the model expects ${C}×${H}×${W}`);
      }
      const cells: [number, number] = [explainer.layer.width, explainer.layer.height];
      const patchLevel0: [number, number] = [P * fx, P * fy];
      const plan = planGrid(region, patchLevel0, cells, settings.overlap);
      if (settings.overlap > 0 && plan.overlapUsed[0] === 0) warnings.push(`an overlap of ${settings.overlap} is less than one map cell (${cells[0]} cells per patch): patches do not overlap`);
      const level = readLevel(props.levels, Math.min(fx, fy));
      const ds = props.levels[level].downsample;
      const modelMs = performance.now() - tm;
      const resolution: Resolution = {
        slide_mpp: mpp,
        model_mpp: cfg.spacing_um_px,
        resample_factor: fx,
        read_level: level,
        read_downsample: ds,
        stride: explainer.layer.stride,
        patch_px_per_cell: P / cells[0],
        cell_size_um: [(P / cells[0]) * cfg.spacing_um_px, (P / cells[1]) * cfg.spacing_um_px],
        smallest_resolvable_um: 2 * Math.max((P / cells[0]) * cfg.spacing_um_px, (P / cells[1]) * cfg.spacing_um_px),
      };

      // ---- tissue
      this.emit({ stage: 'tissue', elapsed: (performance.now() - t0) / 1000 });
      const tt = performance.now();
      const mask: TissueMask = await computeTissueMask(slide, maskDownsample(props.width, props.height, Math.max(...patchLevel0)), signal).catch((e) => {
        if (signal.aborted) throw new AnalysisError('ABORTED', 'the analysis was cancelled');
        throw e;
      });
      const tissueMs = performance.now() - tt;
      for (const p of plan.patches) p.tissue = tissueFraction(mask, p);
      const todo = plan.patches.filter((p) => p.tissue > 0 && p.tissue >= settings.minTissue);
      if (todo.length === 0) {
        throw new AnalysisError('NO_TISSUE', `no tissue found in ${settings.region ? 'the region' : 'the slide'} (${plan.patches.length} patches of ${Math.round(patchLevel0[0])} px, none with a tissue fraction ≥ ${settings.minTissue}; saturation threshold ${mask.threshold.toFixed(3)})`);
      }

      // ---- analysis
      const stitcher = new Stitcher(plan.geometry, settings.classes, K, region);
      this.live = { stitcher, batches: 0 };
      this.info = { resolution, warnings, layer: explainer.layer.name, provider: explainer.executionProvider };
      const store = new PatchStore(settings.classes, cells[0] * cells[1], K);
      const resumed = new Set<number>();
      const r = this.input.resume;
      if (r) {
        const byIndex = new Map(plan.patches.map((p) => [p.index, p]));
        r.indices.forEach((idx, i) => {
          const p = byIndex.get(idx);
          if (!p) return;
          const maps = new Map(settings.classes.map((k) => [k, r.maps.get(k)!.subarray(i * store.cells, (i + 1) * store.cells)]));
          const probs = r.probabilities.subarray(i * K, (i + 1) * K);
          stitcher.add(p, maps, 0, probs);
          store.push([p], maps, probs);
          resumed.add(idx);
        });
      }
      const scheduler = new PatchScheduler(todo.filter((p) => !resumed.has(p.index)), this.pendingPriority);
      this.scheduler = scheduler;
      const total = todo.length;
      let done = todo.length - scheduler.remaining;
      const ta = performance.now();
      let inferenceMs = 0;
      let analysed = 0;
      let lastCheckpoint = performance.now();
      const checkpointMs = this.input.checkpointMs ?? 10_000;
      this.emit({ stage: 'analysing', done, total, rate: 0, eta: null, elapsed: (performance.now() - t0) / 1000 });

      const itemSize = C * H * W;
      const prepare = async (patches: Patch[]): Promise<Prepared> => {
        const input = new Float32Array(patches.length * itemSize);
        await Promise.all(patches.map(async (p, i) => {
          const lw = Math.max(1, Math.round(p.w / ds)), lh = Math.max(1, Math.round(p.h / ds));
          let img = await slide.readRegion(p.x, p.y, level, lw, lh, signal);
          if (img.width !== P || img.height !== P) img = resizeBilinear(img, P, P);
          input.set(applyTransforms(img, cfg.transform).data, i * itemSize);
        }));
        return { patches, input };
      };
      const queue: Promise<Prepared>[] = [];
      const refill = () => {
        while (queue.length < PREFETCH && scheduler.remaining > 0 && !signal.aborted) {
          const p = prepare(scheduler.take(settings.batch));
          p.catch(() => {}); // awaited below; a rejection after cancel is not unhandled
          queue.push(p);
        }
      };
      const seeds = settings.classes.map((k) => { const s = new Float32Array(K); s[k] = 1; return s; });
      const partial = (): PartialState => store.state();
      let cancelled = false;
      try {
        refill();
        while (queue.length > 0) {
          await this.waitWhilePaused();
          if (signal.aborted) { cancelled = true; break; }
          if (this.progress.stage === 'paused') this.emit({ stage: 'analysing' });
          let batch: Prepared;
          try {
            batch = await queue.shift()!;
          } catch (e) {
            if (signal.aborted) { cancelled = true; break; }
            throw e;
          }
          refill();
          const n = batch.patches.length;
          const tensor = { data: batch.input, dims: [n, C, H, W] };
          const maps = new Map<number, Float32Array>();
          let logits: Float32Array | null = null;
          const ti = performance.now();
          for (const [i, k] of settings.classes.entries()) {
            const out = await explainer.explain(tensor, { data: seeds[i], dims: [K] });
            const m = out.maps[mapName];
            if (!m) throw new AnalysisError('BAD_INPUT', `the engine returned no '${mapName}' map`);
            maps.set(k, m.data);
            logits ??= out.logits.data;
          }
          inferenceMs += performance.now() - ti;
          const probs = softmaxRows(logits!, n, K);
          batch.patches.forEach((p, i) => stitcher.add(p, maps, i * store.cells, probs, i * K));
          store.push(batch.patches, maps, probs);
          this.live.batches++;
          done += n;
          analysed += n;
          const el = (performance.now() - ta) / 1000;
          const rate = analysed / Math.max(el, 1e-9);
          this.emit({ stage: 'analysing', done, total, rate, eta: (total - done) / rate, elapsed: (performance.now() - t0) / 1000 });
          this.input.onBatch?.({ patches: batch.patches, maps, probabilities: probs }, plan.geometry);
          if (this.input.checkpoint && performance.now() - lastCheckpoint > checkpointMs) {
            await this.input.checkpoint(partial());
            lastCheckpoint = performance.now();
          }
        }
      } finally {
        if (signal.aborted) await Promise.allSettled(queue);
      }
      if (cancelled && this.input.checkpoint) await this.input.checkpoint(partial());
      const analysisMs = performance.now() - ta;
      const complete = !cancelled && done === total;
      this.emit({ stage: complete ? 'done' : 'cancelled', done, total, eta: complete ? 0 : null, elapsed: (performance.now() - t0) / 1000 });
      const heatmaps = new Map(settings.classes.map((k) => [k, stitcher.heatmap(k)]));
      return {
        complete,
        geometry: plan.geometry,
        resolution,
        classNames: cfg.class_names,
        classes: settings.classes,
        method: settings.method,
        signed: settings.signed,
        layer: explainer.layer.name,
        provider: explainer.executionProvider,
        fallbackReason: explainer.fallbackReason,
        heatmaps,
        probabilities: stitcher.probabilities(),
        patches: store.records(new Map(plan.patches.map((p) => [p.index, p]))),
        tissuePatches: total,
        gridPatches: plan.patches.length,
        warnings,
        timing: { tissueMs, modelMs, analysisMs, inferenceMs, patchesPerSecond: analysed / Math.max(analysisMs / 1000, 1e-9) },
      };
    } catch (e) {
      if (e instanceof ExplainError) throw e;
      if (signal.aborted && !(e instanceof AnalysisError)) throw new AnalysisError('ABORTED', 'the analysis was cancelled', { cause: e });
      throw e;
    } finally {
      await explainer.dispose();
    }
  }
}

const fmt = (v: number) => String(Number(v.toPrecision(4)));

export function softmaxRows(logits: Float32Array, n: number, K: number): Float32Array {
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < K; j++) m = Math.max(m, logits[i * K + j]);
    let s = 0;
    for (let j = 0; j < K; j++) s += Math.exp(logits[i * K + j] - m);
    for (let j = 0; j < K; j++) out[i * K + j] = Math.exp(logits[i * K + j] - m) / s;
  }
  return out;
}

/** Every finished patch's maps and probabilities, in batches (for checkpoints and patches.csv). */
class PatchStore {
  private readonly chunks: Array<{ patches: Patch[]; maps: Map<number, Float32Array>; probs: Float32Array }> = [];
  constructor(private readonly classes: readonly number[], readonly cells: number, private readonly K: number) {}

  push(patches: Patch[], maps: Map<number, Float32Array>, probs: Float32Array): void {
    const n = patches.length;
    // copies: the engine's output buffers are not ours to keep
    const own = new Map([...maps].map(([k, v]) => [k, v.slice(0, n * this.cells)]));
    this.chunks.push({ patches, maps: own, probs: probs.slice(0, n * this.K) });
  }

  state(): PartialState {
    const n = this.chunks.reduce((a, c) => a + c.patches.length, 0);
    const maps = new Map(this.classes.map((k) => [k, new Float32Array(n * this.cells)]));
    const probabilities = new Float32Array(n * this.K);
    const indices: number[] = [];
    let o = 0;
    for (const c of this.chunks) {
      for (const k of this.classes) maps.get(k)!.set(c.maps.get(k)!, o * this.cells);
      probabilities.set(c.probs, o * this.K);
      for (const p of c.patches) indices.push(p.index);
      o += c.patches.length;
    }
    return { indices, maps, probabilities };
  }

  records(byIndex: Map<number, Patch>): AnalysisResult['patches'] {
    const out: AnalysisResult['patches'] = [];
    for (const c of this.chunks) {
      c.patches.forEach((p, i) => out.push({ ...(byIndex.get(p.index) ?? p), probabilities: Array.from(c.probs.subarray(i * this.K, (i + 1) * this.K)) }));
    }
    return out.sort((a, b) => a.index - b.index);
  }
}

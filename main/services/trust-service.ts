/**
 * TrustService (contract) over the trust engine: the randomization check and the deletion / insertion curves on
 * patches of an open slide, read exactly as the explain-this-patch panel reads its patch (level via readLevel,
 * bilinear to the model's patch size, the package's transforms), as background jobs with progress and cancel.
 * One job computes at a time (they are CPU-heavy); later ones wait their turn.
 */
import { randomBytes } from 'node:crypto';
import type { TrustJobDTO, TrustRunRequest, TrustService } from '../contract/trust.js';
import type { TrustRegionDTO, TrustRegionSummaryDTO } from '../contract/trust.js';
import { TRUST_ID_RE, TRUST_MAX_PATCHES, TRUST_REGION_MAX_PATCHES } from '../contract/trust.js';
import { regionPatches } from '../engine/trust/region.js';
import { applyTransforms, resizeBilinear, resolveClass, type ModelPackage } from '../engine/model/index.js';
import { readLevel } from '../engine/analysis/index.js';
import type { Tensor } from '../engine/explain/types.js';
import type { FaithfulnessReport, SanityReport, TrustProgress } from '../engine/trust/index.js';
import { ServiceError } from './errors.js';
import { throwIfAborted } from '../base/abort.js';
import type { SlideServiceImpl } from './slide-service.js';

export interface TrustServiceDeps {
  slides: SlideServiceImpl;
  /** resolves an opaque model id to its package (AnalysisServiceImpl.model) */
  model: (id: string) => Promise<ModelPackage>;
  ep?: 'cpu' | 'webgpu' | 'cuda' | 'auto';
}

/** the extra reads behind the report download URLs */
export interface TrustHostService extends TrustService {
  reportJson(id: string): string;
  reportHtml(id: string): Promise<string>;
}

interface Job {
  dto: TrustJobDTO;
  abort: AbortController;
  started: number;
  done: Promise<void>;
}

/**
 * The patches of the model's grid (origin (0, 0), `patch` level-0 px each) whose centres lie inside the region, at
 * most TRUST_REGION_MAX_PATCHES (sampled evenly with the seed); a clear error when it misses the slide or has none.
 */
export function regionOf(region: TrustRegionDTO, width: number, height: number, patch: [number, number], seed: number): { patches: TrustJobDTO['patches']; summary: TrustRegionSummaryDTO } {
  const g = region.geometry;
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const label = region.name ? `region '${region.name}'` : 'the region';
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const ring of polygons.flat()) for (const [x, y] of ring) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  if (x1 <= 0 || y1 <= 0 || x0 >= width || y0 >= height) {
    throw new ServiceError('BAD_REQUEST', `${label} (${Math.round(x0)}, ${Math.round(y0)})–(${Math.round(x1)}, ${Math.round(y1)}) lies outside the slide (0..${width}, 0..${height} px at level 0)`);
  }
  const cap = TRUST_REGION_MAX_PATCHES;
  const r = regionPatches(polygons, { width, height, patch, cap, seed });
  if (!r.patches.length) {
    throw new ServiceError('BAD_REQUEST', `no patch of the model's grid has its centre inside ${label} (patches are ${Math.round(patch[0])}×${Math.round(patch[1])} px at level 0): draw a larger region`);
  }
  return { patches: r.patches, summary: { name: region.name, inside: r.inside, checked: r.patches.length, cap, sampled: r.inside > cap } };
}

/** finished jobs kept (their reports stay downloadable) */
const KEEP = 20;

export class TrustServiceImpl implements TrustHostService {
  private readonly jobs = new Map<string, Job>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TrustServiceDeps) {}

  async start(req: TrustRunRequest): Promise<TrustJobDTO> {
    const points = req.points ?? [];
    if (!req.region && (!points.length || points.length > TRUST_MAX_PATCHES)) throw new ServiceError('BAD_REQUEST', `points: give 1 to ${TRUST_MAX_PATCHES} patch centres`);
    const { slide, mpp } = this.deps.slides.slideFor(req.slideId);
    const pkg = await this.deps.model(req.modelId);
    const c = pkg.config!;
    const props = slide.properties;
    for (const p of points) {
      if (!(p.x >= 0 && p.y >= 0 && p.x < props.width && p.y < props.height)) throw new ServiceError('BAD_REQUEST', `point (${p.x}, ${p.y}) is outside the slide (0..${props.width - 1}, 0..${props.height - 1})`);
    }
    let target: number | undefined;
    if (req.class !== undefined) {
      try { target = resolveClass(req.class, c.num_classes, c.class_names); } catch (e) { throw new ServiceError('BAD_REQUEST', (e as Error).message); }
    }
    // the slide's µm/px as the analyses use it (user override, the slide's own, else the model's)
    const m = (mpp?.source === 'user' ? mpp : props.mpp) ?? { x: c.spacing_um_px, y: c.spacing_um_px };
    const P = c.patch_size_pixels;
    const exact: [number, number] = [(P * c.spacing_um_px) / m.x, (P * c.spacing_um_px) / m.y];
    const size = { w: Math.max(1, Math.round(exact[0])), h: Math.max(1, Math.round(exact[1])) };
    const level = readLevel(props.levels, Math.min(c.spacing_um_px / m.x, c.spacing_um_px / m.y));
    const ds = props.levels[level].downsample;
    const fromRegion = req.region ? regionOf(req.region, props.width, props.height, exact, req.seed ?? 0) : null;
    const patches = fromRegion?.patches ?? points.map((p) => ({ x: Math.round(p.x - size.w / 2), y: Math.round(p.y - size.h / 2), ...size }));
    const id = randomBytes(12).toString('base64url');
    const job: Job = {
      dto: { id, state: 'running', progress: { stage: 'queued', done: 0, total: 0, elapsed: 0 }, patches, region: fromRegion?.summary ?? null, sanity: null, faithfulness: null, error: null },
      abort: new AbortController(), started: Date.now(), done: Promise.resolve(),
    };
    this.jobs.set(id, job);
    this.trim();
    const work = async () => {
      const signal = job.abort.signal;
      throwIfAborted(signal, 'the trust check');
      job.started = Date.now();
      const setProgress = (base: number, total: number) => (p: TrustProgress) => {
        if (job.dto.state !== 'running') return;
        job.dto.progress = { stage: p.stage, done: base + p.done, total, elapsed: (Date.now() - job.started) / 1000 };
      };
      setProgress(0, 1)({ stage: 'reading patches', done: 0, total: 1 });
      const items: Tensor[] = [];
      for (const r of patches) {
        let img = await slide.readRegion(r.x, r.y, level, Math.max(1, Math.round(r.w / ds)), Math.max(1, Math.round(r.h / ds)));
        if (img.width !== P || img.height !== P) img = resizeBilinear(img, P, P);
        items.push(applyTransforms(img, c.transform)); // [1, C, H, W] after the package's own Resize, if any
      }
      const plane = items[0].data.length;
      const data = new Float32Array(items.length * plane);
      items.forEach((t, i) => data.set(t.data, i * plane));
      const input: Tensor = { data, dims: [items.length, ...items[0].dims.slice(-3)] };
      const { runSanity, runFaithfulness, findBlocks } = await import('../engine/trust/index.js');
      const common = {
        model: pkg.modelPath, modelName: pkg.id, input, inputNames: patches.map((r) => `${req.region ? `${req.region.name || 'region'}: ` : ''}patch (${r.x}, ${r.y}) ${r.w}×${r.h} px`),
        methods: [req.method], layer: req.layer ?? c.target_layer, target, classNames: c.class_names, seed: req.seed ?? 0, ep: this.deps.ep ?? 'auto', signal,
      };
      const blocks = findBlocks(pkg.modelPath).length;
      const withCurves = req.faithfulness !== false;
      const total = blocks + (withCurves ? patches.length : 0);
      try {
        const s = await runSanity({ ...common, mode: req.mode ?? 'cascading', onProgress: setProgress(0, total) });
        job.dto.sanity = s.reports[0] as SanityReport as TrustJobDTO['sanity'];
        if (withCurves) {
          const f = await runFaithfulness({ ...common, steps: req.steps ?? 20, onProgress: setProgress(blocks, total) });
          job.dto.faithfulness = f as FaithfulnessReport as TrustJobDTO['faithfulness'];
        }
      } catch (e) {
        const { ExplainError } = await import('../engine/explain/index.js');
        if (e instanceof ExplainError && (e.code === 'BAD_INPUT' || e.code === 'UNKNOWN_TENSOR')) throw new ServiceError('BAD_REQUEST', e.message);
        throw e;
      }
      if (job.dto.state === 'running') job.dto.progress = { stage: 'done', done: total, total, elapsed: (Date.now() - job.started) / 1000 };
    };
    job.done = this.queue.then(work).then(() => { if (job.dto.state === 'running') job.dto.state = 'done'; }, (e: unknown) => {
      if (job.dto.state === 'cancelled') return; // cancelled by the user: said at once, whatever the work did after
      if ((e as Error)?.name === 'AbortError' || job.abort.signal.aborted) { this.markCancelled(job); return; }
      job.dto.state = 'failed';
      job.dto.error = { code: e instanceof ServiceError ? e.code : 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
    });
    this.queue = job.done;
    return this.snapshot(job);
  }

  private snapshot(j: Job): TrustJobDTO {
    return { ...j.dto, progress: { ...j.dto.progress } };
  }

  private job(id: string): Job {
    if (typeof id !== 'string' || !TRUST_ID_RE.test(id)) throw new ServiceError('BAD_REQUEST', `invalid trust job id '${String(id).slice(0, 80)}'`);
    const j = this.jobs.get(id);
    if (!j) throw new ServiceError('NOT_FOUND', `no trust job with id '${id}'`);
    return j;
  }

  /** forget the oldest finished jobs beyond KEEP */
  private trim(): void {
    const finished = [...this.jobs.values()].filter((j) => j.dto.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP))) this.jobs.delete(j.dto.id);
  }

  async get(id: string): Promise<TrustJobDTO> {
    return this.snapshot(this.job(id));
  }

  private markCancelled(j: Job): void {
    j.dto.state = 'cancelled';
    j.dto.progress = { ...j.dto.progress, stage: 'cancelled', elapsed: (Date.now() - j.started) / 1000 };
  }

  /**
   * Cancel answers at once: the job is 'cancelled' from this moment (a model-session build in flight finishes in the
   * background and its result is dropped; the next queued job waits for it).
   */
  async cancel(id: string): Promise<TrustJobDTO> {
    const j = this.job(id);
    if (j.dto.state === 'running') {
      j.abort.abort();
      this.markCancelled(j);
    }
    return this.snapshot(j);
  }

  async remove(id: string): Promise<void> {
    await this.cancel(id);
    this.jobs.delete(id);
  }

  /** wait until a job has finished (tests) */
  async settled(id: string): Promise<TrustJobDTO> {
    const j = this.job(id);
    await j.done;
    return this.snapshot(j);
  }

  private finished(id: string): Job {
    const j = this.job(id);
    if (j.dto.state !== 'done' || (!j.dto.sanity && !j.dto.faithfulness)) throw new ServiceError('NOT_FOUND', `trust job ${id} has no report yet (state: ${j.dto.state})`);
    return j;
  }

  reportJson(id: string): string {
    const j = this.finished(id);
    return JSON.stringify({ sanity: j.dto.sanity, faithfulness: j.dto.faithfulness }, null, 1) + '\n';
  }

  async reportHtml(id: string): Promise<string> {
    const j = this.finished(id);
    const { reportHtml } = await import('../engine/trust/index.js');
    return reportHtml({ sanity: j.dto.sanity ? [j.dto.sanity as SanityReport] : [], faithfulness: j.dto.faithfulness as FaithfulnessReport | null });
  }

  async closeAll(): Promise<void> {
    for (const j of this.jobs.values()) j.abort.abort();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.done));
  }
}

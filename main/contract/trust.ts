/**
 * Renderer <-> main contract for the trust tools (issue 10): run the model parameter randomization check and the
 * deletion / insertion curves on the patches of an open slide, as a background job with progress and cancel.
 * The reports are the engine's report.json objects (main/engine/trust/report.ts), mirrored here as types.
 */
import type { GeometryDTO } from './annotations.js';

export type TrustMethodDTO = 'gradcam' | 'hirescam' | 'gradcam++' | 'xgradcam' | 'layercam' | 'eigencam' | 'saliency' | 'edge';
export const TRUST_METHOD_DTOS: readonly TrustMethodDTO[] = ['gradcam', 'hirescam', 'gradcam++', 'xgradcam', 'layercam', 'eigencam', 'saliency', 'edge'];
export type TrustMode = 'cascading' | 'independent';

/** at most this many patches per check */
export const TRUST_MAX_PATCHES = 32;
/** a region check uses at most this many of the region's patches (sampled evenly, seeded, when more) */
export const TRUST_REGION_MAX_PATCHES = 16;
/** limits of a region: vertices over all rings, and the request body that carries it */
export const TRUST_REGION_LIMITS = { vertices: 20_000, rings: 1_000, bodyBytes: 1024 * 1024 } as const;

/** A region of the slide (an area annotation's geometry, level-0 px): the check runs on the patches of the
 * model's grid whose centres lie inside it (even-odd, holes excluded). */
export interface TrustRegionDTO {
  /** shown in the panel and the report's input names */
  name: string;
  geometry: Extract<GeometryDTO, { type: 'Polygon' | 'MultiPolygon' }>;
}

/** what the patches of a region check are */
export interface TrustRegionSummaryDTO {
  name: string;
  /** grid patches with their centre inside the region */
  inside: number;
  /** patches checked: min(inside, cap) */
  checked: number;
  cap: number;
  /** true when more than `cap` lay inside and `checked` were sampled evenly with the request's seed */
  sampled: boolean;
}

export interface TrustRunRequest {
  slideId: string;
  modelId: string;
  /** level-0 centres of the patches to check (the explain panel's patch: one point); or give `region` */
  points?: Array<{ x: number; y: number }>;
  /** the patches of the model's grid whose centres lie inside this region (at most TRUST_REGION_MAX_PATCHES) */
  region?: TrustRegionDTO;
  method: TrustMethodDTO;
  layer?: string;
  /** class explained (default: each patch's predicted class) */
  class?: string;
  mode?: TrustMode;
  seed?: number;
  /** also compute deletion / insertion curves (default true) */
  faithfulness?: boolean;
  /** curve points (default 20) */
  steps?: number;
}

/** one metric over the inputs */
export interface TrustMetricDTO { per_input: Array<number | null>; mean: number | null; std: number | null; min: number | null; max: number | null }
export type TrustMetricName = 'spearman' | 'spearman_abs' | 'ssim' | 'hog';
export type TrustLayerDTO = { name: string; params: number; tensors: number } & Record<TrustMetricName, TrustMetricDTO>;
export type TrustOutcome = 'depends' | 'partial' | 'does-not-depend' | 'undetermined';

/** report.json of `glassbox sanity` */
export interface SanityReportDTO {
  kind: 'glassbox-sanity'; version: 1; model: string; layer: string; method: string; mode: TrustMode; seed: number;
  block_depth: number | null; inputs: { count: number; names: string[] }; classes: Array<{ index: number; name: string | null }>;
  randomization: { family: string; batchnorm: string; description: string }; metrics: string;
  /** in the order randomized (logits first) */
  layers: TrustLayerDTO[];
  thresholds: { depends_below: number; survives_at_or_above: number }; outcome: TrustOutcome; verdict: string;
}

export interface TrustCurveDTO { mean: number[]; auc: TrustMetricDTO }

/** report.json of `glassbox faithfulness` */
export interface FaithfulnessReportDTO {
  kind: 'glassbox-faithfulness'; version: 1; model: string; seed: number;
  inputs: { count: number; names: string[] }; classes: Array<{ index: number; name: string | null }>;
  baseline: { kind: 'blur' | 'mean'; sigma_px: number | null; description: string }; steps: number; x: number[];
  methods: Array<{ method: string; layer: string; cells: [number, number]; deletion: TrustCurveDTO; insertion: TrustCurveDTO }>;
  verdict: string;
}

export type TrustStateDTO = 'running' | 'done' | 'cancelled' | 'failed';

export interface TrustJobDTO {
  id: string;
  state: TrustStateDTO;
  progress: { stage: string; done: number; total: number; elapsed: number };
  /** level-0 rects of the patches checked */
  patches: Array<{ x: number; y: number; w: number; h: number }>;
  /** the region they came from (null for points) */
  region: TrustRegionSummaryDTO | null;
  sanity: SanityReportDTO | null;
  faithfulness: FaithfulnessReportDTO | null;
  error: { code: string; message: string } | null;
}

export const TRUST_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

export const trustUrls = {
  /** POST TrustRunRequest → TrustJobDTO (202) */
  jobs: () => '/api/trust',
  /** GET status + reports; DELETE cancels and forgets */
  job: (id: string) => `/api/trust/${id}`,
  /** POST cancels (the job stays, state 'cancelled') */
  cancel: (id: string) => `/api/trust/${id}/cancel`,
  /** the reports as one JSON file ({sanity, faithfulness}), as a download */
  reportJson: (id: string) => `/api/trust/${id}/report.json`,
  /** self-contained HTML report with the charts, as a download */
  reportHtml: (id: string) => `/api/trust/${id}/report.html`,
} as const;

export interface TrustService {
  start(req: TrustRunRequest): Promise<TrustJobDTO>;
  get(id: string): Promise<TrustJobDTO>;
  cancel(id: string): Promise<TrustJobDTO>;
  remove(id: string): Promise<void>;
}

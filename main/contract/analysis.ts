/**
 * Renderer <-> main contract for models and whole-slide analyses. Pure TypeScript.
 * A heatmap travels as raw little-endian float32 (rows × cols, NaN where no patch was analysed), coloured in the
 * renderer so a colormap or range change needs no refetch. Geometry: cell [r, c] covers level-0 pixels
 * origin[0] + c·cellSize[0] … + (c+1)·cellSize[0], likewise for rows (see main/engine/analysis/types.ts).
 */

export type CamMethodDTO = 'gradcam' | 'hirescam' | 'gradcam++' | 'xgradcam' | 'layercam' | 'eigencam';
export const CAM_METHOD_DTOS: readonly CamMethodDTO[] = ['gradcam', 'hirescam', 'gradcam++', 'xgradcam', 'layercam', 'eigencam'];

export interface ModelLayerDTO {
  name: string;
  opType: string;
  channels: number;
  height: number;
  width: number;
  /** network stride (model input px per map cell) */
  stride: number;
  /** one map cell in µm at the model's µm/px (patch px per cell × µm/px) */
  cellUm: number;
  isDefault: boolean;
}

export interface ModelDTO {
  /** opaque id (never a path) */
  id: string;
  name: string;
  source: 'shipped' | 'user';
  classes: string[];
  spacingUmPx: number;
  patchSizePx: number;
  targetLayer: string | null;
  stride: number | null;
  description: string | null;
}

export interface ModelListDTO {
  models: ModelDTO[];
  /** packages that could not be loaded, each with its reason */
  invalid: Array<{ folder: string; reason: string }>;
}

export interface RectDTO { x: number; y: number; w: number; h: number }

export interface StartAnalysisRequest {
  slideId: string;
  modelId: string;
  /** class names, or 'all' */
  classes: string[] | 'all';
  method: CamMethodDTO;
  signed?: boolean;
  layer?: string;
  overlap?: number;
  minTissue?: number;
  /** level-0 region to analyse (default: whole slide) */
  region?: RectDTO;
  /** computed first (the current view) */
  priority?: RectDTO;
  batch?: number;
}

export type AnalysisStateDTO = 'running' | 'paused' | 'done' | 'cancelled' | 'failed';

export interface AnalysisDTO {
  id: string;
  slideId: string;
  modelId: string;
  state: AnalysisStateDTO;
  /** 'cache': a complete earlier result was reused */
  source: 'cache' | 'computed' | null;
  progress: { stage: string; done: number; total: number; rate: number; eta: number | null; elapsed: number };
  /** bumps whenever new cells are stitched: refetch the heatmap when it changes */
  revision: number;
  classes: string[];
  classIndices: number[];
  method: CamMethodDTO;
  signed: boolean;
  layer: string | null;
  provider: string | null;
  geometry: { origin: [number, number]; cellSize: [number, number]; shape: [number, number]; patchSize: [number, number]; cellsPerPatch: [number, number] } | null;
  /** the resolution report (slide and model µm/px, resampling, cell size, smallest resolvable structure), as in heatmap.json */
  resolution: {
    slide_mpp: { x: number; y: number; source: string };
    model_mpp: number;
    resample_factor: number;
    stride: number;
    cell_size_um: [number, number];
    smallest_resolvable_um: number;
  } | null;
  warnings: string[];
  error: { code: string; message: string } | null;
}

/** Explain one patch: the model's patch centred on a level-0 point, at full cell resolution. */
export interface ExplainPatchRequest {
  modelId: string;
  /** level-0 px of the point (the patch is centred on it) */
  x: number;
  y: number;
  /** the class to explain (default: the predicted one) */
  class?: string;
  method: CamMethodDTO;
  signed?: boolean;
  layer?: string;
}

export interface ExplainPatchDTO {
  /** level-0 rect the patch covers (may overhang the slide edge, read as background) */
  patch: RectDTO;
  /** the raw map, row-major mapShape[0] rows × mapShape[1] cols (never normalised; signed maps may be < 0) */
  map: number[];
  mapShape: [number, number];
  /** level-0 px per map cell [x, y] */
  cellSize: [number, number];
  /** one cell in µm (the model's µm/px × patch px per cell) */
  cellUm: number;
  classes: string[];
  /** softmax of the logits, one per class */
  probabilities: number[];
  predicted: string;
  /** the class the map explains */
  explained: string;
  method: CamMethodDTO;
  signed: boolean;
  layer: string;
  /** the slide level the patch was read at and the model input size */
  readLevel: number;
  patchSizePx: number;
}

export type AnalysisAction = 'pause' | 'resume' | 'cancel' | 'prioritize';

export interface AnalysisActionRequest {
  action: AnalysisAction;
  /** for 'prioritize' */
  roi?: RectDTO;
}

/** Analysis ids: opaque, URL-safe. */
export const ANALYSIS_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

export const analysisUrls = {
  models: () => '/api/models',
  modelLayers: (modelId: string) => `/api/models/${modelId}/layers`,
  analyses: () => '/api/analyses', // GET list; POST StartAnalysisRequest starts
  analysis: (id: string) => `/api/analyses/${id}`, // GET status; POST AnalysisActionRequest; DELETE cancels and forgets
  /** float32 LE rows × cols for class index k (the live partial map while running) */
  heatmap: (id: string, k: number) => `/api/analyses/${id}/heatmap/${k}.f32`,
  /** float32 LE rows × cols × classes */
  probabilities: (id: string) => `/api/analyses/${id}/probabilities.f32`,
  /** POST ExplainPatchRequest → ExplainPatchDTO (the patch image: urls.region with dto.patch) */
  explainPatch: (slideId: string) => `/api/slides/${slideId}/explain`,
} as const;

export interface AnalysisService {
  models(): Promise<ModelListDTO>;
  modelLayers(modelId: string): Promise<ModelLayerDTO[]>;
  start(req: StartAnalysisRequest): Promise<AnalysisDTO>;
  list(): Promise<AnalysisDTO[]>;
  get(id: string): Promise<AnalysisDTO>;
  act(id: string, req: AnalysisActionRequest): Promise<AnalysisDTO>;
  remove(id: string): Promise<void>;
  explainPatch(slideId: string, req: ExplainPatchRequest): Promise<ExplainPatchDTO>;
}

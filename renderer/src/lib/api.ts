/**
 * The renderer's only way to main: fetch() against the relative URLs of main/contract (same handler in
 * both hosts). Errors become ApiError with the server's {error:{code,message}} or a clear transport error.
 */
import { urls } from '../../../main/contract/slides.js';
import type { BrowseDTO, HostInfoDTO, RecentFileDTO, SlideInfoDTO } from '../../../main/contract/slides.js';
import { analysisUrls } from '../../../main/contract/analysis.js';
import type {
  AnalysisActionRequest, AnalysisDTO, ExplainPatchDTO, ExplainPatchRequest, ModelLayerDTO, ModelListDTO, StartAnalysisRequest,
} from '../../../main/contract/analysis.js';

export type ClientErrorCode = 'HOST_UNREACHABLE' | 'BAD_RESPONSE';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Parse an error envelope from a non-OK response body (pure; tested). */
export function errorFromBody(status: number, statusText: string, body: string): ApiError {
  try {
    const j = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (j && j.error && typeof j.error.message === 'string') {
      return new ApiError(typeof j.error.code === 'string' ? j.error.code : 'INTERNAL', j.error.message, status);
    }
  } catch {
    /* not JSON */
  }
  const text = body.trim().slice(0, 200);
  return new ApiError('BAD_RESPONSE', `HTTP ${status}${statusText ? ' ' + statusText : ''}${text ? ': ' + text : ''}`, status);
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export function createApi(fetchImpl: FetchLike = (i, init) => fetch(i, init)) {
  async function call<T>(url: string, init?: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetchImpl(url, init);
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e;
      throw new ApiError('HOST_UNREACHABLE', `Cannot reach the Glassbox host (${(e as Error)?.message ?? e}). Is it still running?`, 0);
    }
    const text = await res.text();
    if (!res.ok) throw errorFromBody(res.status, res.statusText, text);
    if (res.status === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('BAD_RESPONSE', `The host sent a response that is not JSON for ${url}`, res.status);
    }
  }
  /** raw little-endian float32 (heatmaps, probabilities) */
  async function f32(url: string): Promise<Float32Array> {
    let res: Response;
    try {
      res = await fetchImpl(url, { cache: 'no-store' });
    } catch (e) {
      throw new ApiError('HOST_UNREACHABLE', `Cannot reach the Glassbox host (${(e as Error)?.message ?? e}). Is it still running?`, 0);
    }
    if (!res.ok) throw errorFromBody(res.status, res.statusText, await res.text());
    const buf = await res.arrayBuffer();
    if (buf.byteLength % 4 !== 0) throw new ApiError('BAD_RESPONSE', `${url}: ${buf.byteLength} bytes is not a float32 array`, res.status);
    return new Float32Array(buf);
  }
  const json = (method: string, body: unknown): RequestInit => ({
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    hostInfo: () => call<HostInfoDTO>(urls.hostInfo()),
    open: (path: string) => call<SlideInfoDTO>(urls.slides(), json('POST', { path })),
    list: () => call<SlideInfoDTO[]>(urls.slides()),
    get: (id: string) => call<SlideInfoDTO>(urls.slide(id)),
    close: (id: string) => call<void>(urls.slide(id), { method: 'DELETE' }),
    setMpp: (id: string, mpp: { x: number; y: number } | null) => call<SlideInfoDTO>(urls.mpp(id), json('PUT', { mpp })),
    recent: () => call<RecentFileDTO[]>(urls.recent()),
    browse: (path?: string) => call<BrowseDTO>(urls.browse(path), { cache: 'no-store' }),
    models: () => call<ModelListDTO>(analysisUrls.models()),
    modelLayers: (modelId: string) => call<ModelLayerDTO[]>(analysisUrls.modelLayers(modelId)),
    startAnalysis: (req: StartAnalysisRequest) => call<AnalysisDTO>(analysisUrls.analyses(), json('POST', req)),
    analyses: () => call<AnalysisDTO[]>(analysisUrls.analyses()),
    analysis: (id: string) => call<AnalysisDTO>(analysisUrls.analysis(id), { cache: 'no-store' }),
    actOnAnalysis: (id: string, req: AnalysisActionRequest) => call<AnalysisDTO>(analysisUrls.analysis(id), json('POST', req)),
    heatmap: (id: string, k: number) => f32(analysisUrls.heatmap(id, k)),
    probabilities: (id: string) => f32(analysisUrls.probabilities(id)),
    explainPatch: (slideId: string, req: ExplainPatchRequest) => call<ExplainPatchDTO>(analysisUrls.explainPatch(slideId), json('POST', req)),
  };
}

export type Api = ReturnType<typeof createApi>;

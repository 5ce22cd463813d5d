/** The annotation routes (main/contract/annotations.ts) over fetch; errors as the app's ApiError. */
import { annotationUrls } from '../../../../main/contract/annotations.js';
import type {
  AnnotationFormatDTO, AnnotationImportFormatDTO, AnnotationSetDTO, DeleteAnnotationsRequest, ImportAnnotationsResponse, MeasureRequest, MeasureResponse,
  PutAnnotationsRequest, RegionsFromHeatmapRequest, RegionsFromHeatmapResponse, SetClassesRequest,
} from '../../../../main/contract/annotations.js';
import { ApiError, errorFromBody } from '../api.js';

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-store', ...init });
  } catch (e) {
    throw new ApiError('HOST_UNREACHABLE', `Cannot reach the Glassbox host (${(e as Error)?.message ?? e}). Is it still running?`, 0);
  }
  const text = await res.text();
  if (!res.ok) throw errorFromBody(res.status, res.statusText, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError('BAD_RESPONSE', `The host sent a response that is not JSON for ${url}`, res.status);
  }
}

const body = (method: string, b: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });

export const annotationApi = {
  get: (slideId: string) => call<AnnotationSetDTO>(annotationUrls.set(slideId)),
  put: (slideId: string, req: PutAnnotationsRequest) => call<AnnotationSetDTO>(annotationUrls.set(slideId), body('POST', req)),
  remove: (slideId: string, req: DeleteAnnotationsRequest) => call<AnnotationSetDTO>(annotationUrls.remove(slideId), body('POST', req)),
  setClasses: (slideId: string, req: SetClassesRequest) => call<AnnotationSetDTO>(annotationUrls.classes(slideId), body('PUT', req)),
  measure: (slideId: string, req: MeasureRequest) => call<MeasureResponse>(annotationUrls.measure(slideId), body('POST', req)),
  regions: (slideId: string, req: RegionsFromHeatmapRequest) => call<RegionsFromHeatmapResponse>(annotationUrls.regions(slideId), body('POST', req)),
  importText: (slideId: string, format: AnnotationImportFormatDTO, text: string, name?: string) =>
    call<ImportAnnotationsResponse>(annotationUrls.import(slideId, format) + (name ? `?name=${encodeURIComponent(name.slice(0, 255))}` : ''), {
      method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text,
    }),
  exportUrl: (slideId: string, format: AnnotationFormatDTO, ids?: string[]) => annotationUrls.export(slideId, format, ids),
};

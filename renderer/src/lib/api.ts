/**
 * The renderer's only way to main: fetch() against the relative URLs of main/contract (same handler in
 * both hosts). Errors become ApiError with the server's {error:{code,message}} or a clear transport error.
 */
import { urls } from '../../../main/contract/slides.js';
import type { HostInfoDTO, RecentFileDTO, SlideInfoDTO } from '../../../main/contract/slides.js';

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
  };
}

export type Api = ReturnType<typeof createApi>;

/** Response helpers shared by the API and static routes (fetch API only: no Node http types). */
import type { ErrorCode } from '../contract/slides.js';
import { ERROR_STATUS } from '../contract/slides.js';
import { toErrorDTO } from '../services/errors.js';

import { APP_CSP } from '../contract/bridge.js';

/** the app's CSP (one definition in main/contract/bridge.ts, shared with the Electron host) */
export const CSP = APP_CSP;

export const IMMUTABLE = 'private, max-age=31536000, immutable';

const COMMON = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };

export function json(body: unknown, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...COMMON, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra },
  });
}

export function bytes(data: Uint8Array, contentType: string, cacheControl = IMMUTABLE, extra: Record<string, string> = {}): Response {
  return new Response(data as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { ...COMMON, 'Content-Type': contentType, 'Content-Length': String(data.byteLength), 'Cache-Control': cacheControl, ...extra },
  });
}

export function text(body: string, contentType: string, cacheControl = 'no-store', extra: Record<string, string> = {}): Response {
  return new Response(body, { status: 200, headers: { ...COMMON, 'Content-Type': contentType, 'Cache-Control': cacheControl, ...extra } });
}

export function noContent(): Response {
  return new Response(null, { status: 204, headers: { ...COMMON, 'Cache-Control': 'no-store' } });
}

export function error(code: ErrorCode, message: string, status = ERROR_STATUS[code], extra: Record<string, string> = {}): Response {
  return json({ error: { code, message } }, status, extra);
}

export function fromException(e: unknown): Response {
  const { status, body } = toErrorDTO(e);
  return json(body, status);
}

export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = ERROR_STATUS[code],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

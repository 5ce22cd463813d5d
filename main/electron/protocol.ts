/**
 * glassbox://app/… : wraps the SAME fetch-style handler the HTTP host serves (main/transport createHandler)
 * for Electron's protocol.handle. Serves only the app origin, adds security headers to every response,
 * turns a thrown error into the contract's JSON error envelope, and tells the caller about API calls
 * that change the recent-files list (to rebuild the Open Recent menu).
 */
import { APP_ORIGIN } from '../contract/bridge.js';
import { APP_CSP, isAppUrl } from './security.js';

export type FetchHandler = (req: Request) => Promise<Response>;

export interface ProtocolOptions {
  csp?: string;
  /** called after a successful POST /api/slides (a slide was opened → recent list changed) */
  onSlideOpened?: () => void;
}

function errorResponse(status: number, code: string, message: string, csp: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    },
  });
}

export function createProtocolHandler(handler: FetchHandler, opts: ProtocolOptions = {}): FetchHandler {
  const csp = opts.csp ?? APP_CSP;
  return async (req: Request): Promise<Response> => {
    if (!isAppUrl(req.url)) {
      return errorResponse(404, 'NOT_FOUND', `only ${APP_ORIGIN}/ is served, not ${req.url}`, csp);
    }
    let res: Response;
    try {
      res = await handler(req);
    } catch (e) {
      return errorResponse(500, 'INTERNAL', `request failed: ${(e as Error)?.message ?? String(e)}`, csp);
    }
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    if (res.ok && req.method === 'POST' && new URL(req.url).pathname === '/api/slides') opts.onSlideOpened?.();
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}

/** protocol.registerSchemesAsPrivileged entry for the app scheme (before app ready) */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  stream: true,
  corsEnabled: false,
  bypassCSP: false,
  allowServiceWorkers: false,
  codeCache: true,
} as const;

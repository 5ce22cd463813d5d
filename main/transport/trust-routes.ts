/** /api/trust/* routes (main/contract/trust.ts): start, poll, cancel a trust check; download its reports. */
import type { TrustHostService } from '../services/trust-service.js';
import { TRUST_REGION_LIMITS } from '../contract/trust.js';
import { json, noContent, text } from './respond.js';
import { parse, readJson } from './validate.js';
import { trustId, trustRunBody } from './trust-validate.js';

interface Ctx { req: Request; m: RegExpMatchArray }
type Handler = (c: Ctx) => Promise<Response>;
export interface TrustRoute { re: RegExp; methods: Partial<Record<'GET' | 'POST' | 'DELETE', Handler>> }

const ID = '([^/]+)';
const download = (name: string) => ({ 'Content-Disposition': `attachment; filename="${name}"` });

export function trustRoutes(svc: TrustHostService | undefined): TrustRoute[] {
  if (!svc) return [];
  const id = (c: Ctx) => parse(trustId, c.m[1], 'trust job id');
  return [
    { re: /^\/api\/trust$/, methods: { POST: async (c) => json(await svc.start(parse(trustRunBody, await readJson(c.req, TRUST_REGION_LIMITS.bodyBytes), 'trust')), 202) } },
    { re: new RegExp(`^/api/trust/${ID}/cancel$`), methods: { POST: async (c) => json(await svc.cancel(id(c))) } },
    {
      re: new RegExp(`^/api/trust/${ID}/report\\.json$`),
      methods: { GET: async (c) => text(svc.reportJson(id(c)), 'application/json; charset=utf-8', 'no-store', download('report.json')) },
    },
    {
      re: new RegExp(`^/api/trust/${ID}/report\\.html$`),
      // a static document: no scripts run in it, even opened from the app's origin
      methods: { GET: async (c) => text(await svc.reportHtml(id(c)), 'text/html; charset=utf-8', 'no-store', { ...download('trust-report.html'), 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:" }) },
    },
    {
      re: new RegExp(`^/api/trust/${ID}$`),
      methods: {
        GET: async (c) => json(await svc.get(id(c))),
        DELETE: async (c) => { await svc.remove(id(c)); return noContent(); },
      },
    },
  ];
}

/**
 * The ONE fetch-style handler behind both hosts (Electron protocol.handle and app/server):
 * the /api/* URL space of main/contract/slides.ts plus, optionally, static renderer files.
 */
import type { AnalysisHostService, SlideHostService } from '../services/host.js';
import type { AnnotationService } from '../contract/annotations.js';
import { annotationRoutes } from './annotation-routes.js';
import { trustRoutes } from './trust-routes.js';
import type { TrustHostService } from '../services/trust-service.js';
import { HttpError, bytes, error, fromException, json, noContent, text } from './respond.js';
import { serveStatic } from './static.js';
import {
  analysisActionBody, analysisId, associatedName, browseQuery, explainPatchBody, index, modelId, mppBody, openBody, parse, readJson, regionQuery, slideId,
  startAnalysisBody,
} from './validate.js';

export interface HandlerDeps {
  service: SlideHostService;
  /** models and whole-slide analyses; undefined: those routes answer 404 */
  analysis?: AnalysisHostService;
  /** per-slide annotations; undefined: those routes answer 404 */
  annotations?: AnnotationService;
  /** trust checks (main/contract/trust.ts); undefined: those routes answer 404 */
  trust?: TrustHostService;
  /** built renderer (dist/renderer); undefined serves the API alone */
  staticDir?: string;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Ctx {
  req: Request;
  url: URL;
  m: RegExpMatchArray;
  signal: AbortSignal;
}
interface Route {
  re: RegExp;
  methods: Partial<Record<Method, (c: Ctx) => Promise<Response>>>;
}

const SEG = '([^/]+)';

export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const svc = deps.service;
  const id = (c: Ctx) => parse(slideId, c.m[1], 'slide id');
  const ints = (c: Ctx, from: number, names: string[]) => names.map((n, i) => parse(index, c.m[from + i], n));

  const routes: Route[] = [
    { re: /^\/api\/host$/, methods: { GET: async () => json(await svc.hostInfo()) } },
    { re: /^\/api\/recent$/, methods: { GET: async () => json(await svc.recent()) } },
    { re: /^\/api\/browse$/, methods: { GET: async (c) => json(await svc.browse(parse(browseQuery, Object.fromEntries(c.url.searchParams), 'browse').path)) } },
    {
      re: /^\/api\/slides$/,
      methods: {
        GET: async () => json(await svc.list()),
        POST: async (c) => json(await svc.open(parse(openBody, await readJson(c.req), 'open'))),
      },
    },
    {
      re: new RegExp(`^/api/slides/${SEG}\\.dzi$`),
      methods: { GET: async (c) => text(await svc.dziXml(id(c)), 'application/xml; charset=utf-8', 'no-cache') },
    },
    {
      re: new RegExp(`^/api/slides/([^/]+)_files/${SEG}/${SEG}_${SEG}\\.([A-Za-z0-9]+)$`),
      methods: {
        GET: async (c) => {
          const sid = id(c);
          const [level, col, row] = ints(c, 2, ['level', 'col', 'row']);
          if (c.m[5] !== 'jpeg' && c.m[5] !== 'jpg') throw new HttpError('NOT_FOUND', `tile format '${c.m[5]}' is not served (jpeg only)`);
          return bytes(await svc.dziTile(sid, level, col, row, c.signal), 'image/jpeg');
        },
      },
    },
    {
      re: new RegExp(`^/api/slides/${SEG}/levels/${SEG}/${SEG}_${SEG}\\.jpeg$`),
      methods: {
        GET: async (c) => {
          const sid = id(c);
          const [level, col, row] = ints(c, 2, ['level', 'col', 'row']);
          return bytes(await svc.nativeTile(sid, level, col, row, c.signal), 'image/jpeg');
        },
      },
    },
    {
      re: new RegExp(`^/api/slides/${SEG}/associated/${SEG}\\.jpeg$`),
      methods: {
        GET: async (c) => {
          const sid = id(c);
          let raw: string;
          try {
            raw = decodeURIComponent(c.m[2]);
          } catch {
            throw new HttpError('BAD_REQUEST', 'associated image name: malformed percent-encoding');
          }
          const name = parse(associatedName, raw, 'associated image name');
          return bytes(await svc.associated(sid, name, c.signal), 'image/jpeg');
        },
      },
    },
    {
      re: new RegExp(`^/api/slides/${SEG}/region\\.png$`),
      methods: {
        GET: async (c) => {
          const sid = id(c);
          const q = parse(regionQuery, Object.fromEntries(c.url.searchParams), 'region');
          const png = await svc.regionPng(sid, q, c.signal);
          return bytes(png, 'image/png');
        },
      },
    },
    {
      re: new RegExp(`^/api/slides/${SEG}/mpp$`),
      methods: { PUT: async (c) => json(await svc.setMpp(id(c), parse(mppBody, await readJson(c.req), 'mpp'))) },
    },
    {
      re: new RegExp(`^/api/slides/${SEG}$`),
      methods: {
        GET: async (c) => json(await svc.get(id(c))),
        DELETE: async (c) => {
          await svc.close(id(c));
          return noContent();
        },
      },
    },
    ...analysisRoutes(deps.analysis),
    ...trustRoutes(deps.trust),
    ...annotationRoutes(deps.annotations),
  ];

  return async function handle(req: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return error('BAD_REQUEST', 'malformed URL');
    }
    const method = req.method.toUpperCase();
    const head = method === 'HEAD';
    try {
      const path = url.pathname;
      if (path === '/api' || path.startsWith('/api/')) {
        for (const r of routes) {
          const m = path.match(r.re);
          if (!m) continue;
          const fn = r.methods[(head ? 'GET' : method) as Method];
          if (!fn) {
            const allow = Object.keys(r.methods).join(', ');
            throw new HttpError('BAD_REQUEST', `method ${method} is not allowed on ${path} (allowed: ${allow})`, 405, { Allow: allow });
          }
          const res = await fn({ req, url, m, signal: req.signal });
          return head ? new Response(null, { status: res.status, headers: res.headers }) : res;
        }
        throw new HttpError('NOT_FOUND', `no such API route: ${method} ${path}`);
      }
      if (!deps.staticDir) throw new HttpError('NOT_FOUND', `not found: ${path} (no renderer build is served)`);
      if (method !== 'GET' && !head) throw new HttpError('BAD_REQUEST', `method ${method} is not allowed on static files`, 405, { Allow: 'GET, HEAD' });
      const res = await serveStatic(deps.staticDir, path);
      return head ? new Response(null, { status: res.status, headers: res.headers }) : res;
    } catch (e) {
      if (e instanceof HttpError) return error(e.code, e.message, e.status, e.headers);
      return fromException(e);
    }
  };
}

function analysisRoutes(svc: AnalysisHostService | undefined): Route[] {
  if (!svc) return [];
  const aid = (c: Ctx) => parse(analysisId, c.m[1], 'analysis id');
  const f32 = (a: Float32Array) => bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), 'application/octet-stream', 'no-store');
  return [
    { re: /^\/api\/models$/, methods: { GET: async () => json(await svc.models()) } },
    {
      re: new RegExp(`^/api/slides/${SEG}/explain$`),
      methods: { POST: async (c) => json(await svc.explainPatch(parse(slideId, c.m[1], 'slide id'), parse(explainPatchBody, await readJson(c.req), 'explain'))) },
    },
    { re: new RegExp(`^/api/models/${SEG}/layers$`), methods: { GET: async (c) => json(await svc.modelLayers(parse(modelId, c.m[1], 'model id'))) } },
    {
      re: /^\/api\/analyses$/,
      methods: {
        GET: async () => json(await svc.list()),
        POST: async (c) => json(await svc.start(parse(startAnalysisBody, await readJson(c.req), 'analysis')), 202),
      },
    },
    {
      re: new RegExp(`^/api/analyses/${SEG}/heatmap/${SEG}\\.f32$`),
      methods: { GET: async (c) => f32(svc.heatmap(aid(c), parse(index, c.m[2], 'class index'))) },
    },
    { re: new RegExp(`^/api/analyses/${SEG}/probabilities\\.f32$`), methods: { GET: async (c) => f32(svc.probabilities(aid(c))) } },
    {
      re: new RegExp(`^/api/analyses/${SEG}$`),
      methods: {
        GET: async (c) => json(await svc.get(aid(c))),
        POST: async (c) => json(await svc.act(aid(c), parse(analysisActionBody, await readJson(c.req), 'action'))),
        DELETE: async (c) => {
          await svc.remove(aid(c));
          return noContent();
        },
      },
    },
  ];
}

/**
 * Plain node:http host: IncomingMessage -> fetch Request (AbortSignal fires when the client goes away)
 * -> the shared handler -> streamed Response. Binds 127.0.0.1 unless told otherwise.
 */
import { rejectForeignRequest } from './guard.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AnalysisServiceImpl, AnnotationServiceImpl, SlideServiceImpl, type AnalysisServiceDeps, type SlideServiceDeps } from '../../main/services/index.js';
import { join } from 'node:path';
import { TrustServiceImpl } from '../../main/services/index.js';
import { createHandler } from '../../main/transport/index.js';
import { VERSION } from '../cli/version.js';

export interface StartServerOptions {
  port?: number;
  host?: string;
  /** renderer build to serve (dist/renderer); omitted: API only */
  staticDir?: string;
  /** absolute paths opened at start (all of them; the viewer offers each) */
  slides?: string[];
  /** folders the viewer's Open dialog may browse (`glassbox serve --root DIR`), absolute */
  roots?: string[];
  configDir?: string;
  /** where annotations are stored (default: configDir/annotations; without either, a temporary folder) */
  annotationsDir?: string;
  /** overrides for the slide service (tests inject openSlide, tile options …) */
  service?: Partial<SlideServiceDeps>;
  /** model packages offered to the viewer (default: the shipped models/ folder) and the analysis result cache */
  analysis?: Partial<Omit<AnalysisServiceDeps, 'slides'>>;
  /** prints the URL (default: console.log) */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  service: SlideServiceImpl;
  analysis: AnalysisServiceImpl;
  annotations: AnnotationServiceImpl;
  url: string;
  host: string;
  port: number;
  /** ids of the slides opened at start, in order */
  opened: string[];
  close(): Promise<void>;
}

/** annotation imports are up to 32 MiB (ANNOTATION_LIMITS.importBytes) */
const MAX_BODY = 33 * 1024 * 1024;
/** the shipped model packages (repo/models) */
export const SHIPPED_MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal, body: Buffer | null): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k.startsWith(':')) continue;
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else headers.set(k, v);
  }
  const raw = req.url ?? '/';
  // origin + path (never `new URL(path, origin)`: a path like //evil.example would become a host)
  let path = raw;
  if (!raw.startsWith('/')) {
    try {
      const abs = new URL(raw); // absolute-form request target: keep only its path and query
      path = abs.pathname + abs.search;
    } catch {
      path = '/' + raw;
    }
  }
  const url = new URL(origin + path);
  return new Request(url, {
    method: req.method,
    headers,
    body: body && body.length ? new Uint8Array(body) : undefined,
    signal,
  });
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', () => r()).once('close', () => r()));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const service = new SlideServiceImpl({ host: 'http', version: VERSION, configDir: opts.configDir, browseRoots: opts.roots, ...opts.service });
  const opened: string[] = [];
  for (const p of opts.slides ?? []) opened.push((await service.open({ path: p })).id);
  const analysis = new AnalysisServiceImpl({
    slides: service, version: service.version, modelRoots: [{ dir: SHIPPED_MODELS, source: 'shipped' }], ...opts.analysis,
  });
  const trust = new TrustServiceImpl({ slides: service, model: (id) => analysis.model(id) });
  const annotations = new AnnotationServiceImpl({ slides: service, analysis, dataDir: opts.annotationsDir ?? (opts.configDir ? join(opts.configDir, 'annotations') : undefined) });
  const handler = createHandler({ service, analysis, trust, annotations, staticDir: opts.staticDir });
  let origin = '';
  let boundAddress = host;
  let boundPort = 0;

  const server = createServer((req, res) => {
    const ctrl = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ctrl.abort();
    });
    const refused = rejectForeignRequest(req.method ?? 'GET', req.headers, { boundAddress: boundAddress, port: boundPort });
    if (refused) {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: { code: 'FORBIDDEN', message: refused } }));
      return;
    }
    (async () => {
      let body: Buffer | null;
      try {
        body = await readBody(req);
      } catch {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(413, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: { code: 'LIMIT', message: `request body larger than ${MAX_BODY} bytes` } }));
        }
        return;
      }
      const response = await handler(toRequest(req, origin, ctrl.signal, body));
      if (ctrl.signal.aborted || res.destroyed) return;
      await send(res, response);
    })().catch((e) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'INTERNAL', message: `internal error: ${(e as Error).message}` } }));
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  origin = `http://${urlHost}:${addr.port}`;
  boundAddress = addr.address;
  boundPort = addr.port;
  (opts.log ?? console.log)(`glassbox: serving on ${origin}/`);
  return {
    server,
    service,
    analysis,
    annotations,
    url: origin,
    host: addr.address,
    port: addr.port,
    opened,
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await trust.closeAll();
      await analysis.closeAll();
      await annotations.close();
      await service.closeAll();
    },
  };
}

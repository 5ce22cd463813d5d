/**
 * The three transports the contract tests run over: (a) the fetch handler called directly with Request
 * objects, (b) real HTTP against app/server's startServer on 127.0.0.1, port 0, (c) the Electron host
 * (createElectronHost + its glassbox:// protocol wrapper) with requests to glassbox://app/api/...,
 * its allow-list granting the paths the tests open (as the open dialog / drag-and-drop would).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnalysisServiceImpl, AnnotationServiceImpl, SlideServiceImpl, type SlideServiceDeps } from '../../main/services/index.js';
import { createHandler, CSP } from '../../main/transport/index.js';
import { APP_CSP } from '../../main/electron/security.js';
import { startServer } from '../../app/server/index.js';
import { VERSION } from '../../app/cli/version.js';
import { createElectronHost } from '../../main/electron/compose.js';
import { GrantedPaths } from '../../main/electron/granted-paths.js';

export interface Transport {
  name: string;
  /** what /api/host reports */
  host: 'http' | 'electron';
  /** the Content-Security-Policy on index.html */
  csp: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  service: SlideServiceImpl;
  analysis: AnalysisServiceImpl;
  /** where the server listens (http only) */
  address?: { host: string; port: number; url: string };
  tmp: string;
  staticDir: string;
  configDir: string;
  close(): Promise<void>;
}

/** a temp dir with static/ (index.html, app.js, a symlink pointing outside) and a secret file beside static/ */
function makeDirs() {
  const tmp = mkdtempSync(join(tmpdir(), 'gbx-contract-'));
  const staticDir = join(tmp, 'static');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>glassbox</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log("glassbox")');
  writeFileSync(join(tmp, 'secret.txt'), 'TOP-SECRET');
  symlinkSync(join(tmp, 'secret.txt'), join(staticDir, 'link.txt'));
  return { tmp, staticDir, configDir: join(tmp, 'config') };
}

/** where the analysis service finds model packages (a folder of package folders); none by default */
export interface AnalysisOpts { modelsDir?: string }
const roots = (a: AnalysisOpts) => (a.modelsDir ? [{ dir: a.modelsDir, source: 'shipped' as const }] : []);

export async function directTransport(service: Partial<SlideServiceDeps> = {}, a: AnalysisOpts = {}): Promise<Transport> {
  const d = makeDirs();
  const svc = new SlideServiceImpl({ host: 'http', version: VERSION, configDir: d.configDir, ...service });
  const analysis = new AnalysisServiceImpl({ slides: svc, version: VERSION, modelRoots: roots(a), cache: null });
  const annotations = new AnnotationServiceImpl({ slides: svc, analysis, dataDir: join(d.configDir, 'annotations') });
  const handler = createHandler({ service: svc, analysis, annotations, staticDir: d.staticDir });
  return {
    name: 'direct handler',
    host: 'http',
    csp: CSP,
    ...d,
    service: svc,
    analysis,
    fetch: (path, init) => handler(new Request(`http://glassbox.test${path}`, init)),
    async close() {
      await analysis.closeAll();
      await annotations.close();
      await svc.closeAll();
      rmSync(d.tmp, { recursive: true, force: true });
    },
  };
}

export async function httpTransport(service: Partial<SlideServiceDeps> = {}, a: AnalysisOpts = {}): Promise<Transport> {
  const d = makeDirs();
  const srv = await startServer({ port: 0, staticDir: d.staticDir, configDir: d.configDir, service, log: () => {}, analysis: { modelRoots: roots(a), cache: null } });
  return {
    name: 'HTTP on 127.0.0.1',
    host: 'http',
    csp: CSP,
    ...d,
    service: srv.service,
    analysis: srv.analysis,
    address: { host: srv.host, port: srv.port, url: srv.url },
    fetch: (path, init) => fetch(srv.url + path, init),
    async close() {
      await srv.close();
      rmSync(d.tmp, { recursive: true, force: true });
    },
  };
}

/**
 * `grant` (default: every path is granted at open time, as the user picking it would) decides which paths the
 * allow-list holds; pass a GrantedPaths to control it.
 */
export async function electronTransport(opts: { granted?: GrantedPaths } & AnalysisOpts = {}): Promise<Transport & { granted: GrantedPaths }> {
  const d = makeDirs();
  const granted = opts.granted ?? new GrantedPaths();
  const autoGrant = !opts.granted;
  const host = createElectronHost({ configDir: d.configDir, staticDir: d.staticDir, version: VERSION, granted, modelsDir: opts.modelsDir, analysisCache: null });
  return {
    name: 'Electron glassbox://app protocol',
    host: 'electron',
    csp: APP_CSP,
    ...d,
    service: host.service,
    analysis: host.analysis,
    granted,
    async fetch(path, init) {
      // the user "chooses" the file the test opens (open dialog / drop): grant it, as main does before the POST
      if (autoGrant && init?.method === 'POST' && path === '/api/slides' && typeof init.body === 'string') {
        try {
          const p = (JSON.parse(init.body) as { path?: unknown }).path;
          if (typeof p === 'string') granted.add(p);
        } catch {
          /* malformed body: the handler reports it */
        }
      }
      return host.handle(new Request(`glassbox://app${path}`, init));
    },
    async close() {
      await host.analysis.closeAll();
      await host.service.closeAll();
      rmSync(d.tmp, { recursive: true, force: true });
    },
  };
}

export const TRANSPORTS = [directTransport, httpTransport, electronTransport];

/**
 * The Electron bundles: built with scripts/build-electron.mjs, then
 * - dist/electron/main.js RUN under plain Node with a fake 'electron' module (the real binary cannot be
 *   downloaded here): lifecycle calls, window options, protocol handler serving the renderer and the API,
 *   IPC sender check, permission denial;
 * - dist/electron/preload.cjs evaluated with a fake require: exposes exactly the GlassboxBridge;
 * - electron-builder.yml parses and names what packaging needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { IPC_CHANNELS } from '../../main/contract/bridge.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { ensureRendererBuilt } from '../e2e/support.js';
import { writeProbePackage } from '../analysis/probe.js';

const DIST = join(REPO_ROOT, 'dist', 'electron');

test('scripts/build-electron.mjs bundles main (ESM) and preload (one CJS file requiring only electron)', () => {
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build-electron.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
  // the workers main.js starts are found beside it (decode-pool.ts codecWorkerUrl, ort-thread.ts ortWorkerUrl)
  for (const f of ['codec-worker.mjs', 'ort-worker.mjs']) assert.ok(existsSync(join(DIST, f)), `${f} beside main.js`);
  const pre = readFileSync(join(DIST, 'preload.cjs'), 'utf8');
  const requires = [...pre.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(requires)], ['electron']);
  assert.ok(!/\bimport\s/.test(pre.replace(/\/\/.*$/gm, '')), 'preload has no ESM imports');
  const main = readFileSync(join(DIST, 'main.js'), 'utf8');
  const imports = [...main.matchAll(/^import .* from "([^"]+)";?$/gm)].map((m) => m[1]);
  assert.ok(imports.includes('electron'));
  for (const spec of imports) assert.ok(!spec.startsWith('.'), `main.js is self-contained apart from packages: ${spec}`);
  assert.ok(!main.includes('node_modules/sharp/lib'), 'sharp stays external');
});

test('preload exposes exactly the GlassboxBridge on window.glassbox, on fixed channels', async () => {
  const code = readFileSync(join(DIST, 'preload.cjs'), 'utf8');
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const listeners: [string, (...a: unknown[]) => void][] = [];
  const removed: string[] = [];
  const syncSent: unknown[][] = [];
  const fake = {
    contextBridge: { exposeInMainWorld: (k: string, v: unknown) => void (exposed[k] = v) },
    ipcRenderer: {
      invoke: async (...a: unknown[]) => (invoked.push(a), a[0] === IPC_CHANNELS.addModelFolder ? { ok: false, error: 'no config.json' } : '/picked/a.svs'),
      sendSync: (...a: unknown[]) => (syncSent.push(a), true),
      on: (c: string, l: (...a: unknown[]) => void) => void listeners.push([c, l]),
      removeListener: (c: string) => void removed.push(c),
    },
    webUtils: { getPathForFile: (f: { name: string }) => (f.name ? `/abs/${f.name}` : '') },
  };
  const req = (m: string) => {
    if (m !== 'electron') throw new Error(`preload required ${m}`);
    return fake;
  };
  const mod = { exports: {} };
  new Function('require', 'module', 'exports', code)(req, mod, mod.exports);
  assert.deepEqual(Object.keys(exposed), ['glassbox']);
  const b = exposed.glassbox as { showOpenDialog(): Promise<string | null>; pathForFile(f: unknown): string; onMenu(l: (c: string) => void): () => void; addModelFolder(): Promise<unknown> };
  assert.deepEqual(Object.keys(b).sort(), ['addModelFolder', 'exportAnnotations', 'importAnnotations', 'onMenu', 'pathForFile', 'showOpenDialog']);
  assert.equal(await b.showOpenDialog(), '/picked/a.svs');
  assert.deepEqual(await b.addModelFolder(), { ok: false, error: 'no config.json' });
  assert.deepEqual(invoked, [[IPC_CHANNELS.showOpenDialog], [IPC_CHANNELS.addModelFolder]], 'no arguments go to main: it shows the dialog itself');
  assert.equal(b.pathForFile({ name: 'x.svs' }), '/abs/x.svs');
  assert.deepEqual(syncSent, [[IPC_CHANNELS.droppedPath, '/abs/x.svs']], 'a dropped real file is reported to main on the fixed channel');
  assert.equal(b.pathForFile({ name: '' }), '');
  assert.equal(syncSent.length, 1, 'a File without a path grants nothing');
  const got: string[] = [];
  const off = b.onMenu((c) => got.push(c));
  assert.equal(listeners.length, 1);
  assert.equal(listeners[0][0], IPC_CHANNELS.menu);
  listeners[0][1]({}, 'zoom-in');
  listeners[0][1]({}, { not: 'a string' });
  assert.deepEqual(got, ['zoom-in']);
  off();
  assert.deepEqual(removed, [IPC_CHANNELS.menu]);
});

test('dist/electron/main.js runs with a fake electron: window, protocol, IPC, permissions', { timeout: 60_000 }, () => {
  assert.ok(existsSync(join(DIST, 'main.js')), 'main.js built by the first test');
  ensureRendererBuilt(); // the protocol serves dist/renderer
  const userData = mkdtempSync(join(tmpdir(), 'glassbox-electron-'));
  const modelDir = writeProbePackage(join(userData, 'my-probe'), { patch: 64, stride: 8, spacing: 1 });
  try {
    const r = spawnSync(process.execPath, ['--import', join(REPO_ROOT, 'test/electron/fake-electron-register.mjs'), join(DIST, 'main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, GLASSBOX_FAKE_USERDATA: userData, GLASSBOX_FAKE_MODEL_DIR: modelDir },
      encoding: 'utf8',
      timeout: 50_000,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '));
    assert.ok(line, `main.js produced a report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    const rep = JSON.parse(line.slice(7));
    const order = rep.calls as string[];
    assert.ok(order.indexOf('registerSchemesAsPrivileged') < order.indexOf('protocol.handle'), 'scheme registered before ready');
    assert.ok(order.includes('requestSingleInstanceLock'));
    assert.deepEqual(rep.schemes[0].scheme, 'glassbox');
    assert.equal(rep.schemes[0].privileges.standard, true);
    assert.equal(rep.schemes[0].privileges.secure, true);
    assert.equal(rep.schemes[0].privileges.supportFetchAPI, true);
    assert.equal(rep.schemes[0].privileges.stream, true);
    const wp = rep.window.webPreferences;
    assert.deepEqual([wp.contextIsolation, wp.sandbox, wp.nodeIntegration, wp.webSecurity], [true, true, false, true]);
    assert.equal(wp.preload, join(DIST, 'preload.cjs'));
    assert.equal(rep.loadURL, 'glassbox://app/index.html');
    assert.deepEqual(rep.windowOpen, { action: 'deny' });
    assert.deepEqual(rep.menu[0], ['&File', '&Edit', '&View', '&Help']);
    // the same handler as the HTTP host, on the app origin
    assert.equal(rep.index.status, 200, JSON.stringify(rep.index));
    assert.match(rep.index.type, /text\/html/);
    assert.match(rep.index.body, /<div id="app">/);
    assert.match(rep.index.csp, /script-src 'self'/);
    assert.equal(rep.host.status, 200);
    assert.deepEqual(JSON.parse(rep.host.body).host, 'electron');
    assert.equal(rep.foreign.status, 404);
    assert.ok(rep.badOpen.status >= 400 && rep.badOpen.status < 500, JSON.stringify(rep.badOpen));
    assert.match(JSON.parse(rep.badOpen.body).error.message, /nonexistent/);
    // only paths the user chose open: an arbitrary path is refused before it reaches the engine
    assert.equal(rep.badOpen.status, 403, JSON.stringify(rep.badOpen));
    assert.equal(JSON.parse(rep.badOpen.body).error.code, 'FORBIDDEN');
    assert.equal(rep.ipcTrusted, '/picked/slide.svs');
    assert.equal(rep.pickedOpen.status, 404, `the dialog's pick is granted: ${JSON.stringify(rep.pickedOpen)}`);
    assert.deepEqual(rep.dropReturn, [true, false]);
    assert.equal(JSON.parse(rep.droppedOpen.body).error.code, 'UNSUPPORTED_FORMAT', `a dropped file is granted: ${rep.droppedOpen.body}`);
    assert.equal(rep.foreignDropOpen.status, 403, 'a drop reported by another sender grants nothing');
    assert.match(rep.ipcForeign, /^refused: .*not the app window/);
    assert.equal(rep.mediaPermission, false);
    // Add model folder: main shows the folder dialog and the package joins the model list of the same handler
    assert.match(rep.addFolderForeign, /^refused: .*not the app window/);
    assert.equal(rep.folderDialogs, 1, 'the dialog ran only for the trusted call');
    assert.equal(rep.addFolder.ok, true, JSON.stringify(rep.addFolder));
    assert.deepEqual([rep.addFolder.model.name, rep.addFolder.model.source, rep.addFolder.model.classes], ['my-probe', 'user', ['red', 'blue']]);
    const models = JSON.parse(rep.modelsAfterAdd.body).models as Array<{ id: string; source: string }>;
    assert.ok(models.some((m) => m.id === rep.addFolder.model.id && m.source === 'user'), rep.modelsAfterAdd.body);
  } finally {
    rmSync(userData, { recursive: true, force: true });
  }
});

test('electron-builder.yml parses and covers app id, files, asar unpack of native modules, targets', () => {
  const cfg = yaml.load(readFileSync(join(REPO_ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, any>;
  assert.equal(cfg.productName, 'Glassbox');
  assert.match(cfg.appId, /^[a-z0-9.]+$/);
  for (const f of ['dist/**', 'package.json', 'models/**']) assert.ok(cfg.files.includes(f), `files has ${f}`);
  assert.equal(cfg.asar, true);
  const unpack = (cfg.asarUnpack as string[]).join(' ');
  for (const m of ['onnxruntime-node', 'sharp', '@img', '*.node', '*.wasm']) assert.ok(unpack.includes(m), `asarUnpack covers ${m}`);
  assert.deepEqual(cfg.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(cfg.win.target, ['nsis']);
  assert.deepEqual(cfg.mac.target, ['dmg']);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.main, 'dist/electron/main.js');
});

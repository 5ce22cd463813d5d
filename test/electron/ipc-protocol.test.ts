import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrantedPaths } from '../../main/electron/granted-paths.js';
import { IPC_CHANNELS } from '../../main/contract/bridge.js';
import { isMenuCommand, registerIpc, sendMenuCommand } from '../../main/electron/ipc.js';
import { createProtocolHandler, APP_SCHEME_PRIVILEGES } from '../../main/electron/protocol.js';
import { buildMenuTemplate } from '../../main/electron/menu.js';
import { APP_CSP } from '../../main/electron/security.js';
import { REPO_ROOT } from '../helpers/paths.js';

type Listener = (event: unknown, ...args: unknown[]) => unknown;

function fakeIpc() {
  const handlers = new Map<string, Listener>();
  const listeners = new Map<string, Listener>();
  return {
    handlers,
    listeners,
    ipcMain: {
      handle: (c: string, l: Listener) => void handlers.set(c, l),
      removeHandler: (c: string) => void handlers.delete(c),
      on: (c: string, l: Listener) => void listeners.set(c, l),
      removeListener: (c: string, l: Listener) => void (listeners.get(c) === l && listeners.delete(c)),
    },
  };
}

test('show-open-dialog: runs for our window, refuses other senders / origins / arguments', async () => {
  const { handlers, listeners, ipcMain } = fakeIpc();
  let dialogs = 0;
  const warnings: string[] = [];
  const granted: string[] = [];
  const off = registerIpc({
    ipcMain: ipcMain as never,
    appContents: () => ({ id: 3 }),
    showOpenDialog: async () => (dialogs++, '/data/CMU-1.svs'),
    grant: (p) => void granted.push(p),
    warn: (m) => warnings.push(m),
  });
  const h = handlers.get(IPC_CHANNELS.showOpenDialog)!;
  assert.ok(h, 'handler registered on the contract channel');
  assert.equal(await h({ sender: { id: 3 }, senderFrame: { url: 'glassbox://app/index.html' } }), '/data/CMU-1.svs');
  await assert.rejects(async () => h({ sender: { id: 4 }, senderFrame: { url: 'glassbox://app/index.html' } }), /refused: sender is not the app window/);
  await assert.rejects(async () => h({ sender: { id: 3 }, senderFrame: { url: 'https://evil.example/' } }), /refused: sender frame/);
  await assert.rejects(async () => h({ sender: { id: 3 }, senderFrame: { url: 'glassbox://app/' } }, '/etc/passwd'), /takes no arguments/);
  assert.equal(dialogs, 1, 'the dialog ran only for the trusted call');
  assert.deepEqual(granted, ['/data/CMU-1.svs'], 'the chosen path is granted before it goes back to the renderer');
  assert.equal(warnings.length, 2);
  off();
  assert.equal(handlers.size, 0);
  assert.equal(listeners.size, 0);
});

test('dropped-path: grants a real file for our window only, one absolute path only', () => {
  const { listeners, ipcMain } = fakeIpc();
  const granted: string[] = [];
  const warnings: string[] = [];
  registerIpc({ ipcMain: ipcMain as never, appContents: () => ({ id: 3 }), showOpenDialog: async () => null, grant: (p) => void granted.push(p), warn: (m) => warnings.push(m) });
  const h = listeners.get(IPC_CHANNELS.droppedPath)!;
  assert.ok(h, 'listener on the contract channel');
  const dir = mkdtempSync(join(tmpdir(), 'gb-drop-'));
  const file = join(dir, 'dropped.svs');
  writeFileSync(file, 'x');
  const send = (id: number, url: string, ...args: unknown[]) => {
    const ev = { sender: { id }, senderFrame: { url }, returnValue: undefined as unknown };
    h(ev, ...args);
    return ev.returnValue;
  };
  const app = 'glassbox://app/index.html';
  assert.equal(send(4, app, file), false, 'another webContents');
  assert.equal(send(3, 'https://evil.example/', file), false, 'another origin');
  assert.equal(send(3, app, 'relative.svs'), false);
  assert.equal(send(3, app, join(dir, 'missing.svs')), false, 'not a file');
  assert.equal(send(3, app, dir), false, 'a folder');
  assert.equal(send(3, app, file, file), false, 'two arguments');
  assert.equal(send(3, app, { path: file }), false);
  assert.deepEqual(granted, []);
  assert.equal(warnings.length, 7);
  assert.equal(send(3, app, file), true);
  assert.deepEqual(granted, [file]);
});

test('GrantedPaths: absolute paths only, normalised', () => {
  const g = new GrantedPaths();
  assert.equal(g.add('relative/x.svs'), false);
  assert.equal(g.add('/a/\u0000b'), false, 'NUL byte');
  assert.equal(g.add('/data/slides/../slides/a.svs'), true);
  assert.ok(g.has('/data/slides/a.svs'));
  assert.ok(!g.has('/data/slides/b.svs'));
  assert.ok(!g.has('relative/x.svs'));
  assert.equal(g.size, 1);
});

test('menu commands: fixed set on the fixed channel', () => {
  const sent: unknown[][] = [];
  const target = { send: (...a: unknown[]) => void sent.push(a), isDestroyed: () => false };
  assert.equal(sendMenuCommand(target, 'zoom-in'), true);
  assert.equal(sendMenuCommand(target, 'open-recent:/data/x.svs'), true);
  assert.equal(sendMenuCommand(target, 'open-recent:relative/x.svs'), false);
  assert.equal(sendMenuCommand(target, 'eval:alert(1)'), false);
  assert.equal(sendMenuCommand(null, 'zoom-in'), false);
  assert.deepEqual(sent, [[IPC_CHANNELS.menu, 'zoom-in'], [IPC_CHANNELS.menu, 'open-recent:/data/x.svs']]);
  assert.equal(isMenuCommand('open-recent:C:\\slides\\a.svs'), true);
  assert.equal(isMenuCommand(42), false);
});

test('native menu: File/View/Help with the contract commands; DevTools only in dev', () => {
  const sent: string[] = [];
  const t = buildMenuTemplate({ appName: 'Glassbox', isMac: false, isDev: false, recent: [{ path: '/d/a.svs', name: 'a.svs' }], send: (c) => sent.push(c) });
  const labels = t.map((m) => m.label ?? m.role);
  assert.deepEqual(labels, ['&File', '&Edit', '&View', '&Help']);
  const items = (m: (typeof t)[number]) => m.submenu as { label?: string; role?: string; click?: () => void; submenu?: unknown }[];
  const click = (menu: number, label: string) => items(t[menu]).find((i) => i.label === label)!.click!();
  click(0, 'Open…');
  click(2, 'Zoom In');
  click(2, 'Zoom Out');
  click(2, 'Fit to Window');
  click(2, 'Toggle Navigator');
  click(2, 'Toggle Info Panel');
  click(3, 'Keyboard Shortcuts');
  click(3, 'About Glassbox');
  click(1, 'Undo');
  click(1, 'Redo');
  (items(t[0]).find((i) => i.label === 'Open Recent')!.submenu as { click: () => void }[])[0].click();
  assert.deepEqual(sent, ['open', 'zoom-in', 'zoom-out', 'home', 'toggle-navigator', 'toggle-info', 'shortcuts', 'about', 'undo', 'redo', 'open-recent:/d/a.svs']);
  // Undo / Redo reach the renderer (annotation edits): their accelerators are shown, not registered
  assert.ok(items(t[1]).filter((i) => i.label === 'Undo' || i.label === 'Redo').every((i) => (i as { registerAccelerator?: boolean }).registerAccelerator === false));
  assert.deepEqual(items(t[1]).filter((i) => i.role).map((i) => i.role), ['cut', 'copy', 'paste', 'selectAll']);
  for (const c of sent) assert.ok(isMenuCommand(c), `${c} passes the sender's command filter`);
  assert.ok(items(t[2]).some((i) => i.role === 'togglefullscreen'));
  assert.ok(!JSON.stringify(t).includes('toggleDevTools'));
  const dev = buildMenuTemplate({ appName: 'Glassbox', isMac: true, isDev: true, recent: [], send: () => undefined });
  assert.ok(JSON.stringify(dev).includes('toggleDevTools'));
  assert.equal(dev[0].role, 'appMenu');
});

test('protocol wrapper: app origin only, CSP on every response, errors as JSON envelope', async () => {
  const seen: string[] = [];
  let opened = 0;
  const inner = async (req: Request) => {
    seen.push(new URL(req.url).pathname);
    if (req.url.endsWith('/boom')) throw new Error('kaput');
    if (req.method === 'POST') return new Response('{"id":"x"}', { status: 200, headers: { 'content-type': 'application/json' } });
    return new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } });
  };
  const h = createProtocolHandler(inner, { onSlideOpened: () => opened++ });
  const ok = await h(new Request('glassbox://app/index.html'));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-security-policy'), APP_CSP);
  assert.equal(ok.headers.get('content-type'), 'text/html');
  assert.equal(await ok.text(), '<!doctype html>');

  const foreign = await h(new Request('glassbox://evil/index.html'));
  assert.equal(foreign.status, 404);
  assert.match((await foreign.json()).error.message, /only glassbox:\/\/app/);
  assert.deepEqual(seen, ['/index.html'], 'the inner handler never saw the foreign origin');

  const boom = await h(new Request('glassbox://app/boom'));
  assert.equal(boom.status, 500);
  assert.deepEqual((await boom.json()).error, { code: 'INTERNAL', message: 'request failed: kaput' });
  assert.ok(boom.headers.get('content-security-policy'));

  await h(new Request('glassbox://app/api/slides', { method: 'POST', body: '{"path":"/x"}' }));
  assert.equal(opened, 1);
  assert.deepEqual({ ...APP_SCHEME_PRIVILEGES }, { ...APP_SCHEME_PRIVILEGES, standard: true, secure: true, supportFetchAPI: true, stream: true });
});

test('app/electron/main.ts creates the window with the tested policy and mounts the shared handler', () => {
  const src = readFileSync(join(REPO_ROOT, 'app/electron/main.ts'), 'utf8');
  for (const needle of ['requestSingleInstanceLock', 'registerSchemesAsPrivileged', 'protocol.handle(APP_SCHEME', 'mainWindowOptions(PRELOAD)',
    'hardenWebContents', 'setPermissionRequestHandler', 'registerIpc', 'createElectronHost', 'APP_ENTRY_URL']) {
    assert.ok(src.includes(needle), `main.ts uses ${needle}`);
  }
  const preload = readFileSync(join(REPO_ROOT, 'app/electron/preload.ts'), 'utf8');
  assert.match(preload, /exposeInMainWorld\('glassbox'/);
  assert.ok(!/ipcRenderer\.(send|invoke|on)\([a-z]/.test(preload.replace(/IPC_CHANNELS\.\w+/g, 'CH')), 'no ipc call with a caller-supplied channel');
});

test('add-model-folder: folder dialog in main, sender-checked, cancel → null, a bad folder → its reason, a package → GET /api/models', async () => {
  const { writeProbePackage } = await import('../analysis/probe.js');
  const { createElectronHost } = await import('../../main/electron/compose.js');
  const { mkdirSync } = await import('node:fs');
  const tmp = mkdtempSync(join(tmpdir(), 'gb-addmodel-'));
  const staticDir = join(tmp, 'static');
  mkdirSync(staticDir);
  const host = createElectronHost({ configDir: join(tmp, 'config'), staticDir, version: '0.1.0', analysisCache: null });
  const { handlers, ipcMain } = fakeIpc();
  const warnings: string[] = [];
  let pick: string | null = null;
  let dialogs = 0;
  const off = registerIpc({
    ipcMain: ipcMain as never,
    appContents: () => ({ id: 3 }),
    showOpenDialog: async () => null,
    showFolderDialog: async () => (dialogs++, pick),
    addModelFolder: (d) => host.analysis.addModelFolder(d),
    grant: () => undefined,
    warn: (m) => warnings.push(m),
  });
  const h = handlers.get(IPC_CHANNELS.addModelFolder)!;
  assert.ok(h, 'handler registered on the contract channel');
  const app = { sender: { id: 3 }, senderFrame: { url: 'glassbox://app/index.html' } };
  await assert.rejects(async () => h({ sender: { id: 4 }, senderFrame: { url: 'glassbox://app/index.html' } }), /refused: sender is not the app window/);
  await assert.rejects(async () => h({ sender: { id: 3 }, senderFrame: { url: 'https://evil.example/' } }), /refused: sender frame/);
  await assert.rejects(async () => h(app, '/tmp/evil-model'), /takes no arguments/, 'the renderer cannot name the folder');
  assert.equal(dialogs, 0, 'no dialog for refused calls');
  assert.equal(warnings.length, 2);

  assert.equal(await h(app), null, 'cancelled dialog');
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  pick = empty;
  const r1 = (await h(app)) as { ok: boolean; error: string };
  assert.equal(r1.ok, false);
  assert.match(r1.error, /config\.json|model\.onnx|no model/i, r1.error);
  const broken = join(tmp, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'config.json'), '{"spec_version": "1.0"');
  pick = broken;
  const r2 = (await h(app)) as { ok: boolean; error: string };
  assert.equal(r2.ok, false);
  assert.match(r2.error, /not valid JSON/, r2.error);
  pick = join(tmp, 'missing');
  assert.match(((await h(app)) as { error: string }).error, /not a folder/);
  const list0 = (await (await host.handle(new Request('glassbox://app/api/models'))).json()) as { models: unknown[] };
  assert.equal(list0.models.length, 0, 'nothing was added by the failures');

  pick = writeProbePackage(join(tmp, 'my-probe'), { patch: 64, stride: 8, spacing: 1 });
  const r3 = (await h(app)) as { ok: true; model: { id: string; name: string; source: string; classes: string[] } };
  assert.equal(r3.ok, true, JSON.stringify(r3));
  assert.deepEqual([r3.model.name, r3.model.source, r3.model.classes], ['my-probe', 'user', ['red', 'blue']]);
  assert.ok(!JSON.stringify(r3).includes(tmp), 'the DTO carries no path');
  const res = await host.handle(new Request('glassbox://app/api/models'));
  assert.equal(res.status, 200);
  const list = (await res.json()) as { models: Array<{ id: string; source: string }> };
  assert.deepEqual(list.models.map((m) => [m.id, m.source]), [[r3.model.id, 'user']]);
  assert.equal((await host.handle(new Request(`glassbox://app/api/models/${r3.model.id}/layers`))).status, 200);
  assert.equal(((await h(app)) as { ok: boolean }).ok, true, 'adding the same folder again is harmless');
  assert.equal(((await (await host.handle(new Request('glassbox://app/api/models'))).json()) as { models: unknown[] }).models.length, 1);
  assert.equal(dialogs, 6);
  off();
  assert.ok(!handlers.has(IPC_CHANNELS.addModelFolder));
  await host.analysis.closeAll();
  rmSync(tmp, { recursive: true, force: true });
});

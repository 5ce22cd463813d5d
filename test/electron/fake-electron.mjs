// A stand-in for the 'electron' module (which cannot be installed here), used ONLY by
// test/electron/main-bundle.test.ts to run the built dist/electron/main.js under plain Node.
// It records what main.js asks of electron, then drives the registered protocol + IPC handlers
// and prints one JSON report line on stdout.
const calls = [];
const protocolHandlers = new Map();
const ipcHandlers = new Map();
const ipcListeners = new Map();
let readyResolve;
const ready = new Promise((r) => (readyResolve = r));
let webContentsCreated = null;
let permissionRequest = null;

export class BrowserWindow {
  static all = [];
  static getAllWindows() { return BrowserWindow.all; }
  constructor(opts) {
    this.opts = opts;
    this.webContents = { id: 41, send: (...a) => calls.push(['send', ...a]), isDestroyed: () => false, on: (ev) => calls.push(['webContents.on', ev]) };
    BrowserWindow.all.push(this);
    calls.push(['BrowserWindow', opts]);
    webContentsCreated?.({}, { on: () => undefined, setWindowOpenHandler: (h) => calls.push(['setWindowOpenHandler', h({ url: 'https://x.example/' })]) });
  }
  once() {}
  on() {}
  isDestroyed() { return false; }
  isMinimized() { return false; }
  loadURL(url) { calls.push(['loadURL', url]); setTimeout(drive, 0); return Promise.resolve(); }
}

export const app = {
  isPackaged: false,
  requestSingleInstanceLock: () => (calls.push(['requestSingleInstanceLock']), true),
  quit: () => calls.push(['quit']),
  on: (ev, fn) => { if (ev === 'web-contents-created') webContentsCreated = fn; calls.push(['app.on', ev]); },
  whenReady: () => (setTimeout(() => readyResolve(), 0), ready),
  getPath: () => process.env.GLASSBOX_FAKE_USERDATA,
  getVersion: () => '0.0.0-test',
};
export const protocol = {
  registerSchemesAsPrivileged: (s) => calls.push(['registerSchemesAsPrivileged', s]),
  handle: (scheme, h) => { protocolHandlers.set(scheme, h); calls.push(['protocol.handle', scheme]); },
};
export const session = {
  defaultSession: {
    setPermissionRequestHandler: (h) => { permissionRequest = h; calls.push(['setPermissionRequestHandler']); },
    setPermissionCheckHandler: () => calls.push(['setPermissionCheckHandler']),
  },
};
export const ipcMain = {
  handle: (c, h) => { ipcHandlers.set(c, h); calls.push(['ipcMain.handle', c]); },
  removeHandler: (c) => ipcHandlers.delete(c),
  on: (c, l) => { ipcListeners.set(c, l); calls.push(['ipcMain.on', c]); },
  removeListener: (c) => ipcListeners.delete(c),
};
// a folder dialog (openDirectory) picks GLASSBOX_FAKE_MODEL_DIR; the file dialog picks /picked/slide.svs
export const dialog = {
  showOpenDialog: async (...a) => {
    const opts = a[a.length - 1];
    if (opts?.properties?.includes('openDirectory')) {
      calls.push(['dialog.openDirectory']);
      return process.env.GLASSBOX_FAKE_MODEL_DIR ? { canceled: false, filePaths: [process.env.GLASSBOX_FAKE_MODEL_DIR] } : { canceled: true, filePaths: [] };
    }
    return { canceled: false, filePaths: ['/picked/slide.svs'] };
  },
};
export const Menu = {
  buildFromTemplate: (t) => (calls.push(['Menu.buildFromTemplate', t.map((m) => m.label ?? m.role)]), { t }),
  setApplicationMenu: () => calls.push(['Menu.setApplicationMenu']),
};
export const shell = { openExternal: async (u) => calls.push(['openExternal', u]) };
export default { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell };

async function drive() {
  const report = { calls: calls.map((c) => c[0]), window: calls.find((c) => c[0] === 'BrowserWindow')?.[1], loadURL: calls.find((c) => c[0] === 'loadURL')?.[1] };
  report.schemes = calls.find((c) => c[0] === 'registerSchemesAsPrivileged')?.[1];
  report.menu = calls.filter((c) => c[0] === 'Menu.buildFromTemplate').map((c) => c[1]);
  report.windowOpen = calls.find((c) => c[0] === 'setWindowOpenHandler')?.[1];
  const h = protocolHandlers.get('glassbox');
  const get = async (url, init) => {
    const r = await h(new Request(url, init));
    return { status: r.status, type: r.headers.get('content-type'), csp: r.headers.get('content-security-policy'), body: (await r.text()).slice(0, 4000) };
  };
  report.index = await get('glassbox://app/index.html');
  report.host = await get('glassbox://app/api/host');
  report.foreign = await get('glassbox://other/api/host');
  report.badOpen = await get('glassbox://app/api/slides', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '/nonexistent/x.svs' }) });
  const ipc = ipcHandlers.get('glassbox:show-open-dialog');
  report.ipcTrusted = await ipc({ sender: { id: 41 }, senderFrame: { url: 'glassbox://app/index.html' } });
  report.ipcForeign = await Promise.resolve().then(() => ipc({ sender: { id: 99 }, senderFrame: { url: 'glassbox://app/index.html' } })).then(() => 'allowed', (e) => `refused: ${e.message}`);
  // the allow-list: the dialog's pick is granted (reaches the engine: 404), an unchosen path is refused (403)
  const open = (path) => get('glassbox://app/api/slides', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path }) });
  report.pickedOpen = await open('/picked/slide.svs');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dropped = join(process.env.GLASSBOX_FAKE_USERDATA, 'dropped.svs');
  const foreignDrop = join(process.env.GLASSBOX_FAKE_USERDATA, 'foreign-drop.svs');
  writeFileSync(dropped, 'not a slide');
  writeFileSync(foreignDrop, 'not a slide');
  const drop = ipcListeners.get('glassbox:dropped-path');
  const dropEvent = (id) => ({ sender: { id }, senderFrame: { url: 'glassbox://app/index.html' }, returnValue: undefined });
  const trustedDrop = dropEvent(41);
  drop(trustedDrop, dropped);
  const untrustedDrop = dropEvent(99);
  drop(untrustedDrop, foreignDrop);
  report.dropReturn = [trustedDrop.returnValue, untrustedDrop.returnValue];
  report.droppedOpen = await open(dropped);
  report.foreignDropOpen = await open(foreignDrop);
  // add a model folder: the folder dialog's pick joins GET /api/models
  const addFolder = ipcHandlers.get('glassbox:add-model-folder');
  report.addFolderForeign = await Promise.resolve().then(() => addFolder({ sender: { id: 99 }, senderFrame: { url: 'glassbox://app/index.html' } })).then(() => 'allowed', (e) => `refused: ${e.message}`);
  report.addFolder = await addFolder({ sender: { id: 41 }, senderFrame: { url: 'glassbox://app/index.html' } });
  report.modelsAfterAdd = await get('glassbox://app/api/models');
  report.folderDialogs = calls.filter((c) => c[0] === 'dialog.openDirectory').length;
  let perm = null;
  permissionRequest({}, 'media', (g) => (perm = g), { requestingUrl: 'glassbox://app/index.html' });
  report.mediaPermission = perm;
  process.stdout.write('REPORT ' + JSON.stringify(report) + '\n');
  process.exit(0);
}

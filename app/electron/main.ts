/**
 * Electron composition root: lifecycle, the one window, the glassbox:// protocol, native menu, IPC.
 * All policy lives in main/electron/* (unit-tested with fakes); this file only wires electron to it.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_SCHEME } from '../../main/contract/bridge.js';
import { ANNOTATION_FORMAT_FILES } from '../../main/contract/annotations.js';
import { createElectronHost } from '../../main/electron/compose.js';
import { GrantedPaths } from '../../main/electron/granted-paths.js';
import { registerIpc, sendMenuCommand } from '../../main/electron/ipc.js';
import { LaunchQueue, slidePathsFromArgv } from '../../main/electron/launch-files.js';
import { buildMenuTemplate } from '../../main/electron/menu.js';
import { APP_SCHEME_PRIVILEGES } from '../../main/electron/protocol.js';
import {
  APP_ENTRY_URL,
  hardenWebContents,
  mainWindowOptions,
  permissionCheckHandler,
  permissionRequestHandler,
  type HardenableContents,
} from '../../main/electron/security.js';

// dist/electron/main.js → repo (or app.asar) root is two levels up
const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
const PRELOAD = join(here, 'preload.cjs');
const RENDERER_DIR = join(ROOT, 'dist', 'renderer');
const isDev = !app.isPackaged || process.env.GLASSBOX_DEV === '1';

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let win: BrowserWindow | null = null;
  let host: ReturnType<typeof createElectronHost> | null = null;

  const send = (command: string) => sendMenuCommand(win && !win.isDestroyed() ? win.webContents : null, command);
  // the only paths glassbox://app/api/slides may open: chosen by the user (dialog, drop, argv / open-file, recent)
  const granted = new GrantedPaths();
  // slides named on the command line or handed over by the OS open once the renderer is up
  const launch = new LaunchQueue(send, (p) => granted.add(p));
  launch.add(slidePathsFromArgv(process.argv, { isPackaged: app.isPackaged, cwd: process.cwd() }));
  app.on('open-file', (event, path) => {
    event.preventDefault();
    launch.add([path]);
  });

  async function rebuildMenu(): Promise<void> {
    const recent = host ? await host.service.recent().catch(() => []) : [];
    const template = buildMenuTemplate({ appName: 'Glassbox', isMac: process.platform === 'darwin', isDev, recent, send });
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  }

  function createWindow(): void {
    win = new BrowserWindow(mainWindowOptions(PRELOAD));
    win.once('ready-to-show', () => win?.show());
    win.webContents.on('did-finish-load', () => launch.rendererReady());
    win.on('closed', () => {
      win = null;
      launch.rendererGone();
    });
    void win.loadURL(APP_ENTRY_URL);
  }

  app.on('second-instance', (_event, argv, workingDirectory) => {
    launch.add(slidePathsFromArgv(argv, { isPackaged: app.isPackaged, cwd: workingDirectory }));
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  // every webContents (the window and anything it might try to create) gets the same guards
  app.on('web-contents-created', (_e, contents) => {
    hardenWebContents(contents as unknown as HardenableContents, (url) => shell.openExternal(url));
  });

  app.whenReady().then(async () => {
    host = createElectronHost({
      configDir: app.getPath('userData'),
      staticDir: RENDERER_DIR,
      modelsDir: join(ROOT, 'models'),
      version: app.getVersion(),
      granted,
      onSlideOpened: () => void rebuildMenu(),
    });
    protocol.handle(APP_SCHEME, host.handle);
    session.defaultSession.setPermissionRequestHandler(permissionRequestHandler);
    session.defaultSession.setPermissionCheckHandler(permissionCheckHandler);
    registerIpc({
      ipcMain,
      appContents: () => (win && !win.isDestroyed() ? win.webContents : null),
      grant: (p) => void granted.add(p),
      showOpenDialog: async () => {
        const opts: Electron.OpenDialogOptions = {
          title: 'Open a slide (a DICOM series: any of its .dcm files)',
          // a DICOM series is a folder: macOS dialogs can pick files and folders at once; elsewhere any file of it opens it
          properties: process.platform === 'darwin' ? ['openFile', 'openDirectory'] : ['openFile'],
          filters: [
            { name: 'Whole-slide images', extensions: ['svs', 'tif', 'tiff', 'ndpi', 'dcm', 'scn', 'bif', 'mrxs', 'vms', 'ome.tif', 'ome.tiff'] },
            { name: 'All files', extensions: ['*'] },
          ],
        };
        const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
        return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
      },
      showFolderDialog: async () => {
        const opts: Electron.OpenDialogOptions = { title: 'Add a model folder (config.json + model.onnx)', properties: ['openDirectory'] };
        const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
        return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
      },
      addModelFolder: (dir) => host!.analysis.addModelFolder(dir),
      annotations: host.annotations,
      showSaveDialog: async (defaultName, format) => {
        const f = ANNOTATION_FORMAT_FILES[format];
        const opts: Electron.SaveDialogOptions = { title: `Export annotations (${f.label})`, defaultPath: defaultName, filters: [{ name: f.label, extensions: [f.ext] }] };
        const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      showAnnotationOpenDialog: async (format) => {
        const f = ANNOTATION_FORMAT_FILES[format];
        const opts: Electron.OpenDialogOptions = { title: `Import annotations (${f.label})`, properties: ['openFile'], filters: [{ name: f.label, extensions: format === 'geojson' ? ['geojson', 'json'] : ['xml'] }, { name: 'All files', extensions: ['*'] }] };
        const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
        return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
      },
    });
    await rebuildMenu();
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

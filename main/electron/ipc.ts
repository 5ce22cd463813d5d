/**
 * ipcMain bindings. Every handler checks the sender (our window's webContents, frame on glassbox://app)
 * and validates its arguments; menu commands go out on ONE fixed channel and only from a fixed set.
 */
import { statSync } from 'node:fs';
import type { IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS, type AddModelFolderResult } from '../contract/bridge.js';
import type { ModelDTO } from '../contract/analysis.js';
import { isPlausibleAbsolutePath } from './granted-paths.js';
import { checkSender, type SenderLike } from './security.js';

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  /** for the one synchronous channel (droppedPath) */
  on(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): void;
  removeListener(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): void;
}

export interface IpcDeps {
  ipcMain: IpcMainLike;
  /** the app window's webContents (null before it exists / after it closed) */
  appContents: () => { id: number } | null;
  /** shows the native open dialog; resolves to one absolute path or null */
  showOpenDialog: () => Promise<string | null>;
  /** the user chose this path (open dialog / drag-and-drop): allow opening it (GrantedPaths.add) */
  grant: (path: string) => void;
  /** shows the native folder dialog; resolves to one absolute path or null (cancelled) */
  showFolderDialog?: () => Promise<string | null>;
  /** adds a model package folder (AnalysisService.addModelFolder); throws naming why it is not one */
  addModelFolder?: (dir: string) => Promise<ModelDTO>;
  /** log refused calls (defaults to console.warn) */
  warn?: (msg: string) => void;
}

function isRegularFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export class IpcRejected extends Error {}

export function registerIpc(deps: IpcDeps): () => void {
  const warn = deps.warn ?? ((m: string) => console.warn(m));
  deps.ipcMain.handle(IPC_CHANNELS.showOpenDialog, async (event, ...args) => {
    const check = checkSender(event as unknown as SenderLike, deps.appContents());
    if (!check.ok) {
      warn(`glassbox: refused ${IPC_CHANNELS.showOpenDialog}: ${check.reason}`);
      throw new IpcRejected(`${IPC_CHANNELS.showOpenDialog} refused: ${check.reason}`);
    }
    if (args.length !== 0) throw new IpcRejected(`${IPC_CHANNELS.showOpenDialog} takes no arguments, got ${args.length}`);
    const path = await deps.showOpenDialog();
    if (typeof path !== 'string' || path.length === 0) return null;
    deps.grant(path); // before the renderer can ask to open it
    return path;
  });
  const addFolder = deps.showFolderDialog && deps.addModelFolder ? { dialog: deps.showFolderDialog, add: deps.addModelFolder } : null;
  if (addFolder) {
    deps.ipcMain.handle(IPC_CHANNELS.addModelFolder, async (event, ...args): Promise<AddModelFolderResult> => {
      const check = checkSender(event as unknown as SenderLike, deps.appContents());
      if (!check.ok) {
        warn(`glassbox: refused ${IPC_CHANNELS.addModelFolder}: ${check.reason}`);
        throw new IpcRejected(`${IPC_CHANNELS.addModelFolder} refused: ${check.reason}`);
      }
      if (args.length !== 0) throw new IpcRejected(`${IPC_CHANNELS.addModelFolder} takes no arguments, got ${args.length}`);
      const dir = await addFolder.dialog();
      if (typeof dir !== 'string' || dir.length === 0) return null;
      if (!isPlausibleAbsolutePath(dir)) return { ok: false, error: `not an absolute folder path: ${String(dir).slice(0, 200)}` };
      if (!isDirectory(dir)) return { ok: false, error: `${dir}: not a folder` };
      try {
        return { ok: true, model: await addFolder.add(dir) };
      } catch (e) {
        // a plain message: Electron wraps errors thrown from invoke handlers ("Error invoking remote method …")
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    });
  }
  // sendSync from the preload's pathForFile: the renderer POSTs the path right after, so the grant must be in place first
  const onDropped = (event: IpcMainEvent, ...args: unknown[]): void => {
    const check = checkSender(event as unknown as SenderLike, deps.appContents());
    let ok = false;
    if (!check.ok) warn(`glassbox: refused ${IPC_CHANNELS.droppedPath}: ${check.reason}`);
    else if (args.length !== 1 || !isPlausibleAbsolutePath(args[0])) warn(`glassbox: refused ${IPC_CHANNELS.droppedPath}: needs one absolute path`);
    else if (!isRegularFile(args[0])) warn(`glassbox: refused ${IPC_CHANNELS.droppedPath}: not a regular file`);
    else {
      deps.grant(args[0]);
      ok = true;
    }
    (event as { returnValue?: unknown }).returnValue = ok;
  };
  deps.ipcMain.on(IPC_CHANNELS.droppedPath, onDropped);
  return () => {
    deps.ipcMain.removeHandler(IPC_CHANNELS.showOpenDialog);
    if (addFolder) deps.ipcMain.removeHandler(IPC_CHANNELS.addModelFolder);
    deps.ipcMain.removeListener(IPC_CHANNELS.droppedPath, onDropped);
  };
}

const SIMPLE_COMMANDS = new Set([
  'open', 'close', 'zoom-in', 'zoom-out', 'home', 'toggle-navigator', 'toggle-info', 'fullscreen', 'about', 'shortcuts',
]);

/** A menu command is one of the fixed names, or open-recent:<absolute path>. */
export function isMenuCommand(cmd: unknown): cmd is string {
  if (typeof cmd !== 'string' || cmd.length > 4096) return false;
  if (SIMPLE_COMMANDS.has(cmd)) return true;
  if (cmd.startsWith('open-recent:')) {
    const p = cmd.slice('open-recent:'.length);
    return p.length > 0 && !p.includes('\0') && (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'));
  }
  return false;
}

export function sendMenuCommand(target: { isDestroyed?(): boolean; send(channel: string, ...args: unknown[]): void } | null, cmd: string): boolean {
  if (!target || target.isDestroyed?.() || !isMenuCommand(cmd)) return false;
  target.send(IPC_CHANNELS.menu, cmd);
  return true;
}

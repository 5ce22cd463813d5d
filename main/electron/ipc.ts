/**
 * ipcMain bindings. Every handler checks the sender (our window's webContents, frame on glassbox://app)
 * and validates its arguments; menu commands go out on ONE fixed channel and only from a fixed set.
 */
import { statSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS, type AddModelFolderResult, type AnnotationFileResult } from '../contract/bridge.js';
import { ANNOTATION_FORMAT_FILES, ANNOTATION_IMPORT_FORMATS, ANNOTATION_LIMITS, type AnnotationFormatDTO, type AnnotationImportFormatDTO, type AnnotationService } from '../contract/annotations.js';
import { SLIDE_ID_RE } from '../contract/slides.js';
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
  /** the annotations of open slides, for export / import through native file dialogs */
  annotations?: Pick<AnnotationService, 'exportText' | 'importText'>;
  /** native save dialog for an export (default file name, format); one absolute path or null */
  showSaveDialog?: (defaultName: string, format: AnnotationFormatDTO) => Promise<string | null>;
  /** native open dialog for an annotation file of this format; one absolute path or null */
  showAnnotationOpenDialog?: (format: AnnotationImportFormatDTO) => Promise<string | null>;
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
  const unregisterAnnotations = registerAnnotationIpc(deps, warn);
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
    unregisterAnnotations();
    deps.ipcMain.removeListener(IPC_CHANNELS.droppedPath, onDropped);
  };
}

const SIMPLE_COMMANDS = new Set([
  'open', 'close', 'zoom-in', 'zoom-out', 'home', 'toggle-navigator', 'toggle-info', 'fullscreen', 'about', 'shortcuts', 'undo', 'redo',
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

/**
 * Annotation export / import through native dialogs: the renderer names the open slide and the format, main shows
 * the dialog, then writes the service's export to the chosen path, or reads the chosen file (size-checked) and
 * imports it. Nothing but the user's chosen path is ever written or read.
 */
function registerAnnotationIpc(deps: IpcDeps, warn: (m: string) => void): () => void {
  const svc = deps.annotations;
  if (!svc || !deps.showSaveDialog || !deps.showAnnotationOpenDialog) return () => {};
  const save = deps.showSaveDialog, pick = deps.showAnnotationOpenDialog;
  const guard = (channel: string, event: IpcMainInvokeEvent, args: unknown[], formats: readonly string[]): { slideId: string; format: string } => {
    const check = checkSender(event as unknown as SenderLike, deps.appContents());
    if (!check.ok) {
      warn(`glassbox: refused ${channel}: ${check.reason}`);
      throw new IpcRejected(`${channel} refused: ${check.reason}`);
    }
    const [slideId, format] = args;
    if (args.length !== 2 || typeof slideId !== 'string' || !SLIDE_ID_RE.test(slideId) || typeof format !== 'string' || !formats.includes(format)) {
      throw new IpcRejected(`${channel} takes (slide id, one of ${formats.join(', ')})`);
    }
    return { slideId, format };
  };
  const failed = (e: unknown): AnnotationFileResult => ({ ok: false, error: e instanceof Error ? e.message : String(e) });
  deps.ipcMain.handle(IPC_CHANNELS.exportAnnotations, async (event, ...args): Promise<AnnotationFileResult> => {
    const { slideId, format } = guard(IPC_CHANNELS.exportAnnotations, event, args, Object.keys(ANNOTATION_FORMAT_FILES));
    try {
      const f = await svc.exportText(slideId, format as AnnotationFormatDTO);
      const path = await save(f.filename, format as AnnotationFormatDTO);
      if (typeof path !== 'string' || path.length === 0) return null;
      if (!isPlausibleAbsolutePath(path)) return { ok: false, error: `not an absolute file path: ${String(path).slice(0, 200)}` };
      await writeFile(path, f.text, 'utf8');
      return { ok: true, path };
    } catch (e) {
      return failed(e);
    }
  });
  deps.ipcMain.handle(IPC_CHANNELS.importAnnotations, async (event, ...args): Promise<AnnotationFileResult> => {
    const { slideId, format } = guard(IPC_CHANNELS.importAnnotations, event, args, ANNOTATION_IMPORT_FORMATS);
    try {
      const path = await pick(format as AnnotationImportFormatDTO);
      if (typeof path !== 'string' || path.length === 0) return null;
      if (!isPlausibleAbsolutePath(path) || !isRegularFile(path)) return { ok: false, error: `${String(path).slice(0, 200)}: not a file` };
      const size = (await stat(path)).size;
      if (size > ANNOTATION_LIMITS.importBytes) return { ok: false, error: `${basename(path)} is ${size} bytes; at most ${ANNOTATION_LIMITS.importBytes} can be imported` };
      const r = await svc.importText(slideId, format as AnnotationImportFormatDTO, await readFile(path, 'utf8'), basename(path));
      return { ok: true, path, added: r.added.length, warnings: r.warnings };
    } catch (e) {
      return failed(e);
    }
  });
  return () => {
    deps.ipcMain.removeHandler(IPC_CHANNELS.exportAnnotations);
    deps.ipcMain.removeHandler(IPC_CHANNELS.importAnnotations);
  };
}

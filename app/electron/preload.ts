/**
 * Preload (bundled to ONE CJS file, sandboxed): exposes exactly the GlassboxBridge on window.glassbox.
 * No generic ipc passthrough: four fixed invoke channels (open dialog, add model folder, annotation export / import), one fixed sync channel (dropped paths), one fixed menu channel.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS, type AddModelFolderResult, type AnnotationFileResult, type GlassboxBridge } from '../../main/contract/bridge.js';

const fileResult = (r: unknown): AnnotationFileResult =>
  r && typeof r === 'object' && typeof (r as { ok?: unknown }).ok === 'boolean' ? (r as AnnotationFileResult) : null;

const bridge: GlassboxBridge = {
  showOpenDialog: async () => {
    const r: unknown = await ipcRenderer.invoke(IPC_CHANNELS.showOpenDialog);
    return typeof r === 'string' ? r : null;
  },
  addModelFolder: async () => {
    const r: unknown = await ipcRenderer.invoke(IPC_CHANNELS.addModelFolder);
    return r && typeof r === 'object' && typeof (r as { ok?: unknown }).ok === 'boolean' ? (r as AddModelFolderResult) : null;
  },
  exportAnnotations: async (slideId, format) => fileResult(await ipcRenderer.invoke(IPC_CHANNELS.exportAnnotations, String(slideId), String(format))),
  importAnnotations: async (slideId, format) => fileResult(await ipcRenderer.invoke(IPC_CHANNELS.importAnnotations, String(slideId), String(format))),
  pathForFile: (file: File) => {
    const path = webUtils.getPathForFile(file); // '' unless it is a real file the user dropped
    // tell main the user dropped it (sync: the renderer POSTs the path next, the grant must already be there)
    if (path) ipcRenderer.sendSync(IPC_CHANNELS.droppedPath, path);
    return path;
  },
  onMenu: (listener: (command: string) => void) => {
    if (typeof listener !== 'function') throw new TypeError('onMenu: listener must be a function');
    const wrapped = (_e: IpcRendererEvent, command: unknown) => {
      if (typeof command === 'string') listener(command);
    };
    ipcRenderer.on(IPC_CHANNELS.menu, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_CHANNELS.menu, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('glassbox', bridge);

import type { ModelDTO } from './analysis.js';
import type { AnnotationFormatDTO, AnnotationImportFormatDTO } from './annotations.js';

/**
 * What addModelFolder resolves to: null when the user cancelled the dialog, the added model, or why the chosen
 * folder is not a usable model package (the message names the reason).
 */
export type AddModelFolderResult = null | { ok: true; model: ModelDTO } | { ok: false; error: string };

/** What exportAnnotations / importAnnotations resolve to: null when the user cancelled the dialog. */
export type AnnotationFileResult = null | { ok: true; path: string; added?: number; warnings?: string[] } | { ok: false; error: string };

/**
 * What the Electron preload exposes on `window.glassbox` (absent in a plain browser).
 * Only native things go over IPC; everything else is fetch() against the shared handler.
 */
export interface GlassboxBridge {
  /** shows the native open dialog; resolves to the chosen path (granted for opening) or null */
  showOpenDialog(): Promise<string | null>;
  /**
   * Absolute path of a dropped File (Electron webUtils.getPathForFile; '' for a File that is not a real file on disk).
   * It also tells the main process (synchronously, on IPC_CHANNELS.droppedPath) that the user dropped this path,
   * which is what allows glassbox://app/api/slides to open it: the Electron host opens only paths the user chose
   * (open dialog, drag-and-drop, command line / OS open-file, recent list) and answers 403 FORBIDDEN otherwise.
   */
  pathForFile(file: File): string;
  /** menu commands from the native menu: 'open', 'open-recent:<path>', 'close', 'zoom-in', 'zoom-out', 'home', 'toggle-navigator', 'toggle-info', 'fullscreen', 'about', 'shortcuts', 'undo', 'redo' */
  onMenu(listener: (command: string) => void): () => void;
  /**
   * shows the native folder dialog and adds the chosen model package folder (config.json + model.onnx) to the
   * model list for this session; Electron only (the browser host takes `glassbox serve --models DIR`)
   */
  addModelFolder(): Promise<AddModelFolderResult>;
  /** native save dialog, then main writes the open slide's annotations in that format there (Electron only) */
  exportAnnotations?(slideId: string, format: AnnotationFormatDTO): Promise<AnnotationFileResult>;
  /** native open dialog, then main imports the chosen file into the open slide's annotations (Electron only) */
  importAnnotations?(slideId: string, format: AnnotationImportFormatDTO): Promise<AnnotationFileResult>;
}

export const IPC_CHANNELS = {
  showOpenDialog: 'glassbox:show-open-dialog',
  menu: 'glassbox:menu',
  /** preload → main (sendSync): the path of a real dropped file, to grant opening it; returns true if granted */
  droppedPath: 'glassbox:dropped-path',
  /** renderer → main (invoke, no arguments): folder dialog, then AnalysisService.addModelFolder; AddModelFolderResult */
  addModelFolder: 'glassbox:add-model-folder',
  /** renderer → main (invoke, slideId + format): save dialog, then AnnotationService.exportText; AnnotationFileResult */
  exportAnnotations: 'glassbox:export-annotations',
  /** renderer → main (invoke, slideId + format): open dialog, then AnnotationService.importText; AnnotationFileResult */
  importAnnotations: 'glassbox:import-annotations',
} as const;

export const APP_SCHEME = 'glassbox';
export const APP_ORIGIN = 'glassbox://app';

/**
 * The one Content-Security-Policy both hosts send with the app's HTML (renderer/index.html repeats it as a meta tag,
 * minus frame-ancestors, which only works as a header). style-src needs 'unsafe-inline' for Svelte's dynamic
 * style attributes and OpenSeadragon's inline styles; scripts are 'self' only.
 */
export const APP_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * What the Electron preload exposes on `window.glassbox` (absent in a plain browser).
 * Only native things go over IPC; everything else is fetch() against the shared handler.
 */
export interface GlassboxBridge {
  /** shows the native open dialog; resolves to the chosen path or null */
  showOpenDialog(): Promise<string | null>;
  /** absolute path of a dropped File (Electron webUtils.getPathForFile) */
  pathForFile(file: File): string;
  /** menu commands from the native menu: 'open', 'open-recent:<path>', 'zoom-in', 'zoom-out', 'home', 'toggle-navigator', 'toggle-info', 'about' */
  onMenu(listener: (command: string) => void): () => void;
}

export const IPC_CHANNELS = {
  showOpenDialog: 'glassbox:show-open-dialog',
  menu: 'glassbox:menu',
} as const;

export const APP_SCHEME = 'glassbox';
export const APP_ORIGIN = 'glassbox://app';

/**
 * The Electron host's composition: the same services + fetch handler the HTTP host serves
 * (main/services + main/transport), wrapped for protocol.handle on glassbox://app.
 */
import { SlideServiceImpl } from '../services/index.js';
import { createHandler } from '../transport/index.js';
import { GrantedPaths } from './granted-paths.js';
import { createProtocolHandler, type FetchHandler } from './protocol.js';

export interface ElectronHostOptions {
  /** app.getPath('userData'): recent.json lives here */
  configDir: string;
  /** the built renderer (dist/renderer) */
  staticDir: string;
  version: string;
  onSlideOpened?: () => void;
  /** the allow-list of paths the user chose (a new, empty one by default) */
  granted?: GrantedPaths;
}

export interface ElectronHost {
  service: SlideServiceImpl;
  handle: FetchHandler;
  /** fill from the open dialog, drag-and-drop, argv / open-file; the recent list is allowed too */
  granted: GrantedPaths;
}

export function createElectronHost(o: ElectronHostOptions): ElectronHost {
  const granted = o.granted ?? new GrantedPaths();
  // the recent list counts as chosen by the user; it only changes when a (granted) slide opens
  let service: SlideServiceImpl;
  const authorizeOpen = async (path: string): Promise<boolean> =>
    granted.has(path) || (await service.recent().catch(() => [])).some((r) => r.path === path);
  service = new SlideServiceImpl({ host: 'electron', version: o.version, configDir: o.configDir, authorizeOpen });
  const handler = createHandler({ service, staticDir: o.staticDir });
  return { service, granted, handle: createProtocolHandler(handler, { onSlideOpened: o.onSlideOpened }) };
}

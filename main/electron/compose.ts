/**
 * The Electron host's composition: the same services + fetch handler the HTTP host serves
 * (main/services + main/transport), wrapped for protocol.handle on glassbox://app.
 */
import { join } from 'node:path';
import { AnalysisServiceImpl, AnnotationServiceImpl, SlideServiceImpl } from '../services/index.js';
import { TrustServiceImpl } from '../services/index.js';
import { createHandler } from '../transport/index.js';
import type { ResultCache } from '../engine/analysis/index.js';
import { GrantedPaths } from './granted-paths.js';
import { createProtocolHandler, type FetchHandler } from './protocol.js';

export interface ElectronHostOptions {
  /** app.getPath('userData'): recent.json lives here */
  configDir: string;
  /** the built renderer (dist/renderer) */
  staticDir: string;
  version: string;
  onSlideOpened?: () => void;
  /** the shipped model packages (a folder of package folders) */
  modelsDir?: string;
  /** the analysis result cache (default: the user's cache folder; null: none) */
  analysisCache?: ResultCache | null;
  /** the allow-list of paths the user chose (a new, empty one by default) */
  granted?: GrantedPaths;
}

export interface ElectronHost {
  service: SlideServiceImpl;
  analysis: AnalysisServiceImpl;
  /** per-slide annotations in configDir/annotations */
  annotations: AnnotationServiceImpl;
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
  const analysis = new AnalysisServiceImpl({ slides: service, version: o.version, modelRoots: o.modelsDir ? [{ dir: o.modelsDir, source: 'shipped' }] : [], cache: o.analysisCache });
  const trust = new TrustServiceImpl({ slides: service, model: (id) => analysis.model(id) });
  const annotations = new AnnotationServiceImpl({ slides: service, analysis, dataDir: join(o.configDir, 'annotations') });
  const handler = createHandler({ service, analysis, trust, annotations, staticDir: o.staticDir });
  return { service, analysis, annotations, granted, handle: createProtocolHandler(handler, { onSlideOpened: o.onSlideOpened }) };
}

/**
 * Renderer <-> main contract for slides. Pure TypeScript: no Node, no DOM, no electron.
 * Both hosts (Electron protocol.handle on glassbox://app/ and the HTTP host) serve the SAME
 * fetch-style handler, so the renderer only ever uses the relative URLs built here.
 */

export type MppSourceDTO = 'vendor' | 'tiff-resolution' | 'user';

export interface LevelDTO {
  width: number;
  height: number;
  downsample: number;
  tileWidth: number;
  tileHeight: number;
}

export interface SlideInfoDTO {
  /** opaque id (never a path); valid only while the slide is open in this host */
  id: string;
  /** file name only (no directories) for display */
  name: string;
  format: string;
  vendor: string | null;
  width: number;
  height: number;
  levels: LevelDTO[];
  mpp: { x: number; y: number; source: MppSourceDTO } | null;
  objectivePower: number | null;
  associatedImages: string[];
  compression: string;
  pixel: { channels: number; bitsPerSample: number; sampleFormat: string; photometric: string };
  hasIccProfile: boolean;
  /** what the open left out or could not read (skipped levels, associated images), one sentence each; [] when intact */
  warnings: string[];
  /** namespaced vendor metadata ('aperio.MPP', 'tiff.ImageDescription', …) */
  properties: Record<string, string>;
  /** Deep Zoom descriptor URL (relative) for any OpenSeadragon client */
  dziUrl: string;
  /**
   * The same descriptor inline (what the .dzi says), so a viewer can ask for tiles without another round trip.
   * `tilesUrl` is relative: `<tilesUrl><level>/<col>_<row>.<format>`.
   */
  deepZoom: DeepZoomDTO;
}

export interface DeepZoomDTO {
  tileSize: number;
  overlap: number;
  format: 'jpeg';
  tilesUrl: string;
}

export interface OpenSlideRequest {
  /** absolute path on the host machine */
  path: string;
}

export interface SetMppRequest {
  /** null clears the override */
  mpp: { x: number; y: number } | null;
}

export interface RecentFileDTO {
  path: string;
  name: string;
  openedAt: string; // ISO 8601
}

/** One entry of a browsable folder (`glassbox serve --root DIR`): a sub-folder or a file the slide reader may open. */
export interface BrowseEntryDTO {
  name: string;
  /** absolute path on the host machine (what POST /api/slides opens) */
  path: string;
  kind: 'dir' | 'slide';
  /** bytes (slides only) */
  size?: number;
}

/** A folder listing, limited to the host's browse roots. `path: null` is the list of the roots themselves. */
export interface BrowseDTO {
  path: string | null;
  /** the folder above (null at a root or at the list of roots) */
  parent: string | null;
  entries: BrowseEntryDTO[];
  /** true when the folder held more entries than a listing returns */
  truncated: boolean;
}

export interface HostInfoDTO {
  app: 'glassbox';
  version: string;
  host: 'electron' | 'http';
  /** true when the host lists folders to open slides from (`glassbox serve --root DIR`, GET /api/browse) */
  browse: boolean;
}

/** Error envelope on the wire: { error: { code, message } } with an HTTP status. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPT'
  | 'UNSUPPORTED'
  | 'LIMIT'
  | 'OUT_OF_RANGE'
  | 'ABORTED'
  | 'INTERNAL';

export interface ErrorDTO {
  error: { code: ErrorCode; message: string };
}

export const ERROR_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNSUPPORTED_FORMAT: 415,
  CORRUPT: 422,
  UNSUPPORTED: 415,
  LIMIT: 413,
  OUT_OF_RANGE: 404,
  ABORTED: 499,
  INTERNAL: 500,
};

/** The slide service as the renderer sees it (implemented in main/services, reached over the transport). */
export interface SlideService {
  open(req: OpenSlideRequest): Promise<SlideInfoDTO>;
  list(): Promise<SlideInfoDTO[]>;
  get(id: string): Promise<SlideInfoDTO>;
  close(id: string): Promise<void>;
  setMpp(id: string, req: SetMppRequest): Promise<SlideInfoDTO>;
  recent(): Promise<RecentFileDTO[]>;
  hostInfo(): Promise<HostInfoDTO>;
  /** a folder under the host's browse roots (no path: the roots); NOT_FOUND when the host has none */
  browse(path?: string): Promise<BrowseDTO>;
}

/**
 * The pixel sizes a user may set (µm per level-0 pixel), checked by the renderer, the transport and the
 * service alike: from 0.05 µm/px (beyond the finest oil-immersion scans, ~0.1) to 100 µm/px (a 0.1× overview;
 * anything coarser is a 72/300-dpi placeholder, not a microscope scale).
 */
export const MPP_OVERRIDE_RANGE = { min: 0.05, max: 100 } as const;

/** Slide ids: opaque, URL-safe. */
export const SLIDE_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

/** URL space (all relative to the host origin). */
export const urls = {
  api: '/api',
  hostInfo: () => '/api/host',
  slides: () => '/api/slides', // GET list; POST {path} opens
  recent: () => '/api/recent',
  /** GET a browsable folder (`glassbox serve --root DIR`); no path: the roots */
  browse: (path?: string) => (path ? `/api/browse?path=${encodeURIComponent(path)}` : '/api/browse'),
  slide: (id: string) => `/api/slides/${id}`, // GET info; DELETE closes
  mpp: (id: string) => `/api/slides/${id}/mpp`, // PUT {mpp}
  /** standard Deep Zoom: powers-of-two pyramid, tile size/overlap in the .dzi */
  dzi: (id: string) => `/api/slides/${id}.dzi`,
  /** the Deep Zoom tiles' folder: `${dziTiles(id)}<level>/<col>_<row>.<format>` */
  dziTiles: (id: string) => `/api/slides/${id}_files/`,
  dziTile: (id: string, level: number, col: number, row: number, format = 'jpeg') =>
    `/api/slides/${id}_files/${level}/${col}_${row}.${format}`,
  /** the file's real levels (level 0 = full resolution), native tile grid */
  nativeTile: (id: string, level: number, col: number, row: number) =>
    `/api/slides/${id}/levels/${level}/${col}_${row}.jpeg`,
  associated: (id: string, name: string) => `/api/slides/${id}/associated/${encodeURIComponent(name)}.jpeg`,
  /** region in level-0 coords, w×h at level (PNG) */
  region: (id: string, r: { x: number; y: number; w: number; h: number; level: number }) =>
    `/api/slides/${id}/region.png?x=${r.x}&y=${r.y}&w=${r.w}&h=${r.h}&level=${r.level}`,
} as const;

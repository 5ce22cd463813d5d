/**
 * Slide engine types: the one interface every driver (SVS, NDPI, OME-TIFF, generic TIFF) implements.
 * Plain Node; no electron, no contract imports. Coordinates follow OpenSlide:
 * level-0 pixel coordinates, origin top-left.
 */

export type MppSource = 'vendor' | 'tiff-resolution' | 'user';

export interface Mpp {
  /** micrometres per pixel at level 0, x axis */
  x: number;
  y: number;
  source: MppSource;
}

export interface SlideLevel {
  width: number;
  height: number;
  /** level-0 width / this level's width (OpenSlide convention; may be non-integer, e.g. 4.0005) */
  downsample: number;
  /** native tile size of this level (for strip-based levels: the virtual tile size the driver serves) */
  tileWidth: number;
  tileHeight: number;
}

export interface SlideProperties {
  /** driver id, e.g. 'aperio-svs', 'hamamatsu-ndpi', 'ome-tiff', 'generic-tiff' */
  format: string;
  /** 'aperio' | 'hamamatsu' | 'ome' | 'generic-tiff' | … ; null if unknown */
  vendor: string | null;
  width: number;
  height: number;
  levels: SlideLevel[];
  /** null when unknown (missing or zero resolution): never a division by zero */
  mpp: Mpp | null;
  objectivePower: number | null;
  /** names of associated images, e.g. ['label', 'macro', 'thumbnail'] */
  associatedImages: string[];
  /** source pixel description, e.g. { channels: 3, bitsPerSample: 8, photometric: 'rgb' } */
  pixel: { channels: number; bitsPerSample: number; sampleFormat: 'uint' | 'int' | 'float'; photometric: string };
  /** tile compression of level 0, e.g. 'jpeg', 'jpeg2000', 'deflate', 'lzw', 'none' */
  compression: string;
  hasIccProfile: boolean;
  /**
   * What the open left out or could not read (skipped pyramid levels, IFDs, associated images), one sentence
   * each, without the file's path; empty for an intact file. Shown to users as warnings, never as properties.
   */
  warnings: string[];
  /** raw vendor metadata, namespaced like OpenSlide: 'aperio.AppMag', 'tiff.ImageDescription', 'hamamatsu.XOffsetFromSlideCentre', 'ome.…' */
  raw: Record<string, string>;
}

/** Decoded 8-bit RGB pixels, interleaved, row-major, length = width*height*3. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Compressed tile bytes that a browser / sharp can decode as-is (JPEG pass-through). */
export interface EncodedTile {
  mime: 'image/jpeg';
  bytes: Uint8Array;
  width: number;
  height: number;
}

export interface Slide {
  readonly path: string;
  /**
   * The files whose bytes make up the slide, in an order the content decides (a DICOM series: its levels, then its
   * associated images); absent means just `path`. Content identity (analysis cache keys, annotation stores) covers these.
   */
  readonly files?: readonly string[];
  readonly properties: SlideProperties;
  /**
   * The native tile (col,row) of a level as a complete, standalone JPEG that decodes to exactly the
   * tile's RGB pixels (JPEGTables merged, Adobe APP14 inserted for RGB-coded JPEG), or null when the
   * level is not stored as JPEG tiles that can be passed through. Edge tiles: the JPEG may be larger
   * than the visible part (width/height say the full encoded size).
   */
  readEncodedTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile | null>;
  /** The native tile decoded to RGB, cropped to the level's bounds. */
  readTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<RgbImage>;
  /**
   * OpenSlide read_region: (x, y) top-left in LEVEL-0 coordinates, w×h pixels at `level`.
   * Pixels outside the slide are white (255,255,255).
   */
  readRegion(x: number, y: number, level: number, w: number, h: number, signal?: AbortSignal): Promise<RgbImage>;
  /** Associated image (thumbnail, label, macro) decoded to RGB. */
  readAssociated(name: string, signal?: AbortSignal): Promise<RgbImage>;
  close(): Promise<void>;
}

export interface OpenSlideOptions {
  /** override mpp (source becomes 'user') */
  mppOverride?: { x: number; y: number };
}

/** The engine's errors live below both slide/ and tiff/ (tiff/ must not import slide/); re-exported here for importers. */
export { SlideError, type SlideErrorCode } from '../errors.js';

/** The driver contract: detect from the parsed TIFF (parsed once), then build levels + metadata. */
import type { TiffFile, Ifd } from '../tiff/index.js';
import type { LevelSource } from './levels.js';
import type { RawProps } from './properties.js';
import type { OpenSlideOptions, SlideProperties } from './types.js';

export interface DriverResult {
  vendor: string | null;
  /** pyramid levels, any order (sorted by size afterwards) */
  levels: LevelSource[];
  associated: Record<string, LevelSource>;
  /** mpp from vendor metadata, or null to fall back to the TIFF resolution tags of `resolutionIfd` */
  vendorMpp: { x: number; y: number } | null;
  /** where to read TIFF resolution tags when there is no vendor mpp (null: never) */
  resolutionIfd: Ifd | null;
  objectivePower: number | null;
  pixel: SlideProperties['pixel'];
  hasIccProfile: boolean;
  raw: RawProps;
  /** parts of the file left out (a broken reduced level, an unreadable associated image), one sentence each */
  warnings: string[];
  /** resources to release on close (besides the TIFF file) */
  dispose?: () => void;
}

export interface Driver {
  /** driver id = SlideProperties.format */
  id: string;
  detect(tf: TiffFile): boolean;
  open(tf: TiffFile, opts: OpenSlideOptions): Promise<DriverResult>;
}

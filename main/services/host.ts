/**
 * The services as the hosts and the CLI use them: the contract's renderer-facing interfaces plus the
 * byte-returning reads behind the tile, region and heatmap URLs. main/transport is typed against these
 * interfaces only, never against the implementations or the engine's tiler.
 */
import type { AnalysisService } from '../contract/analysis.js';
import type { SlideService } from '../contract/slides.js';
import { LIMITS } from '../engine/tiff/limits.js';

/** The region size bounds of regionPng, defined once in the engine (main/engine/tiff/limits.ts) for the transport and the CLI. */
export const REGION_LIMITS = { maxSide: LIMITS.maxRegionSide, maxPixels: LIMITS.maxRegionPixels } as const;

export interface SlideHostService extends SlideService {
  /** the Deep Zoom descriptor (.dzi XML) of an open slide */
  dziXml(id: string): Promise<string>;
  /** one Deep Zoom tile as JPEG */
  dziTile(id: string, level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** one native tile of the file's own level as JPEG */
  nativeTile(id: string, level: number, col: number, row: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** an associated image (label, macro, thumbnail) as JPEG */
  associated(id: string, name: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** OpenSlide read_region as PNG: (x, y) in level-0 coordinates, w×h pixels at `level` */
  regionPng(id: string, r: { x: number; y: number; w: number; h: number; level: number }, signal?: AbortSignal): Promise<Uint8Array>;
}

export interface AnalysisHostService extends AnalysisService {
  /** class k's heat map of an analysis as raw float32 (row-major, the analysis' grid) */
  heatmap(id: string, k: number): Float32Array;
  /** per-cell class probabilities as raw float32 */
  probabilities(id: string): Float32Array;
}

/** Engine types -> contract DTOs. Never a path beyond the basename. */
import { basename } from 'node:path';
import { urls, type SlideInfoDTO } from '../contract/slides.js';
import type { Mpp, SlideProperties } from '../engine/slide/types.js';

export function toSlideInfoDTO(id: string, path: string, p: SlideProperties, mpp: Mpp | null, dz: { tileSize: number; overlap: number }): SlideInfoDTO {
  return {
    id,
    name: basename(path),
    format: p.format,
    vendor: p.vendor,
    width: p.width,
    height: p.height,
    levels: p.levels.map((l) => ({ width: l.width, height: l.height, downsample: l.downsample, tileWidth: l.tileWidth, tileHeight: l.tileHeight })),
    mpp: mpp ? { x: mpp.x, y: mpp.y, source: mpp.source } : null,
    objectivePower: p.objectivePower,
    associatedImages: [...p.associatedImages],
    compression: p.compression,
    pixel: { ...p.pixel },
    hasIccProfile: p.hasIccProfile,
    warnings: [...p.warnings],
    properties: { ...p.raw },
    dziUrl: urls.dzi(id),
    deepZoom: { tileSize: dz.tileSize, overlap: dz.overlap, format: 'jpeg', tilesUrl: urls.dziTiles(id) },
  };
}

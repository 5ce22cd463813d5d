/**
 * Level mapping between the file's real levels (contract: level 0 = full resolution, any downsamples,
 * e.g. SVS 1/4/16) and OpenSeadragon's level numbering (0 = smallest, maxLevel = full resolution).
 * Pure; used by the custom TileSource in tilesource.ts and unit-tested in test/renderer/levels.test.ts.
 */
import type { LevelDTO } from '../../../main/contract/slides.js';

export interface OsdLevel {
  /** OSD level number (0 = coarsest) */
  osd: number;
  /** index into SlideInfoDTO.levels (0 = full resolution) */
  native: number;
  /** level width / level-0 width, what OSD's getLevelScale returns */
  scale: number;
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  cols: number;
  rows: number;
}

export class LevelMappingError extends Error {}

/**
 * Build the OSD level table. Levels must be ordered full-res first with increasing downsample and
 * positive sizes; otherwise a LevelMappingError names the bad level (the caller then falls back to DZI).
 */
export function buildOsdLevels(levels: readonly LevelDTO[]): OsdLevel[] {
  if (levels.length === 0) throw new LevelMappingError('slide has no levels');
  const base = levels[0];
  if (!(base.width > 0 && base.height > 0)) throw new LevelMappingError(`level 0 has invalid size ${base.width}×${base.height}`);
  levels.forEach((l, i) => {
    for (const k of ['width', 'height', 'tileWidth', 'tileHeight'] as const) {
      if (!Number.isInteger(l[k]) || l[k] <= 0) throw new LevelMappingError(`level ${i}: ${k} must be a positive integer, got ${l[k]}`);
    }
    if (!(l.downsample >= 1)) throw new LevelMappingError(`level ${i}: downsample must be ≥ 1, got ${l.downsample}`);
    if (i > 0 && !(l.downsample > levels[i - 1].downsample)) {
      throw new LevelMappingError(`level ${i}: downsample ${l.downsample} is not larger than level ${i - 1}'s ${levels[i - 1].downsample}`);
    }
  });
  const n = levels.length;
  return levels
    .map((l, native) => ({
      osd: n - 1 - native,
      native,
      // the level's real width ratio (not 1/downsample) so tile edges land on exact level pixels
      scale: native === 0 ? 1 : l.width / base.width,
      width: l.width,
      height: l.height,
      tileWidth: l.tileWidth,
      tileHeight: l.tileHeight,
      cols: Math.ceil(l.width / l.tileWidth),
      rows: Math.ceil(l.height / l.tileHeight),
    }))
    .reverse();
}

/** The native level OpenSlide would read for a wanted downsample: the largest downsample ≤ wanted. */
export function bestNativeLevel(levels: readonly LevelDTO[], downsample: number): number {
  let best = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i].downsample <= downsample + 1e-9) best = i;
  return best;
}

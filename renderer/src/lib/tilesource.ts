/**
 * The viewer's tile sources. Preferred: the host's Deep Zoom pyramid (info.dziUrl) — every power-of-two level exists
 * there, made from the file's levels and, where the file has none within 2×, from the next finer level (virtual levels,
 * main/engine/tiles/virtual.ts), so a fitted view never loads full-resolution tiles. Fallback: a thin OpenSeadragon
 * TileSource over the file's REAL levels only (non-power-of-two downsamples, per-level tile sizes) using
 * urls.nativeTile; the level table comes from levels.ts.
 */
import OpenSeadragon from 'openseadragon';
import { urls } from '../../../main/contract/slides.js';
import type { SlideInfoDTO } from '../../../main/contract/slides.js';
import { buildOsdLevels, LevelMappingError, type OsdLevel } from './levels.js';

interface NativeSourceState {
  glassboxId: string;
  glassboxLevels: OsdLevel[];
}

class NativeTileSource extends OpenSeadragon.TileSource {
  constructor(info: SlideInfoDTO, table: OsdLevel[]) {
    const top = table[table.length - 1];
    // options are copied onto `this` by OSD before its synchronous 'ready' event
    super({
      width: info.width,
      height: info.height,
      tileWidth: top.tileWidth,
      tileHeight: top.tileHeight,
      tileOverlap: 0,
      minLevel: 0,
      maxLevel: table.length - 1,
      glassboxId: info.id,
      glassboxLevels: table,
    } as unknown as OpenSeadragon.TileSourceOptions);
  }
  private get state(): NativeSourceState {
    return this as unknown as NativeSourceState;
  }
  private level(level: number): OsdLevel {
    const t = this.state.glassboxLevels;
    return t[Math.max(0, Math.min(t.length - 1, level))];
  }
  override getLevelScale(level: number): number {
    return this.level(level).scale;
  }
  override getTileWidth(level: number): number {
    return this.level(level).tileWidth;
  }
  override getTileHeight(level: number): number {
    return this.level(level).tileHeight;
  }
  override getNumTiles(level: number): OpenSeadragon.Point {
    const l = this.level(level);
    return new OpenSeadragon.Point(l.cols, l.rows);
  }
  override getTileUrl(level: number, x: number, y: number): string {
    return urls.nativeTile(this.state.glassboxId, this.level(level).native, x, y);
  }
  override supports(): boolean {
    return true;
  }
}

export type TileSourceKind = 'native' | 'dzi';

/** The Deep Zoom URL, or (prefer 'native') the native-levels source — the DZI URL with the reason when the levels cannot be mapped. */
export function tileSourceFor(info: SlideInfoDTO, prefer: TileSourceKind = 'dzi'):
  { kind: TileSourceKind; source: OpenSeadragon.TileSource | string; reason?: string } {
  if (prefer === 'native') {
    try {
      const table = buildOsdLevels(info.levels);
      return { kind: 'native', source: new NativeTileSource(info, table) };
    } catch (e) {
      if (!(e instanceof LevelMappingError)) throw e;
      return { kind: 'dzi', source: deepZoomSource(info), reason: e.message };
    }
  }
  return { kind: 'dzi', source: deepZoomSource(info) };
}

/**
 * The host's Deep Zoom descriptor as OpenSeadragon's inline DZI object (what the .dzi at info.dziUrl says): the
 * tiles are requested at once, without fetching and parsing the XML first.
 */
export function deepZoomSource(info: SlideInfoDTO): OpenSeadragon.TileSource {
  const dz = info.deepZoom;
  return {
    Image: {
      xmlns: 'http://schemas.microsoft.com/deepzoom/2008',
      Url: dz.tilesUrl,
      Format: dz.format,
      Overlap: String(dz.overlap),
      TileSize: String(dz.tileSize),
      Size: { Width: String(info.width), Height: String(info.height) },
    },
  } as unknown as OpenSeadragon.TileSource;
}

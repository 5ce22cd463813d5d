/**
 * Level sources: a pyramid level served as a grid of tiles.
 * ImageLevel covers tiled images (tile = TIFF tile), stripped images (tile = a group of strips, full width),
 * planar images (one chunk per sample plane) and channel-per-IFD images (OME-TIFF: one TiffImage per channel,
 * same geometry), all mapped to 8-bit RGB through one PixelMapping.
 */
import { SlideError, type EncodedTile, type RgbImage } from './types.js';
import { TiffImage, decodeChunk, chunkAsJpeg, throwIfAborted, LIMITS, type DecodedChunk } from '../tiff/index.js';
import { mapPixels, type PixelMapping } from './pixels.js';

export interface LevelSource {
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly tilesAcross: number;
  readonly tilesDown: number;
  /** compression of the stored tiles, e.g. 'jpeg' */
  readonly compression: string;
  /** decoded tile, cropped to the level bounds */
  readTile(col: number, row: number, signal?: AbortSignal): Promise<RgbImage>;
  /** pass-through JPEG of the tile, or null */
  readEncoded(col: number, row: number, signal?: AbortSignal): Promise<EncodedTile | null>;
  /** names this source in error messages, e.g. "level 2" or "associated image 'macro'" */
  label?: string;
  /** At open: null when all of its stored data lies inside the file, else why not (truncated file). */
  checkExtent?(fileSize: number): Promise<string | null>;
  /** which IFD(s) it comes from, for messages */
  readonly origin?: string;
}

/** Target height of a virtual tile made of strips. */
const STRIP_GROUP_ROWS = 256;

export class ImageLevel implements LevelSource {
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly tilesAcross: number;
  readonly tilesDown: number;
  readonly compression: string;
  /** strips per virtual tile (1 for tiled images) */
  private readonly group: number;
  private readonly planes: number;
  label?: string;

  constructor(private readonly images: TiffImage[], private readonly mapping: PixelMapping) {
    const im = images[0];
    this.width = im.width;
    this.height = im.height;
    this.compression = im.compressionName;
    this.group = im.tiled ? 1 : Math.max(1, Math.floor(STRIP_GROUP_ROWS / im.chunkHeight));
    this.tileWidth = im.chunkWidth;
    this.tileHeight = Math.min(im.chunkHeight * this.group, Math.max(im.chunkHeight, im.height));
    if (this.tileWidth * this.tileHeight > LIMITS.maxTilePixels) {
      throw new SlideError('LIMIT', `${im.src.path}: IFD ${im.ifd.index}: tile of ${this.tileWidth}×${this.tileHeight} px exceeds the ${LIMITS.maxTilePixels}-pixel limit`);
    }
    this.tilesAcross = Math.ceil(this.width / this.tileWidth);
    this.tilesDown = Math.ceil(this.height / this.tileHeight);
    this.planes = im.planar === 2 ? im.samplesPerPixel : 1;
    for (const o of images.slice(1)) {
      if (o.width !== im.width || o.height !== im.height || o.chunkWidth !== im.chunkWidth || o.chunkHeight !== im.chunkHeight || o.tiled !== im.tiled) {
        throw new SlideError('CORRUPT', `${im.src.path}: channel IFD ${o.ifd.index} does not match IFD ${im.ifd.index}'s geometry`);
      }
    }
  }

  get origin(): string { return `IFD ${this.images.map((i) => i.ifd.index).join('+')}`; }

  async checkExtent(fileSize: number): Promise<string | null> {
    let bad = 0, total = 0;
    for (const im of this.images) {
      const n = im.chunksAcross * im.chunksDown * (im.planar === 2 ? im.samplesPerPixel : 1);
      for (let i = 0; i < n; i++) {
        const { offset, length } = await im.chunkRange(i);
        total++;
        if (length > 0 && !(offset + length <= fileSize)) bad++;
      }
    }
    if (bad === 0) return null;
    return `${bad} of ${total} ${this.images[0].tiled ? 'tiles' : 'strips'} lie past the end of the file (${fileSize} bytes)`;
  }

  private what(col: number, row: number): string {
    return `${this.images[0].src.path}: ${this.label ? `${this.label} (IFD ${this.images[0].ifd.index})` : `IFD ${this.images[0].ifd.index}`} tile (${col},${row})`;
  }

  /** Visible size of a tile (cropped to level bounds). */
  private visible(col: number, row: number): { w: number; h: number } {
    return { w: Math.min(this.tileWidth, this.width - col * this.tileWidth), h: Math.min(this.tileHeight, this.height - row * this.tileHeight) };
  }

  async readTile(col: number, row: number, signal?: AbortSignal): Promise<RgbImage> {
    const { w, h } = this.visible(col, row);
    const out = new Uint8Array(w * h * 3);
    const what = this.what(col, row);
    const im0 = this.images[0];
    // chunk rows that make up this tile (strips: `group` strips; tiles: one)
    const firstChunkRow = row * this.group;
    for (let g = 0; g < this.group; g++) {
      const chunkRow = firstChunkRow + g;
      if (chunkRow >= im0.chunksDown) break;
      const y0 = g * im0.chunkHeight; // within the tile
      const rows = Math.min(im0.chunkHeight, this.height - chunkRow * im0.chunkHeight);
      if (y0 >= h) break;
      const srcs: DecodedChunk[] = [];
      let sparse = false;
      for (const im of this.images) {
        for (let p = 0; p < this.planes; p++) {
          throwIfAborted(signal, what);
          const idx = im.chunkIndex(col, chunkRow, p);
          const bytes = await im.readChunk(idx, signal);
          if (bytes.length === 0) { sparse = true; break; }
          throwIfAborted(signal, what);
          const decRows = im.tiled ? im.chunkHeight : rows;
          const d = await decodeChunk(im, bytes, decRows, what, signal, { w, h: Math.min(rows, h - y0) });
          const needW = im.tiled ? w : this.width;
          if (d.width < needW || d.height < Math.min(rows, h - y0)) {
            throw new SlideError('CORRUPT', `${what}: decoded ${d.width}×${d.height}, expected at least ${needW}×${Math.min(rows, h - y0)}`);
          }
          srcs.push(d);
        }
        if (sparse) break;
      }
      const hh = Math.min(rows, h - y0);
      if (sparse) { out.fill(255, y0 * w * 3, (y0 + hh) * w * 3); continue; }
      mapPixels(this.mapping, srcs, 0, 0, w, hh, out, w, 0, y0);
    }
    throwIfAborted(signal, what);
    return { data: out, width: w, height: h };
  }

  async readEncoded(col: number, row: number, signal?: AbortSignal): Promise<EncodedTile | null> {
    const im = this.images[0];
    if (im.compression !== 7 || this.images.length !== 1 || this.planes !== 1 || this.group !== 1) return null;
    if (!(im.photometric === 2 || im.photometric === 6 || im.photometric === 1) || im.bitsPerSample !== 8) return null;
    const what = this.what(col, row);
    const bytes = await im.readChunk(im.chunkIndex(col, row), signal);
    if (bytes.length === 0) return null;
    const { w, h } = this.visible(col, row);
    // the frame must match the tile (MCU padding allowed): a bogus SOF is refused, not passed through
    const jpeg = await chunkAsJpeg(im, bytes, what, signal, { width: im.chunkWidth, height: im.chunkHeight, minWidth: w, minHeight: h });
    throwIfAborted(signal, what);
    return { mime: 'image/jpeg', bytes: jpeg, width: im.chunkWidth, height: im.chunkHeight };
  }
}

/** Reads a whole (small) image — associated images, range estimation — bounded by LIMITS.maxRegionPixels. */
export async function readWholeLevel(level: LevelSource, signal?: AbortSignal): Promise<RgbImage> {
  const { width, height } = level;
  if (width * height > LIMITS.maxRegionPixels) {
    throw new SlideError('LIMIT', `image of ${width}×${height} px exceeds the ${LIMITS.maxRegionPixels}-pixel limit for a whole-image read`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < level.tilesDown; r++) {
    for (let c = 0; c < level.tilesAcross; c++) {
      const t = await level.readTile(c, r, signal);
      const x0 = c * level.tileWidth, y0 = r * level.tileHeight;
      for (let y = 0; y < t.height; y++) out.set(t.data.subarray(y * t.width * 3, (y + 1) * t.width * 3), ((y0 + y) * width + x0) * 3);
    }
  }
  return { data: out, width, height };
}

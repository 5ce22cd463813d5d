/**
 * TiffImage: one IFD's raster geometry, validated once at open (dimensions, tile/strip counts,
 * sample layout), plus raw chunk (tile or strip) byte access.
 */
import { SlideError } from '../errors.js';
import type { Ifd } from './ifd.js';
import { LIMITS } from './limits.js';
import type { FileSource } from './source.js';
import { TAG, compressionName, PHOTOMETRIC_NAMES } from './tags.js';

export type SampleFormat = 'uint' | 'int' | 'float';

export class TiffImage {
  readonly width: number;
  readonly height: number;
  readonly tiled: boolean;
  /** tile size (tiled) or width × RowsPerStrip (stripped) */
  readonly chunkWidth: number;
  readonly chunkHeight: number;
  readonly chunksAcross: number;
  readonly chunksDown: number;
  readonly compression: number;
  readonly photometric: number;
  readonly samplesPerPixel: number;
  readonly bitsPerSample: number;
  readonly sampleFormat: SampleFormat;
  /** 1 chunky, 2 planar */
  readonly planar: number;
  readonly predictor: number;
  readonly newSubfileType: number;
  readonly description: string;

  constructor(readonly src: FileSource, readonly ifd: Ifd, readonly littleEndian: boolean) {
    const p = src.path, where = `IFD ${ifd.index}${ifd.parent !== null ? ` (SubIFD of IFD ${ifd.parent})` : ''}`;
    const bad = (code: 'CORRUPT' | 'LIMIT' | 'UNSUPPORTED', m: string): never => { throw new SlideError(code, `${p}: ${where}: ${m}`); };
    this.width = ifd.num(TAG.ImageWidth, 0);
    this.height = ifd.num(TAG.ImageLength, 0);
    if (!ifd.hasTag(TAG.ImageWidth) || !ifd.hasTag(TAG.ImageLength)) bad('CORRUPT', 'missing ImageWidth/ImageLength');
    if (this.width < 1 || this.height < 1) bad('CORRUPT', `empty image ${this.width}×${this.height}`);
    if (this.width > LIMITS.maxDimension || this.height > LIMITS.maxDimension) {
      bad('LIMIT', `absurd dimensions ${this.width}×${this.height} (limit ${LIMITS.maxDimension} per side)`);
    }
    this.compression = ifd.num(TAG.Compression, 1);
    this.photometric = ifd.num(TAG.Photometric, this.compression === 7 ? 6 : 1);
    this.samplesPerPixel = ifd.num(TAG.SamplesPerPixel, 1);
    this.bitsPerSample = ifd.num(TAG.BitsPerSample, 1);
    const sf = ifd.num(TAG.SampleFormat, 1);
    this.sampleFormat = sf === 2 ? 'int' : sf === 3 ? 'float' : 'uint';
    this.planar = ifd.num(TAG.PlanarConfiguration, 1);
    this.predictor = ifd.num(TAG.Predictor, 1);
    this.newSubfileType = ifd.num(TAG.NewSubfileType, 0);
    this.description = ifd.str(TAG.ImageDescription) ?? '';
    if (this.samplesPerPixel < 1 || this.samplesPerPixel > 64) bad('CORRUPT', `SamplesPerPixel ${this.samplesPerPixel}`);
    this.tiled = ifd.hasTag(TAG.TileWidth) || ifd.hasTag(TAG.TileOffsets);
    if (this.tiled) {
      this.chunkWidth = ifd.num(TAG.TileWidth, 0);
      this.chunkHeight = ifd.num(TAG.TileLength, 0);
      if (this.chunkWidth < 1 || this.chunkHeight < 1) bad('CORRUPT', `invalid tile size ${this.chunkWidth}×${this.chunkHeight}`);
      if (!ifd.hasTag(TAG.TileOffsets) || !ifd.hasTag(TAG.TileByteCounts)) bad('CORRUPT', 'tiled image without TileOffsets/TileByteCounts');
    } else {
      this.chunkWidth = this.width;
      const rps = ifd.num(TAG.RowsPerStrip, this.height);
      this.chunkHeight = Math.max(1, Math.min(rps, this.height));
      if (!ifd.hasTag(TAG.StripOffsets)) bad('CORRUPT', 'image has neither tiles nor strips (no StripOffsets)');
    }
    if (this.chunkWidth * this.chunkHeight > LIMITS.maxTilePixels) {
      bad('LIMIT', `tile/strip of ${this.chunkWidth}×${this.chunkHeight} px exceeds the ${LIMITS.maxTilePixels}-pixel limit`);
    }
    this.chunksAcross = Math.ceil(this.width / this.chunkWidth);
    this.chunksDown = Math.ceil(this.height / this.chunkHeight);
    const planes = this.planar === 2 ? this.samplesPerPixel : 1;
    const n = this.chunksAcross * this.chunksDown * planes;
    if (n > LIMITS.maxTiles) bad('LIMIT', `absurd tile count ${n} (limit ${LIMITS.maxTiles})`);
    const offTag = this.tiled ? TAG.TileOffsets : TAG.StripOffsets;
    const cntTag = this.tiled ? TAG.TileByteCounts : TAG.StripByteCounts;
    if (ifd.count(offTag) < n) bad('CORRUPT', `${this.tiled ? 'TileOffsets' : 'StripOffsets'} has ${ifd.count(offTag)} entries, ${n} needed`);
    if (ifd.hasTag(cntTag) && ifd.count(cntTag) < n) bad('CORRUPT', `${this.tiled ? 'TileByteCounts' : 'StripByteCounts'} has ${ifd.count(cntTag)} entries, ${n} needed`);
  }

  get compressionName(): string { return compressionName(this.compression); }
  get photometricName(): string { return PHOTOMETRIC_NAMES[this.photometric] ?? `photometric-${this.photometric}`; }
  get isReduced(): boolean { return (this.newSubfileType & 1) === 1; }

  /** chunk index for (col,row[,plane]) */
  chunkIndex(col: number, row: number, plane = 0): number {
    return plane * this.chunksAcross * this.chunksDown + row * this.chunksAcross + col;
  }

  /** Offset and byte count of a chunk (tag arrays loaded once, then cached). */
  async chunkRange(index: number, signal?: AbortSignal): Promise<{ offset: number; length: number }> {
    const offTag = this.tiled ? TAG.TileOffsets : TAG.StripOffsets;
    const cntTag = this.tiled ? TAG.TileByteCounts : TAG.StripByteCounts;
    const offset = await this.ifd.loadValueIndexed(offTag, index, signal);
    let length = this.ifd.hasTag(cntTag) ? await this.ifd.loadValueIndexed(cntTag, index, signal) : undefined;
    if (offset === undefined || !Number.isFinite(offset)) {
      throw new SlideError('CORRUPT', `${this.src.path}: IFD ${this.ifd.index}: no offset for tile/strip ${index}`);
    }
    if (length === undefined) length = this.src.size - offset; // missing byte counts: read to EOF (bounded by limits)
    return { offset, length };
  }

  /** Raw compressed bytes of one chunk; a zero-length chunk (sparse tile) returns an empty array. */
  async readChunk(index: number, signal?: AbortSignal): Promise<Uint8Array> {
    const { offset, length } = await this.chunkRange(index, signal);
    if (length === 0) return new Uint8Array(0);
    return this.src.read(offset, length, signal, `tile/strip ${index} of IFD ${this.ifd.index}`);
  }
}

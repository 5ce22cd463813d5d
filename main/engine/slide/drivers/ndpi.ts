/**
 * hamamatsu-ndpi: detected by tag 65420 (NDPI format flag). Pyramid levels = IFDs with SourceLens (65421) > 0,
 * each ONE JPEG strip served as virtual tiles by ../../tiff/ndpi.ts (restart-marker random access:
 * only the tile's bytes are read). SourceLens -1 = macro. Metadata: tag 65449 "key=value" lines and the
 * offset tags -> hamamatsu.*; objective power = SourceLens; mpp from the TIFF resolution tags (OpenSlide does
 * the same: NDPI has no other scale).
 * Not done: the virtual levels OpenSlide adds below the smallest stored level (JPEG scaled decoding), and
 * the high words of StripOffsets in > 4 GiB files (McuStarts high words, tag 65432, are applied).
 */
import type { Driver, DriverResult } from '../driver.js';
import { TAG, type TiffFile, type TiffImage, type FileSource, throwIfAborted } from '../../tiff/index.js';
import { combineNdpiMcuStarts, indexNdpiStrip, readNdpiTileJpeg, decodeNdpiTile, ndpiTileSize, type NdpiLevelIndex, type NdpiRead } from '../../tiff/ndpi.js';
import { ImageLevel, type LevelSource } from '../levels.js';
import { chooseMapping, assertDecodable } from '../mapping.js';
import { RawProps, addTiffProps, pixelInfo } from '../properties.js';
import { SlideError, type EncodedTile, type RgbImage } from '../types.js';

const SOURCE_LENS = 65421, X_OFFSET = 65422, Y_OFFSET = 65423, FOCAL_PLANE = 65424, REFERENCE = 65427, PROPERTY_MAP = 65449;

/** ../../tiff/ndpi.ts names the strip, not the file: prefix the file path to its errors. */
async function named<T>(name: string, f: () => Promise<T>): Promise<T> {
  try { return await f(); } catch (e) {
    if (e instanceof SlideError && !e.message.includes(name.split(': ')[0])) throw new SlideError(e.code, `${name}: ${e.message}`, { cause: e });
    throw e;
  }
}

class NdpiLevel implements LevelSource {
  readonly compression = 'jpeg';
  constructor(private readonly idx: NdpiLevelIndex, private readonly read: NdpiRead, private readonly name: string, readonly origin?: string) {}
  label?: string;
  async checkExtent(fileSize: number): Promise<string | null> {
    const end = this.idx.stripOffset + this.idx.stripByteCount;
    return end <= fileSize ? null : `its JPEG strip ends at byte ${end}, past the end of the file (${fileSize} bytes)`;
  }
  get width() { return this.idx.width; }
  get height() { return this.idx.height; }
  get tileWidth() { return this.idx.tileWidth; }
  get tileHeight() { return this.idx.tileHeight; }
  get tilesAcross() { return this.idx.tilesAcross; }
  get tilesDown() { return this.idx.tilesDown; }
  async readTile(col: number, row: number, signal?: AbortSignal): Promise<RgbImage> {
    throwIfAborted(signal, this.name);
    const t = await named(this.name, () => decodeNdpiTile(this.idx, this.read, col, row));
    throwIfAborted(signal, this.name);
    return t;
  }
  async readEncoded(col: number, row: number, signal?: AbortSignal): Promise<EncodedTile | null> {
    throwIfAborted(signal, this.name);
    const bytes = await named(this.name, () => readNdpiTileJpeg(this.idx, this.read, col, row));
    const { width, height } = ndpiTileSize(this.idx, col, row);
    throwIfAborted(signal, this.name);
    return { mime: 'image/jpeg', bytes, width, height };
  }
}

function readerFor(src: FileSource): NdpiRead {
  return (offset, length) => src.read(offset, Math.max(0, Math.min(length, src.size - offset)), undefined, 'NDPI strip data');
}

async function ndpiLevel(tf: TiffFile, im: TiffImage): Promise<LevelSource> {
  assertDecodable(im);
  const name = `${tf.path}: NDPI level IFD ${im.ifd.index}`;
  if (im.tiled || im.chunksDown !== 1 || im.compression !== 7) {
    return new ImageLevel([im], await chooseMapping([im], [im], new RawProps())); // not the usual one-strip layout
  }
  const { offset, length } = await im.chunkRange(0);
  const low = await im.ifd.loadValue(TAG.NdpiMcuStarts);
  const high = await im.ifd.loadValue(TAG.NdpiMcuStartsHigh);
  const starts = Array.isArray(low) ? combineNdpiMcuStarts(low, Array.isArray(high) ? high : null) : null;
  const idx = await named(name, () => indexNdpiStrip(readerFor(tf.src), offset, length, starts, { width: im.width, height: im.height, name }));
  return new NdpiLevel(idx, readerFor(tf.src), name, `IFD ${im.ifd.index}`);
}

export const hamamatsuNdpi: Driver = {
  id: 'hamamatsu-ndpi',
  detect: (tf) => tf.ifds[0]?.hasTag(TAG.NdpiFormatFlag) ?? false,
  async open(tf: TiffFile): Promise<DriverResult> {
    const pyramid: TiffImage[] = [];
    let macro: TiffImage | null = null;
    for (const ifd of tf.ifds) {
      const lens = ifd.num(SOURCE_LENS, 0);
      if (lens > 0) pyramid.push(tf.image(ifd));
      else if (lens === -1 && !macro) macro = tf.image(ifd);
    }
    if (pyramid.length === 0) pyramid.push(tf.image(tf.ifds[0]));
    pyramid.sort((a, b) => b.width * b.height - a.width * a.height);
    const ifd0 = pyramid[0].ifd;
    const raw = new RawProps();
    const warnings: string[] = [];
    addTiffProps(raw, ifd0);
    const lens = ifd0.num(SOURCE_LENS, NaN);
    if (Number.isFinite(lens)) raw.set('hamamatsu.SourceLens', String(Math.fround(lens)));
    if (ifd0.hasTag(X_OFFSET)) raw.set('hamamatsu.XOffsetFromSlideCentre', ifd0.num(X_OFFSET, 0));
    if (ifd0.hasTag(Y_OFFSET)) raw.set('hamamatsu.YOffsetFromSlideCentre', ifd0.num(Y_OFFSET, 0));
    if (ifd0.hasTag(FOCAL_PLANE)) raw.set('hamamatsu.FocalPlane', ifd0.num(FOCAL_PLANE, 0));
    const ref = await ifd0.loadValue(REFERENCE);
    if (typeof ref === 'string') raw.set('hamamatsu.Reference', ref);
    const map = await ifd0.loadValue(PROPERTY_MAP);
    if (typeof map === 'string') {
      for (const line of map.split(/\r?\n/)) {
        const eq = line.indexOf('=');
        if (eq > 0) raw.set(`hamamatsu.${line.slice(0, eq)}`, line.slice(eq + 1));
      }
    }
    const levels: LevelSource[] = [];
    for (const [i, im] of pyramid.entries()) {
      try {
        levels.push(await ndpiLevel(tf, im));
      } catch (e) { // a broken reduced level is left out (with a warning); a broken level 0 fails the open
        if (i === 0 || !(e instanceof SlideError) || e.code !== 'CORRUPT') throw e;
        warnings.push(`level ${im.width}×${im.height} (IFD ${im.ifd.index}) skipped: ${e.message}`);
      }
    }
    const associated: Record<string, LevelSource> = {};
    if (macro) {
      try { associated.macro = new ImageLevel([macro], await chooseMapping([macro], [macro], new RawProps())); } catch (e) {
        warnings.push(`associated image 'macro' was skipped (${(e as Error).message})`);
      }
    }
    return {
      vendor: 'hamamatsu',
      levels,
      associated,
      vendorMpp: null,
      resolutionIfd: ifd0,
      objectivePower: Number.isFinite(lens) && lens > 0 ? lens : null,
      pixel: { ...pixelInfo(pyramid[0]), photometric: pyramid[0].photometricName },
      hasIccProfile: ifd0.hasTag(TAG.ICCProfile),
      raw,
      warnings,
    };
  },
};

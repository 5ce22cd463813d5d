/**
 * Chunk (tile / strip) decoders.
 * - JPEG (7): complete JPEG (tables merged, APP14 for RGB) decoded by sharp, i.e. libvips/libjpeg-turbo
 *   in libvips' thread pool, off the JS thread.
 * - Every other compression goes through the one codec registry (./codec-registry.mjs), which says which
 *   compressions exist and what they decode to: 'samples' (none / LZW / Deflate / PackBits, ./raw-codecs.mjs,
 *   output capped at one full chunk: decompression bombs are refused, never allocated) or 'pixels' (Aperio
 *   JPEG 2000 33003 / 33005, header checked in ./jpeg2000.ts). Large chunks (16 KiB compressed, 64×64 J2K
 *   pixels) run the same registry decoders in the codec worker pool (./decode-pool.ts decodeRegistered).
 *   JPEG, the hot path of every real slide here, runs in libvips' threads.
 * - JPEG frames are checked against the tile size before decoding (checkJpegFrame) and sharp's
 *   limitInputPixels is set to the expected (MCU-padded) tile pixels.
 * The predictor (2, horizontal differencing) and 16-bit byte order are applied here, after decompression,
 * so big-endian files decode correctly (geotiff applies the predictor in native order).
 */
import sharp from 'sharp';
import { SlideError } from '../errors.js';
import type { TiffImage } from './image.js';
import { completeJpeg, jpegPrefix } from './jpeg.js';
import { parseJpegHeader } from './jpeg-markers.js';
import { decodeRegistered, INLINE_MAX_BYTES } from './decode-pool.js';
import { ChunkTooLarge } from './raw-codecs.mjs';
import { decoderInfo, registeredNames } from './codec-registry.mjs';
import { isAbortError } from '../../base/abort.js';
import { TAG } from './tags.js';

/** Interleaved samples of one decoded chunk. */
export interface DecodedChunk {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** samples per pixel in `data` */
  channels: number;
  bits: 8 | 16;
}

/** TIFF JPEG: decoded by sharp (or passed through), not by the registry. */
const JPEG = 7;

export function isJpeg(img: TiffImage): boolean { return img.compression === JPEG; }

/** Whether we can decode this image's chunks at all; else a message naming the problem. */
export function unsupportedReason(img: TiffImage): string | null {
  const c = img.compression;
  const codec = decoderInfo(c);
  if (c !== JPEG && !codec) {
    return `unsupported compression ${c} (${img.compressionName}): Glassbox decodes JPEG (7), ${registeredNames()}`;
  }
  if (codec?.kind === 'samples') {
    if (img.sampleFormat === 'float') return `unsupported sample format float (${img.bitsPerSample}-bit)`;
    if (img.bitsPerSample !== 8 && img.bitsPerSample !== 16) return `unsupported BitsPerSample ${img.bitsPerSample} (8 and 16 are supported)`;
    if (img.photometric === 6) return 'unsupported uncompressed YCbCr';
    if (img.predictor !== 1 && img.predictor !== 2) return `unsupported predictor ${img.predictor}`;
  }
  return null;
}

interface JpegState { prefix: Uint8Array; rgb: boolean }
const jpegState = new WeakMap<TiffImage, Promise<JpegState>>();

async function jpegStateFor(img: TiffImage, signal?: AbortSignal): Promise<JpegState> {
  let p = jpegState.get(img);
  if (!p) {
    p = (async () => {
      const t = await img.ifd.loadValue(TAG.JPEGTables, signal);
      const rgb = img.photometric === 2;
      return { prefix: jpegPrefix(t instanceof Uint8Array ? t : undefined, rgb), rgb };
    })();
    jpegState.set(img, p);
    p.catch(() => jpegState.delete(img));
  }
  return p;
}

/** Expected pixel size of one chunk's JPEG frame: the visible part must be covered; MCU padding allowed. */
export interface JpegExpect {
  /** declared chunk size (tile size, or width × rows of this strip) */
  width: number;
  height: number;
  /** smallest acceptable frame (edge tiles written cropped); defaults to width × height */
  minWidth?: number;
  minHeight?: number;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

/**
 * Parses the JPEG frame header (SOF) and refuses a frame whose size does not match the chunk:
 * SlideError CORRUPT naming `what` (file, level, tile) and both sizes. Returns the largest acceptable
 * frame pixel count (for sharp's limitInputPixels).
 */
export function checkJpegFrame(jpeg: Uint8Array, exp: JpegExpect, what: string): number {
  const hdr = parseJpegHeader(jpeg, what);
  if (!hdr) throw new SlideError('CORRUPT', `${what}: JPEG header incomplete (no scan found in ${jpeg.length} bytes)`);
  const maxW = roundUp(exp.width, hdr.mcuWidth), maxH = roundUp(exp.height, hdr.mcuHeight);
  const minW = exp.minWidth ?? exp.width, minH = exp.minHeight ?? exp.height;
  if (hdr.width < minW || hdr.height < minH || hdr.width > maxW || hdr.height > maxH) {
    throw new SlideError('CORRUPT', `${what}: JPEG frame is ${hdr.width}×${hdr.height} but the tile is ${exp.width}×${exp.height}` +
      ` (accepted ${minW}..${maxW} × ${minH}..${maxH} with MCU padding): corrupt tile or decompression bomb, refused`);
  }
  return maxW * maxH;
}

/** A chunk's bytes as a complete standalone JPEG (pass-through); its frame size is checked when `exp` is given. */
export async function chunkAsJpeg(img: TiffImage, chunk: Uint8Array, what: string, signal?: AbortSignal, exp?: JpegExpect): Promise<Uint8Array> {
  const st = await jpegStateFor(img, signal);
  const jpeg = completeJpeg(st.prefix, chunk, st.rgb, what);
  if (exp) checkJpegFrame(jpeg, exp, what);
  return jpeg;
}

/**
 * Decodes any standalone JPEG with sharp to 8-bit interleaved samples (1 or 3 channels).
 * `maxPixels`: sharp's limitInputPixels (the expected frame size where known).
 */
export async function decodeJpegBytes(jpeg: Uint8Array, what: string, maxPixels = 1 << 28): Promise<DecodedChunk> {
  try {
    const { data, info } = await sharp(jpeg, { failOn: 'error', limitInputPixels: Math.max(1, maxPixels) }).raw().toBuffer({ resolveWithObject: true });
    let d = new Uint8Array(data.buffer, data.byteOffset, data.length);
    let ch = info.channels;
    if (ch === 2 || ch === 4) { // drop alpha / CMYK K is not expected in slides: keep the colour channels
      const keep = ch === 2 ? 1 : 3;
      const out = new Uint8Array(info.width * info.height * keep);
      for (let i = 0, j = 0; i < d.length; i += ch) for (let k = 0; k < keep; k++) out[j++] = d[i + k];
      d = out; ch = keep;
    }
    return { data: d, width: info.width, height: info.height, channels: ch, bits: 8 };
  } catch (e) {
    throw new SlideError('CORRUPT', `${what}: JPEG decode failed (${(e as Error).message})`, { cause: e });
  }
}

function undoPredictor(data: Uint8Array | Uint16Array, width: number, height: number, spp: number): void {
  const row = width * spp;
  for (let y = 0; y < height; y++) {
    const base = y * row;
    if (data instanceof Uint16Array) {
      for (let i = base + spp; i < base + row; i++) data[i] = (data[i] + data[i - spp]) & 0xffff;
    } else {
      for (let i = base + spp; i < base + row; i++) data[i] = (data[i] + data[i - spp]) & 0xff;
    }
  }
}

/**
 * Decodes one chunk. `rows` = rows of image data this chunk holds (last strip may be short).
 * The result has width = chunkWidth and height = rows (JPEG tiles: their encoded size).
 */
export async function decodeChunk(img: TiffImage, chunk: Uint8Array, rows: number, what: string, signal?: AbortSignal, visible?: { w: number; h: number }): Promise<DecodedChunk> {
  const reason = unsupportedReason(img);
  if (reason) throw new SlideError('UNSUPPORTED', `${what}: ${reason}`);
  const c = img.compression;
  if (c === JPEG) {
    const exp: JpegExpect = img.tiled
      ? { width: img.chunkWidth, height: img.chunkHeight, minWidth: visible?.w, minHeight: visible?.h }
      // strips: this strip's rows; a last strip written at full RowsPerStrip height is accepted too
      : { width: img.chunkWidth, height: rows, minHeight: Math.min(rows, visible?.h ?? rows) };
    const jpeg = await chunkAsJpeg(img, chunk, what, signal);
    const maxPixels = checkJpegFrame(jpeg, img.tiled ? exp : { ...exp, height: Math.max(rows, img.chunkHeight) }, what);
    return decodeJpegBytes(jpeg, what, maxPixels);
  }
  if (decoderInfo(c)?.kind === 'pixels') {
    const { decodeAperioJ2k } = await import('./jpeg2000.js');
    const r = await decodeAperioJ2k(chunk, c, what, signal);
    return { data: r.data, width: r.width, height: r.height, channels: r.components, bits: 8 };
  }
  const w = img.chunkWidth;
  const spp = img.planar === 2 ? 1 : img.samplesPerPixel;
  const bytesPer = img.bitsPerSample / 8;
  const need = w * rows * spp * bytesPer;
  // a full chunk (a last strip may be written at full RowsPerStrip height): anything larger is refused
  const maxBytes = w * Math.max(rows, img.chunkHeight) * spp * bytesPer;
  let raw: Uint8Array;
  try {
    // large chunks off the event loop (capped in the worker); 'none' costs less than the round trip
    raw = (await decodeRegistered(c, chunk, { maxBytes }, c !== 1 && chunk.length >= INLINE_MAX_BYTES, what, signal)).data;
  } catch (e) {
    if (isAbortError(e)) throw e; // names `what`
    if (e instanceof ChunkTooLarge) throw new SlideError('CORRUPT', `${what}: ${e.message}; refused`, { cause: e });
    throw new SlideError('CORRUPT', `${what}: ${img.compressionName} decode failed (${(e as Error).message})`, { cause: e });
  }
  if (raw.byteLength < need) {
    throw new SlideError('CORRUPT', `${what}: decoded ${raw.byteLength} bytes, expected ${need} (${w}×${rows}×${spp}×${bytesPer}): truncated or corrupt data`);
  }
  let data: Uint8Array | Uint16Array;
  if (bytesPer === 2) {
    const native = new Uint16Array(rows * w * spp);
    const dv = new DataView(raw.buffer, raw.byteOffset, need);
    for (let i = 0; i < native.length; i++) native[i] = dv.getUint16(i * 2, img.littleEndian);
    data = native;
  } else {
    // exact-size copy: never keep a view into a larger buffer (or into the file read)
    data = raw.slice(0, need);
  }
  if (img.predictor === 2) undoPredictor(data, w, rows, spp);
  return { data, width: w, height: rows, channels: spp, bits: bytesPer === 2 ? 16 : 8 };
}

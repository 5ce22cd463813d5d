/**
 * JPEG 2000 tile decoding (Aperio compression 33003 = YCbCr J2K, 33005 = RGB J2K) through the
 * OpenJPEG WebAssembly build in @cornerstonejs/codec-openjpeg.
 *
 * - The WASM module is instantiated once, lazily, on the first decode.
 * - Each decode creates a J2KDecoder and deletes it in `finally`, so the WASM heap does not grow per tile.
 * - OpenJPEG reports problems through print/printErr instead of throwing: we capture its "[ERROR]" lines
 *   per decode and turn them into SlideError('CORRUPT').
 * - Output is 8-bit interleaved (RGB for 3 components).
 *
 * Colour (as OpenSlide does): 33005 tiles are RGB after OpenJPEG applies the codestream's multi-component
 * transform. 33003 tiles hold YCbCr components; when the codestream does not apply a multi-component
 * transform itself (COD MCT = 0) we convert YCbCr → RGB (JPEG/JFIF full-range equations).
 */
import { createRequire } from 'node:module';
import { SlideError } from '../slide/types.js';

export interface DecodedJpeg2000 {
  data: Uint8Array;
  width: number;
  height: number;
  components: number;
}

/** The main-header facts we need from a raw J2K codestream (SIZ + COD). */
export interface J2kHeader {
  width: number;
  height: number;
  components: number;
  /** bit depth per component */
  bitDepths: number[];
  /** per-component subsampling (XRsiz, YRsiz) */
  subsampling: Array<[number, number]>;
  /** COD multiple-component-transform flag: 1 = the decoder applies ICT/RCT and outputs RGB */
  mct: number;
}

/** Aperio JPEG 2000 compression numbers. */
export const APERIO_J2K_YCBCR = 33003;
export const APERIO_J2K_RGB = 33005;

/** Safety limit for one tile's decoded size (pixels). */
const MAX_TILE_PIXELS = 4096 * 4096; // the OpenJPEG WASM heap never shrinks: keep one tile bounded

interface J2KDecoderInstance {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  delete(): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoderInstance;
}

let modulePromise: Promise<OpenJpegModule> | null = null;
/** messages OpenJPEG printed during the current (synchronous) decode */
let captured: string[] = [];

function loadModule(): Promise<OpenJpegModule> {
  if (!modulePromise) {
    modulePromise = (async () => {
      const require = createRequire(import.meta.url);
      const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as (opts: object) => Promise<OpenJpegModule>;
      let wasmPath: string | null = null;
      try { wasmPath = require.resolve('@cornerstonejs/codec-openjpeg/decodewasm'); } catch { /* let the loader find it */ }
      return factory({
        print: (s: string) => { if (captured.length < 50) captured.push(String(s)); },
        printErr: (s: string) => { if (captured.length < 50) captured.push(String(s)); },
        ...(wasmPath ? { locateFile: (p: string) => (p.endsWith('.wasm') ? wasmPath : p) } : {}),
      });
    })();
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

/**
 * Parse the main header of a raw J2K codestream (SOC, SIZ, …, COD). Throws SlideError('CORRUPT') when it
 * is not a codestream or the header is cut short.
 */
export function parseJ2kHeader(bytes: Uint8Array): J2kHeader {
  const n = bytes.length;
  const u16 = (p: number) => (bytes[p] << 8) | bytes[p + 1];
  const u32 = (p: number) => ((bytes[p] << 24) >>> 0) + (bytes[p + 1] << 16) + (bytes[p + 2] << 8) + bytes[p + 3];
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0x4f) {
    throw new SlideError('CORRUPT', `JPEG 2000 tile: not a J2K codestream (expected SOC FF 4F, got ${hex(bytes, 0, 2)})`);
  }
  let p = 2;
  let siz: Omit<J2kHeader, 'mct'> | null = null;
  while (p + 4 <= n) {
    if (bytes[p] !== 0xff) throw new SlideError('CORRUPT', `JPEG 2000 tile: marker expected at byte ${p}, got ${hex(bytes, p, 2)}`);
    const marker = bytes[p + 1];
    if (marker === 0x90 /* SOT */ || marker === 0x93 /* SOD */ || marker === 0xd9 /* EOC */) break;
    const len = u16(p + 2);
    if (len < 2 || p + 2 + len > n) throw new SlideError('CORRUPT', `JPEG 2000 tile: marker segment FF${marker.toString(16)} at byte ${p} runs past the end (${n} bytes)`);
    const s = p + 4; // segment body
    if (marker === 0x51) { // SIZ
      if (len < 38) throw new SlideError('CORRUPT', 'JPEG 2000 tile: SIZ segment too short');
      const xsiz = u32(s + 2), ysiz = u32(s + 6), xo = u32(s + 10), yo = u32(s + 14);
      const csiz = u16(s + 34);
      if (csiz < 1 || csiz > 16 || len < 38 + 3 * csiz) throw new SlideError('CORRUPT', `JPEG 2000 tile: SIZ has ${csiz} components`);
      const bitDepths: number[] = [];
      const subsampling: Array<[number, number]> = [];
      for (let c = 0; c < csiz; c++) {
        const q = s + 36 + 3 * c;
        bitDepths.push((bytes[q] & 0x7f) + 1);
        subsampling.push([bytes[q + 1], bytes[q + 2]]);
      }
      siz = { width: xsiz - xo, height: ysiz - yo, components: csiz, bitDepths, subsampling };
    } else if (marker === 0x52) { // COD: Scod, progression, layers(2), MCT
      if (!siz) throw new SlideError('CORRUPT', 'JPEG 2000 tile: COD before SIZ');
      return { ...siz, mct: bytes[s + 4] };
    }
    p += 2 + len;
  }
  throw new SlideError('CORRUPT', `JPEG 2000 tile: main header incomplete (${siz ? 'no COD' : 'no SIZ'} in ${n} bytes)`);
}

function hex(b: Uint8Array, at: number, len: number): string {
  return Array.from(b.subarray(at, at + len), (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ') || '(nothing)';
}

/** Refuses a header we do not decode (size limit, bit depth, subsampling), before any decoding work. */
export function checkJ2kHeader(header: J2kHeader): void {
  if (header.width <= 0 || header.height <= 0 || header.width * header.height > MAX_TILE_PIXELS) {
    throw new SlideError('LIMIT', `JPEG 2000 tile: size ${header.width}×${header.height} is outside the limit`);
  }
  if (header.bitDepths.some((d) => d !== 8)) {
    throw new SlideError('UNSUPPORTED', `JPEG 2000 tile: bit depth ${header.bitDepths.join('/')} (only 8-bit is supported)`);
  }
  if (header.subsampling.some(([dx, dy]) => dx !== 1 || dy !== 1)) {
    throw new SlideError('UNSUPPORTED', `JPEG 2000 tile: subsampled components (${header.subsampling.map((s) => s.join('×')).join(', ')}) are not supported`);
  }
}

/**
 * Decode a raw JPEG 2000 codestream to 8-bit interleaved samples. No colour conversion here:
 * use `decodeAperioJ2k` (or `ycbcrToRgbInPlace`) for Aperio tiles.
 */
export async function decodeJpeg2000(bytes: Uint8Array): Promise<DecodedJpeg2000> {
  const header = parseJ2kHeader(bytes);
  checkJ2kHeader(header);
  const mod = await loadModule();
  const decoder = new mod.J2KDecoder();
  captured = [];
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    try {
      decoder.decode();
    } catch (e) {
      throw new SlideError('CORRUPT', `JPEG 2000 tile: OpenJPEG failed (${errorText(e)})`, { cause: e });
    }
    const errors = captured.filter((m) => m.includes('[ERROR]'));
    const info = decoder.getFrameInfo();
    if (errors.length > 0 || info.width === 0 || info.height === 0) {
      throw new SlideError('CORRUPT', `JPEG 2000 tile: broken codestream (${errors.map((m) => m.replace('[ERROR] ', '').trim()).join('; ') || 'nothing decoded'})`);
    }
    if (info.bitsPerSample !== 8 || info.componentCount !== header.components || info.width !== header.width || info.height !== header.height) {
      throw new SlideError('CORRUPT', `JPEG 2000 tile: decoder gave ${info.width}×${info.height}×${info.componentCount} @${info.bitsPerSample} bit, header says ${header.width}×${header.height}×${header.components}`);
    }
    const decoded = decoder.getDecodedBuffer();
    const expected = info.width * info.height * info.componentCount;
    if (decoded.length !== expected) {
      throw new SlideError('CORRUPT', `JPEG 2000 tile: decoded ${decoded.length} bytes, expected ${expected}`);
    }
    // copy out of the WASM heap before the decoder (and its buffer) is freed
    const data = new Uint8Array(expected);
    data.set(decoded);
    return { data, width: info.width, height: info.height, components: info.componentCount };
  } finally {
    captured = [];
    decoder.delete();
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'number') return `WASM exception ${e}`;
  return String(e);
}

/** YCbCr (JFIF, full range) → RGB in place on interleaved 3-component 8-bit data. */
export function ycbcrToRgbInPlace(data: Uint8Array): Uint8Array {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i], cb = data[i + 1] - 128, cr = data[i + 2] - 128;
    data[i] = clamp(y + 1.402 * cr);
    data[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clamp(y + 1.772 * cb);
  }
  return data;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** True when an Aperio tile of this compression needs YCbCr → RGB after decoding. */
export function aperioJ2kNeedsYcbcrConversion(compression: number, header: J2kHeader): boolean {
  return compression === APERIO_J2K_YCBCR && header.components === 3 && header.mct === 0;
}

/**
 * Decode one Aperio JPEG 2000 tile (33003 or 33005) to interleaved 8-bit RGB, converting YCbCr when the
 * codestream leaves it to us. Grey (1 component) tiles are expanded to RGB.
 */
export async function decodeAperioJ2k(bytes: Uint8Array, compression: number): Promise<DecodedJpeg2000> {
  if (compression !== APERIO_J2K_YCBCR && compression !== APERIO_J2K_RGB) {
    throw new SlideError('UNSUPPORTED', `compression ${compression} is not Aperio JPEG 2000 (33003/33005)`);
  }
  const header = parseJ2kHeader(bytes);
  const img = await decodeJpeg2000(bytes);
  if (img.components === 3) {
    if (aperioJ2kNeedsYcbcrConversion(compression, header)) ycbcrToRgbInPlace(img.data);
    return img;
  }
  if (img.components === 1) {
    const rgb = new Uint8Array(img.width * img.height * 3);
    for (let i = 0, j = 0; i < img.data.length; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = img.data[i];
    return { data: rgb, width: img.width, height: img.height, components: 3 };
  }
  throw new SlideError('UNSUPPORTED', `JPEG 2000 tile: ${img.components} components (expected 1 or 3)`);
}

/** Size of the OpenJPEG WASM heap in bytes (null before the first decode): lets tests check it stays flat. */
export async function jpeg2000HeapBytes(): Promise<number | null> {
  if (!modulePromise) return null;
  const mod = (await modulePromise) as OpenJpegModule & { HEAPU8?: Uint8Array };
  return mod.HEAPU8?.length ?? null;
}

/**
 * For S1's adapter: convert a decoded 33003 tile in place from YCbCr to RGB, unless its codestream (`codestream`,
 * the raw tile bytes) applied a multi-component transform itself (then the data is already RGB).
 */
export function aperioYcbcrToRgb(codestream: Uint8Array, data: Uint8Array): void {
  if (aperioJ2kNeedsYcbcrConversion(APERIO_J2K_YCBCR, parseJ2kHeader(codestream))) ycbcrToRgbInPlace(data);
}

/**
 * JPEG 2000 tile decoding (Aperio compression 33003 = YCbCr J2K, 33005 = RGB J2K): the header is parsed and
 * checked here; the decode itself is the registry's (./codec-registry.mjs → ./openjpeg.mjs, the OpenJPEG
 * WebAssembly core shared with the codec worker), so inline and pooled decodes run the same code.
 *
 * - The WASM module is instantiated once per thread, lazily, on the first decode; each decode frees its decoder.
 * - OpenJPEG's "[ERROR]" lines become SlideError('CORRUPT').
 * - Output is 8-bit interleaved (RGB for 3 components).
 *
 * Colour (as OpenSlide does): 33005 tiles are RGB after OpenJPEG applies the codestream's multi-component
 * transform. 33003 tiles hold YCbCr components; when the codestream does not apply a multi-component
 * transform itself (COD MCT = 0) we convert YCbCr → RGB (JPEG/JFIF full-range equations).
 */
import { SlideError, type SlideErrorCode } from '../errors.js';
import { isAbortError } from '../../base/abort.js';
import { CodecError, decodeJ2kCodestream, heapBytes, ycbcrToRgbInPlace } from './openjpeg.mjs';
import { decodeRegistered, INLINE_MAX_PIXELS } from './decode-pool.js';

export { ycbcrToRgbInPlace };

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
  return asSlideError(() => decodeJ2kCodestream(bytes, header));
}

/** CodecError (from the shared core) → SlideError with the same code and message. */
async function asSlideError<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CodecError) throw new SlideError(e.code as SlideErrorCode, e.message, { cause: e });
    throw e;
  }
}

/** True when an Aperio tile of this compression needs YCbCr → RGB after decoding. */
export function aperioJ2kNeedsYcbcrConversion(compression: number, header: J2kHeader): boolean {
  return compression === APERIO_J2K_YCBCR && header.components === 3 && header.mct === 0;
}

/**
 * The one Aperio JPEG 2000 tile decode (33003 or 33005) to interleaved 8-bit RGB, converting YCbCr when the
 * codestream leaves it to us; grey (1 component) tiles are expanded to RGB. The header is parsed and checked
 * here; the decode is the codec registry's, in the codec pool for tiles of 64×64 pixels or more
 * (./decode-pool.ts decodeRegistered), else on this thread: the same code and errors either way.
 * Errors: SlideError, its message prefixed with `what` when given; an abort is AbortError naming `what`.
 */
export async function decodeAperioJ2k(bytes: Uint8Array, compression: number, what?: string, signal?: AbortSignal): Promise<DecodedJpeg2000> {
  try {
    if (compression !== APERIO_J2K_YCBCR && compression !== APERIO_J2K_RGB) {
      throw new SlideError('UNSUPPORTED', `compression ${compression} is not Aperio JPEG 2000 (33003/33005)`);
    }
    const header = parseJ2kHeader(bytes);
    checkJ2kHeader(header);
    const params = { width: header.width, height: header.height, components: header.components, ycbcr: aperioJ2kNeedsYcbcrConversion(compression, header) };
    const offload = header.width * header.height >= INLINE_MAX_PIXELS;
    const r = await decodeRegistered(compression, bytes, params, offload, what ?? 'JPEG 2000 tile', signal);
    return { data: r.data, width: r.width!, height: r.height!, components: r.components! };
  } catch (e) {
    if (isAbortError(e)) throw e; // already names `what`
    const err = e instanceof SlideError ? e
      : e instanceof CodecError ? new SlideError(e.code as SlideErrorCode, e.message, { cause: e })
      : new SlideError('CORRUPT', `JPEG 2000 decode failed (${(e as Error).message})`, { cause: e });
    throw what ? new SlideError(err.code, `${what}: ${err.message}`, { cause: e }) : err;
  }
}

/** Size of the OpenJPEG WASM heap in bytes (null before the first decode): lets tests check it stays flat. */
export async function jpeg2000HeapBytes(): Promise<number | null> {
  return heapBytes();
}

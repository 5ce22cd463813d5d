/**
 * Aperio JPEG 2000 tiles (33003 = YCbCr codestream, 33005 = RGB) through helper S2's ./jpeg2000.ts
 * (OpenJPEG WASM, loaded lazily on the first tile). Tiles of at least 64×64 pixels decode in the worker pool
 * (./decode-pool.ts) so the event loop keeps serving; the header is parsed and checked here first, so the
 * errors are the same as the inline path's.
 */
import { SlideError } from '../errors.js';
import type { DecodedChunk } from './codecs.js';
import { decodePool, INLINE_MAX_PIXELS, poolEnabled } from './decode-pool.js';
import {
  APERIO_J2K_RGB, APERIO_J2K_YCBCR, aperioJ2kNeedsYcbcrConversion, checkJ2kHeader, decodeAperioJ2k as decode,
  parseJ2kHeader, type DecodedJpeg2000,
} from './jpeg2000.js';

async function decodeMaybePooled(bytes: Uint8Array, compression: number, what: string, signal?: AbortSignal): Promise<DecodedJpeg2000> {
  if (!poolEnabled() || (compression !== APERIO_J2K_YCBCR && compression !== APERIO_J2K_RGB)) return decode(bytes, compression);
  const header = parseJ2kHeader(bytes);
  if (header.width * header.height < INLINE_MAX_PIXELS) return decode(bytes, compression);
  checkJ2kHeader(header);
  return decodePool().j2k(bytes, header, aperioJ2kNeedsYcbcrConversion(compression, header), what, signal);
}

export async function decodeAperioJ2k(bytes: Uint8Array, compression: number, what: string, signal?: AbortSignal): Promise<DecodedChunk> {
  try {
    const r = await decodeMaybePooled(bytes, compression, what, signal);
    return { data: r.data, width: r.width, height: r.height, channels: r.components, bits: 8 };
  } catch (e) {
    if (e instanceof SlideError && e.code === 'ABORTED') throw e; // already names `what`
    if (e instanceof SlideError) throw new SlideError(e.code, `${what}: ${e.message}`, { cause: e });
    throw new SlideError('CORRUPT', `${what}: JPEG 2000 decode failed (${(e as Error).message})`, { cause: e });
  }
}

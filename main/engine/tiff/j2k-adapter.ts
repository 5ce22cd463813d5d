/**
 * Aperio JPEG 2000 tiles (33003 = YCbCr codestream, 33005 = RGB) through helper S2's ./jpeg2000.ts
 * (OpenJPEG WASM, loaded lazily on the first tile).
 */
import { SlideError } from '../slide/types.js';
import type { DecodedChunk } from './codecs.js';
import { decodeAperioJ2k as decode } from './jpeg2000.js';

export async function decodeAperioJ2k(bytes: Uint8Array, compression: number, what: string): Promise<DecodedChunk> {
  try {
    const r = await decode(bytes, compression);
    return { data: r.data, width: r.width, height: r.height, channels: r.components, bits: 8 };
  } catch (e) {
    if (e instanceof SlideError) throw new SlideError(e.code, `${what}: ${e.message}`, { cause: e });
    throw new SlideError('CORRUPT', `${what}: JPEG 2000 decode failed (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Bounded decompressors for TIFF Deflate (8 / 32946), LZW (5) and PackBits (32773).
 * Each one writes into (or is capped at) `maxBytes`, the size of one full chunk as the IFD declares it, and
 * refuses a stream that would produce more: a 600 KB Deflate tile that inflates to 600 MB (a decompression
 * bomb) is refused after allocating at most `maxBytes`, never the bomb's size. (geotiff's decoders grow
 * unbounded JS arrays / buffers, so they are not used for untrusted chunks.)
 *
 * Plain JavaScript (types in ./raw-codecs.d.mts) so the decode worker (./codec-worker.mjs, through ./codec-registry.mjs) imports the very same code.
 */
import { inflateSync, constants } from 'node:zlib';

export class ChunkTooLarge extends Error {}
export class ChunkCorrupt extends Error {}

/** @returns {never} */
function tooLarge(codec, maxBytes) {
  throw new ChunkTooLarge(`${codec} data decompresses to more than the ${maxBytes} bytes one chunk can hold (corrupt data or a decompression bomb)`);
}

export function inflateBounded(src, maxBytes) {
  try {
    // Z_SYNC_FLUSH: a stream without its final block still yields what it has (the size check follows)
    const b = inflateSync(src, { maxOutputLength: Math.max(1, maxBytes), finishFlush: constants.Z_SYNC_FLUSH });
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  } catch (e) {
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) tooLarge('Deflate', maxBytes);
    throw new ChunkCorrupt(`Deflate: ${e.message}`);
  }
}

export function packBitsBounded(src, maxBytes) {
  const out = new Uint8Array(maxBytes);
  let i = 0, o = 0;
  const n = src.length;
  while (i < n) {
    const h = (src[i++] << 24) >> 24;
    if (h >= 0) {
      const k = h + 1;
      if (o + k > maxBytes) tooLarge('PackBits', maxBytes);
      if (i + k > n) throw new ChunkCorrupt('PackBits: literal run past the end of the data');
      out.set(src.subarray(i, i + k), o);
      i += k; o += k;
    } else if (h !== -128) {
      const k = 1 - h;
      if (o + k > maxBytes) tooLarge('PackBits', maxBytes);
      if (i >= n) throw new ChunkCorrupt('PackBits: repeat run past the end of the data');
      out.fill(src[i++], o, o + k);
      o += k;
    }
  }
  return out.subarray(0, o);
}

/** TIFF LZW (MSB-first codes of 9..12 bits, "early change"), output capped at maxBytes. */
export function lzwBounded(src, maxBytes) {
  const out = new Uint8Array(maxBytes);
  const prefix = new Int16Array(4096), suffix = new Uint8Array(4096), first = new Uint8Array(4096), len = new Uint16Array(4096);
  for (let c = 0; c < 256; c++) { prefix[c] = -1; suffix[c] = c; first[c] = c; len[c] = 1; }
  const totalBits = src.length * 8;
  let bits = 9, next = 258, prev = -1, bitPos = 0, o = 0;
  const emit = (code) => {
    const l = len[code];
    if (o + l > maxBytes) tooLarge('LZW', maxBytes);
    for (let c = code, k = o + l - 1; k >= o; k--) { out[k] = suffix[c]; c = prefix[c]; }
    o += l;
  };
  while (bitPos + bits <= totalBits) {
    const b = bitPos >> 3;
    const word = (src[b] << 16) | ((src[b + 1] ?? 0) << 8) | (src[b + 2] ?? 0);
    const code = (word >> (24 - (bitPos & 7) - bits)) & ((1 << bits) - 1);
    bitPos += bits;
    if (code === 257) break;
    if (code === 256) { bits = 9; next = 258; prev = -1; continue; }
    if (prev === -1) {
      if (code > 255) throw new ChunkCorrupt(`LZW: code ${code} right after a clear code`);
      emit(code);
      prev = code;
      continue;
    }
    let fc;
    if (code < next) {
      emit(code);
      fc = first[code];
    } else if (code === next) {
      fc = first[prev];
      emit(prev);
      if (o + 1 > maxBytes) tooLarge('LZW', maxBytes);
      out[o++] = fc;
    } else {
      throw new ChunkCorrupt(`LZW: code ${code} not in the dictionary (${next} entries)`);
    }
    if (next < 4096) {
      prefix[next] = prev; suffix[next] = fc; first[next] = first[prev]; len[next] = len[prev] + 1;
      next++;
    }
    prev = code;
    if (next + 1 >= (1 << bits) && bits < 12) bits++;
  }
  return out.subarray(0, o);
}

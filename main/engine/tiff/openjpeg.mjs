/**
 * The JPEG 2000 decode core (OpenJPEG WebAssembly from @cornerstonejs/codec-openjpeg), plain JavaScript so the
 * main thread (./jpeg2000.ts) and the codec worker (./codec-worker.mjs) run the very same code.
 *
 * - The WASM module is instantiated once per thread, lazily, on the first decode.
 * - Each decode creates a J2KDecoder and deletes it in `finally`, so the WASM heap does not grow per tile.
 * - OpenJPEG reports problems through print/printErr instead of throwing: its "[ERROR]" lines are captured per
 *   decode and become CodecError('CORRUPT').
 * Errors are CodecError(code, message) with a SlideError code (CORRUPT / UNSUPPORTED); callers add the file and tile.
 */
import { createRequire } from 'node:module';

export class CodecError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CodecError';
    this.code = code;
  }
}

let modulePromise = null;
/** messages OpenJPEG printed during the current (synchronous) decode */
let captured = [];

function loadModule() {
  if (!modulePromise) {
    modulePromise = (async () => {
      const require = createRequire(import.meta.url);
      const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs');
      let wasmPath = null;
      try { wasmPath = require.resolve('@cornerstonejs/codec-openjpeg/decodewasm'); } catch { /* let the loader find it */ }
      return factory({
        print: (s) => { if (captured.length < 50) captured.push(String(s)); },
        printErr: (s) => { if (captured.length < 50) captured.push(String(s)); },
        ...(wasmPath ? { locateFile: (p) => (p.endsWith('.wasm') ? wasmPath : p) } : {}),
      });
    })();
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

function errorText(e) {
  if (e instanceof Error) return e.message;
  if (typeof e === 'number') return `WASM exception ${e}`;
  return String(e);
}

/**
 * Decodes a raw J2K codestream whose main header (`header`: width, height, components) the caller parsed and
 * checked; returns 8-bit interleaved samples, no colour conversion.
 */
export async function decodeJ2kCodestream(bytes, header) {
  const mod = await loadModule();
  const decoder = new mod.J2KDecoder();
  captured = [];
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    try {
      decoder.decode();
    } catch (e) {
      throw new CodecError('CORRUPT', `JPEG 2000 tile: OpenJPEG failed (${errorText(e)})`);
    }
    const errors = captured.filter((m) => m.includes('[ERROR]'));
    const info = decoder.getFrameInfo();
    if (errors.length > 0 || info.width === 0 || info.height === 0) {
      throw new CodecError('CORRUPT', `JPEG 2000 tile: broken codestream (${errors.map((m) => m.replace('[ERROR] ', '').trim()).join('; ') || 'nothing decoded'})`);
    }
    if (info.bitsPerSample !== 8 || info.componentCount !== header.components || info.width !== header.width || info.height !== header.height) {
      throw new CodecError('CORRUPT', `JPEG 2000 tile: decoder gave ${info.width}×${info.height}×${info.componentCount} @${info.bitsPerSample} bit, header says ${header.width}×${header.height}×${header.components}`);
    }
    const decoded = decoder.getDecodedBuffer();
    const expected = info.width * info.height * info.componentCount;
    if (decoded.length !== expected) throw new CodecError('CORRUPT', `JPEG 2000 tile: decoded ${decoded.length} bytes, expected ${expected}`);
    // copy out of the WASM heap before the decoder (and its buffer) is freed
    const data = new Uint8Array(expected);
    data.set(decoded);
    return { data, width: info.width, height: info.height, components: info.componentCount };
  } finally {
    captured = [];
    decoder.delete();
  }
}

const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** YCbCr (JFIF, full range) → RGB in place on interleaved 3-component 8-bit data. */
export function ycbcrToRgbInPlace(data) {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i], cb = data[i + 1] - 128, cr = data[i + 2] - 128;
    data[i] = clamp(y + 1.402 * cr);
    data[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clamp(y + 1.772 * cb);
  }
  return data;
}

/**
 * One Aperio tile (33003 / 33005) to interleaved 8-bit RGB: `params` = the checked header ({ width, height,
 * components }) and `ycbcr` (convert YCbCr → RGB: 33003 whose codestream applies no MCT). Grey tiles are expanded.
 */
export async function decodeAperioTile(bytes, params) {
  const img = await decodeJ2kCodestream(bytes, params);
  if (img.components === 3) {
    if (params.ycbcr) ycbcrToRgbInPlace(img.data);
    return img;
  }
  if (img.components === 1) {
    const rgb = new Uint8Array(img.width * img.height * 3);
    for (let i = 0, j = 0; i < img.data.length; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = img.data[i];
    return { data: rgb, width: img.width, height: img.height, components: 3 };
  }
  throw new CodecError('UNSUPPORTED', `JPEG 2000 tile: ${img.components} components (expected 1 or 3)`);
}

/** Size of this thread's OpenJPEG WASM heap in bytes (null before the first decode). */
export async function heapBytes() {
  if (!modulePromise) return null;
  const mod = await modulePromise;
  return mod.HEAPU8?.length ?? null;
}

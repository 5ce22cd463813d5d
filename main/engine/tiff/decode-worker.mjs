// Worker for ./decode-pool.ts (plain JS so it runs without a TypeScript loader, and beside the Electron
// bundle): CPU-bound chunk decodes off the main thread.
//   { id, op: 'j2k', bytes, width, height, components, ycbcr }  -> { id, data, width, height, components }
//   { id, op: 'raw', codec, bytes, maxBytes }                   -> { id, data }
//   failure                                                     -> { id, error: { code, message } }
// The J2K path is the decode half of ./jpeg2000.ts (the header is parsed and checked on the calling thread);
// the raw path runs the very same capped decoders as the main thread (./raw-codecs.mjs). test/slides/decode-pool
// compares pooled and inline results byte for byte.
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { ChunkCorrupt, ChunkTooLarge, inflateBounded, lzwBounded, packBitsBounded } from './raw-codecs.mjs';

class Failure extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

// ---- JPEG 2000 (OpenJPEG WASM, one instance per worker) ----
let modulePromise = null;
let captured = [];
function loadModule() {
  if (!modulePromise) {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs');
    let wasmPath = null;
    try { wasmPath = require.resolve('@cornerstonejs/codec-openjpeg/decodewasm'); } catch { /* let the loader find it */ }
    modulePromise = factory({
      print: (s) => { if (captured.length < 50) captured.push(String(s)); },
      printErr: (s) => { if (captured.length < 50) captured.push(String(s)); },
      ...(wasmPath ? { locateFile: (p) => (p.endsWith('.wasm') ? wasmPath : p) } : {}),
    });
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

function errorText(e) {
  if (e instanceof Error) return e.message;
  if (typeof e === 'number') return `WASM exception ${e}`;
  return String(e);
}

const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

async function decodeJ2k(m) {
  const bytes = new Uint8Array(m.bytes);
  const mod = await loadModule();
  const decoder = new mod.J2KDecoder();
  captured = [];
  let img;
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    try {
      decoder.decode();
    } catch (e) {
      throw new Failure('CORRUPT', `JPEG 2000 tile: OpenJPEG failed (${errorText(e)})`);
    }
    const errors = captured.filter((s) => s.includes('[ERROR]'));
    const info = decoder.getFrameInfo();
    if (errors.length > 0 || info.width === 0 || info.height === 0) {
      throw new Failure('CORRUPT', `JPEG 2000 tile: broken codestream (${errors.map((s) => s.replace('[ERROR] ', '').trim()).join('; ') || 'nothing decoded'})`);
    }
    if (info.bitsPerSample !== 8 || info.componentCount !== m.components || info.width !== m.width || info.height !== m.height) {
      throw new Failure('CORRUPT', `JPEG 2000 tile: decoder gave ${info.width}×${info.height}×${info.componentCount} @${info.bitsPerSample} bit, header says ${m.width}×${m.height}×${m.components}`);
    }
    const decoded = decoder.getDecodedBuffer();
    const expected = info.width * info.height * info.componentCount;
    if (decoded.length !== expected) throw new Failure('CORRUPT', `JPEG 2000 tile: decoded ${decoded.length} bytes, expected ${expected}`);
    const data = new Uint8Array(expected);
    data.set(decoded);
    img = { data, width: info.width, height: info.height, components: info.componentCount };
  } finally {
    captured = [];
    decoder.delete();
  }
  if (img.components === 3) {
    if (m.ycbcr) {
      const d = img.data;
      for (let i = 0; i + 2 < d.length; i += 3) {
        const y = d[i], cb = d[i + 1] - 128, cr = d[i + 2] - 128;
        d[i] = clamp(y + 1.402 * cr);
        d[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
        d[i + 2] = clamp(y + 1.772 * cb);
      }
    }
    return img;
  }
  if (img.components === 1) {
    const rgb = new Uint8Array(img.width * img.height * 3);
    for (let i = 0, j = 0; i < img.data.length; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = img.data[i];
    return { data: rgb, width: img.width, height: img.height, components: 3 };
  }
  throw new Failure('UNSUPPORTED', `JPEG 2000 tile: ${img.components} components (expected 1 or 3)`);
}

// ---- Deflate / LZW / PackBits: the same capped decoders as the main thread (./raw-codecs.mjs) ----
const corrupt = (message) => new Failure('RAW_CORRUPT', message);

function decodeRawChecked(codec, src, maxBytes) {
  try {
    if (codec === 8 || codec === 32946) return inflateBounded(src, maxBytes);
    if (codec === 5) return lzwBounded(src, maxBytes);
    if (codec === 32773) return packBitsBounded(src, maxBytes);
  } catch (e) {
    if (e instanceof ChunkTooLarge) throw new Failure('TOO_LARGE', e.message);
    if (e instanceof ChunkCorrupt) throw corrupt(e.message);
    throw e;
  }
  throw corrupt(`codec ${codec} is not decoded in the pool`);
}

function decodeRaw(m) {
  return decodeRawChecked(m.codec, new Uint8Array(m.bytes), m.maxBytes);
}

/** An ArrayBuffer holding exactly these bytes, to transfer (copies a view into something larger). */
function own(a) {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a.buffer : a.slice().buffer;
}

parentPort.on('message', async (m) => {
  try {
    if (m.op === 'j2k') {
      const r = await decodeJ2k(m);
      const data = own(r.data);
      parentPort.postMessage({ id: m.id, data, width: r.width, height: r.height, components: r.components }, [data]);
    } else if (m.op === 'raw') {
      const data = own(decodeRaw(m));
      parentPort.postMessage({ id: m.id, data }, [data]);
    } else {
      throw new Error(`unknown op ${m.op}`);
    }
  } catch (e) {
    const code = e instanceof Failure ? e.code : 'CORRUPT';
    parentPort.postMessage({ id: m.id, error: { code, message: e instanceof Error ? e.message : errorText(e) } });
  }
});

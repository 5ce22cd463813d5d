/**
 * The one codec registry: TIFF compression → chunk decoder, imported by the main thread (./codecs.ts,
 * ./jpeg2000.ts) and by the codec worker (./codec-worker.mjs) alike, so a pooled decode runs the very same code
 * as an inline one (geotiff.js's addDecoder / getDecoder registry is the model: the main thread's registry
 * does not reach workers, so the registrations live in this shared module, not in the caller).
 *
 *   decoder(bytes, params) → Promise<{ data, width?, height?, components? }>
 *     none / LZW / Deflate / PackBits: params { maxBytes } (output capped: a bomb is refused, never allocated)
 *     Aperio JPEG 2000 (33003 / 33005): params { width, height, components, ycbcr } (header parsed and checked by
 *       the caller); interleaved 8-bit RGB
 *   JPEG (7) is not here: it decodes through sharp in libvips' own threads, already off the JS thread.
 *
 * Errors: ChunkTooLarge / ChunkCorrupt (./raw-codecs.mjs), CodecError (./openjpeg.mjs); errorToWire /
 * errorFromWire carry them across the worker boundary unchanged (class, code, message).
 */
import { ChunkCorrupt, ChunkTooLarge, inflateBounded, lzwBounded, packBitsBounded } from './raw-codecs.mjs';
import { CodecError } from './openjpeg.mjs';

/** compression → { name, kind, importFn, decoder } (the decoder is resolved once; heavy codecs are imported lazily) */
const registry = new Map();

/**
 * Registers `importFn` (→ Promise<decoder>) for one or several compression numbers. `kind`: 'samples' (the
 * TIFF chunk's sample bytes, laid out by the caller: bit depth, predictor, byte order) or 'pixels'
 * (interleaved 8-bit RGB with its own width / height, e.g. a JPEG 2000 codestream).
 */
export function addDecoder(cases, importFn, name = `compression ${[].concat(cases).join('/')}`, kind = 'samples') {
  for (const c of [].concat(cases)) registry.set(c, { name, kind, importFn, decoder: null });
}

export function hasDecoder(compression) {
  return registry.has(compression);
}

/** { name, kind } of the decoder registered for `compression`, or null. */
export function decoderInfo(compression) {
  const r = registry.get(compression);
  return r ? { name: r.name, kind: r.kind } : null;
}

/** Names of every registered compression (for messages): 'none (1), LZW (5), …'. */
export function registeredNames() {
  const byName = new Map();
  for (const [c, r] of registry) byName.set(r.name, [...(byName.get(r.name) ?? []), c]);
  return [...byName].map(([n, cs]) => `${n} (${cs.join('/')})`).join(', ');
}

/** The decoder for `compression` (throws CodecError UNSUPPORTED when none is registered). */
export async function getDecoder(compression) {
  const r = registry.get(compression);
  if (!r) throw new CodecError('UNSUPPORTED', `no decoder registered for compression ${compression}`);
  if (!r.decoder) r.decoder = r.importFn().catch((e) => { r.decoder = null; throw e; });
  return r.decoder;
}

/** Decodes `bytes` of `compression` with the registered decoder. */
export async function decode(compression, bytes, params) {
  return (await getDecoder(compression))(bytes, params);
}

addDecoder(1, async () => async (bytes) => ({ data: bytes }), 'none');
addDecoder(5, async () => async (bytes, p) => ({ data: lzwBounded(bytes, p.maxBytes) }), 'LZW');
addDecoder([8, 32946], async () => async (bytes, p) => ({ data: inflateBounded(bytes, p.maxBytes) }), 'Deflate');
addDecoder(32773, async () => async (bytes, p) => ({ data: packBitsBounded(bytes, p.maxBytes) }), 'PackBits');
addDecoder([33003, 33005], async () => (await import('./openjpeg.mjs')).decodeAperioTile, 'Aperio JPEG 2000', 'pixels');

/** A decoder error as plain data (for postMessage). */
export function errorToWire(e) {
  if (e instanceof ChunkTooLarge) return { name: 'ChunkTooLarge', code: 'TOO_LARGE', message: e.message };
  if (e instanceof ChunkCorrupt) return { name: 'ChunkCorrupt', code: 'CORRUPT', message: e.message };
  if (e instanceof CodecError) return { name: 'CodecError', code: e.code, message: e.message };
  return { name: e instanceof Error ? e.name : 'Error', code: e?.code ?? 'CORRUPT', message: e instanceof Error ? e.message : String(e) };
}

/** The error errorToWire described, as the same class (other errors: a plain Error with the same message). */
export function errorFromWire(w) {
  if (w.name === 'ChunkTooLarge') return new ChunkTooLarge(w.message);
  if (w.name === 'ChunkCorrupt') return new ChunkCorrupt(w.message);
  if (w.name === 'CodecError') return new CodecError(w.code, w.message);
  return Object.assign(new Error(w.message), { code: w.code });
}

/**
 * sharp (libvips) image work shared by the main thread (main/engine/tiles/codec.ts) and the codec worker
 * (./codec-worker.mjs): JPEG encode, decode of any image sharp reads to 8-bit RGB, decode into a shared band.
 * Plain JavaScript so the worker runs without a TypeScript loader.
 */
import { createRequire } from 'node:module';
import sharp from 'sharp';

sharp.cache(false); // we keep our own caches; libvips' operation cache only holds memory here

/**
 * libjpeg-turbo through @julusian/jpeg-turbo (N-API, prebuilt for every desktop platform), loaded on first use.
 * A 256² tile encodes in ~0.2 ms there against ~1 ms through sharp, whose per-image pipeline setup and fresh
 * buffers dominate small images. Same standard quantisation and Huffman tables and 4:2:0 as sharp's encode; its
 * fast forward DCT gave the same error against the source as sharp's (mean |Δ| at Q75 5.60 vs 5.59, Q98 0.44 both).
 */
const require = createRequire(import.meta.url);
let turbo = null;
const jpegTurbo = () => (turbo ??= require('@julusian/jpeg-turbo'));
let turboOut = null; // reused encode output buffer (the encoded bytes are written out before the next encode)

/**
 * Baseline JPEG (4:2:0, standard tables) of `width × height` packed RGB: the viewer's Deep Zoom tiles. libjpeg-turbo
 * directly (~0.2 ms a 256² tile against ~1 ms of CPU, half of it JavaScript, through a sharp pipeline); the bytes are
 * the caller's (copied out of the reused output buffer).
 */
export async function encodeRgbJpeg(pixels, width, height, quality) {
  let out = null;
  encodeRgbJpegStrided(pixels.buffer, pixels.byteOffset, width, width, height, quality, (b) => (out = Buffer.from(b)));
  return out;
}

/** Decodes a JPEG (or any image sharp reads) to 8-bit RGB: { data, width, height }. */
export async function decodeToRgb(bytes) {
  const fast = await sharp(bytes, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
  if (fast.info.channels === 3) return { data: fast.data, width: fast.info.width, height: fast.info.height };
  const { data, info } = await sharp(bytes, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded image has ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height };
}

/**
 * Baseline / extended Huffman JPEG header facts, or null: { width, height, comps: [{ id, h, v }], jfif, adobe }
 * (adobe: the APP14 transform byte, or null).
 */
export function jpegInfo(b) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let jfif = false;
  let adobe = null;
  for (let i = 2; i + 4 <= b.length; ) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    if (m === 0xe0 && len >= 7 && b[i + 4] === 0x4a && b[i + 5] === 0x46 && b[i + 6] === 0x49 && b[i + 7] === 0x46) jfif = true;
    if (m === 0xee && len >= 12 && b[i + 4] === 0x41 && b[i + 5] === 0x64 && b[i + 6] === 0x6f && b[i + 7] === 0x62 && b[i + 8] === 0x65) adobe = b[i + 15];
    if (m === 0xc0 || m === 0xc1) {
      const comps = [];
      for (let k = 0; k < b[i + 9]; k++) comps.push({ id: b[i + 10 + 3 * k], h: b[i + 11 + 3 * k] >> 4, v: b[i + 11 + 3 * k] & 15 });
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8], comps, jfif, adobe };
    }
    if ((m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xda) return null;
    i += 2 + len;
  }
  return null;
}

/**
 * The chroma subsampling [h, v] of a JPEG that libjpeg decodes as YCbCr (its colour-space guess for 3 components:
 * JFIF, else an Adobe transform other than 0, else component ids other than R, G, B), or null (RGB, CMYK, grey,
 * progressive, sampling a TIFF cannot state).
 */
export function ycbcrSampling(info) {
  if (!info || info.comps.length !== 3) return null;
  const [y, cb, cr] = info.comps;
  if (codedAsRgb(info) || cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1 || ![1, 2, 4].includes(y.h) || ![1, 2, 4].includes(y.v)) return null;
  return [y.h, y.v];
}

/**
 * How a TIFF states what libjpeg makes of a JPEG's 3 components when it decodes it alone: { rgb: false, sampling }
 * for YCbCr (Photometric 6 with its YCbCrSubSampling), { rgb: true, sampling: [1, 1] } for components coded as R, G,
 * B without subsampling (Photometric 2: libtiff hands the components over as they are, as libjpeg's RGB → RGB does);
 * null otherwise.
 */
export function tileColour(info) {
  const sampling = ycbcrSampling(info);
  if (sampling) return { rgb: false, sampling };
  if (!info || info.comps.length !== 3 || !info.comps.every((c) => c.h === 1 && c.v === 1)) return null;
  return codedAsRgb(info) ? { rgb: true, sampling: [1, 1] } : null;
}

/** libjpeg's guess for 3 components: RGB without a JFIF marker when an Adobe marker says transform 0, or, with no
 * Adobe marker, when the component ids are 'R', 'G', 'B'; YCbCr otherwise */
function codedAsRgb(info) {
  const [a, b, c] = info.comps;
  return !info.jfif && (info.adobe !== null ? info.adobe === 0 : a.id === 0x52 && b.id === 0x47 && c.id === 0x42);
}

/** A one-row (or, `vertical`, one-column) tiled TIFF (JPEG compression) holding `jpegs` as its tiles, each tw × th. */
export function tiffOfTiles(jpegs, tw, th, colour, vertical = false) {
  const { rgb, sampling } = colour;
  const n = jpegs.length;
  const entries = rgb ? 11 : 12;
  const ifd = 8;
  const bps = ifd + 2 + entries * 12 + 4;
  const offs = bps + 6;
  const counts = offs + 4 * n;
  let data = counts + 4 * n;
  const size = jpegs.reduce((s, j) => s + j.byteLength, data);
  const t = Buffer.alloc(size);
  t.write('II', 0, 'latin1');
  t.writeUInt16LE(42, 2);
  t.writeUInt32LE(ifd, 4);
  t.writeUInt16LE(entries, ifd);
  let e = ifd + 2;
  const entry = (tag, type, count, value, short2) => {
    t.writeUInt16LE(tag, e);
    t.writeUInt16LE(type, e + 2);
    t.writeUInt32LE(count, e + 4);
    if (type === 3 && count <= 2) {
      t.writeUInt16LE(value, e + 8);
      if (count === 2) t.writeUInt16LE(short2, e + 10);
    } else t.writeUInt32LE(value, e + 8);
    e += 12;
  };
  const SHORT = 3;
  const LONG = 4;
  entry(256, LONG, 1, vertical ? tw : n * tw); // ImageWidth
  entry(257, LONG, 1, vertical ? n * th : th); // ImageLength
  entry(258, SHORT, 3, bps); // BitsPerSample 8,8,8
  entry(259, SHORT, 1, 7); // Compression: JPEG
  entry(262, SHORT, 1, rgb ? 2 : 6); // PhotometricInterpretation: RGB or YCbCr
  entry(277, SHORT, 1, 3); // SamplesPerPixel
  entry(284, SHORT, 1, 1); // PlanarConfiguration: contiguous
  entry(322, SHORT, 1, tw); // TileWidth
  entry(323, SHORT, 1, th); // TileLength
  entry(324, LONG, n, n === 1 ? data : offs); // TileOffsets
  entry(325, LONG, n, n === 1 ? jpegs[0].byteLength : counts); // TileByteCounts
  if (!rgb) entry(530, SHORT, 2, sampling[0], sampling[1]); // YCbCrSubSampling
  t.writeUInt32LE(0, e); // no next IFD
  for (let k = 0; k < 3; k++) t.writeUInt16LE(8, bps + 2 * k);
  for (let i = 0; i < n; i++) {
    t.writeUInt32LE(data, offs + 4 * i);
    t.writeUInt32LE(jpegs[i].byteLength, counts + 4 * i);
    t.set(jpegs[i], data);
    data += jpegs[i].byteLength;
  }
  return t;
}

/**
 * JPEG tiles of one size and sampling decoded in one call, stacked: tile i's RGB pixels are rows i·th … (i+1)·th − 1
 * of the result, i.e. the contiguous bytes [i·tw·th·3, (i+1)·tw·th·3). The same libjpeg decode as a tile alone (the
 * tiles are read as one in-memory tiled TIFF). Resolves with null when the tiles do not allow it (sizes, sampling).
 */
export async function decodeTileStack(jpegs) {
  const f = uniformTiles(jpegs);
  if (!f) return null;
  const { tw, th, colour } = f;
  const { data, info: got } = await sharp(tiffOfTiles(jpegs, tw, th, colour, true), { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
  if (got.channels !== 3 || got.width !== tw || got.height !== th * jpegs.length) throw new Error(`decoded tile stack is ${got.width}×${got.height}×${got.channels}, expected ${tw}×${th * jpegs.length}×3`);
  return { data, width: tw, height: th };
}

/**
 * The tiles' common size and colour coding (tileColour) when one in-memory tiled TIFF can describe them all exactly as
 * libjpeg would decode each alone (same size, a multiple of 16, same coding and sampling); else null.
 */
function uniformTiles(jpegs) {
  const info = jpegInfo(jpegs[0]);
  const colour = tileColour(info);
  if (colour === null || info.width % 16 !== 0 || info.height % 16 !== 0) return null;
  const tw = info.width;
  const th = info.height;
  for (let i = 1; i < jpegs.length; i++) {
    const o = jpegInfo(jpegs[i]);
    const c = tileColour(o);
    if (!o || o.width !== tw || o.height !== th || c === null || c.rgb !== colour.rgb || c.sampling[0] !== colour.sampling[0] || c.sampling[1] !== colour.sampling[1]) return null;
  }
  return { tw, th, colour };
}

/**
 * Decodes a run of adjacent JPEG tiles side by side into `out` (rows `width` RGB pixels): tile i at column xs[i],
 * clipped to widths[i] × height. Tiles of one size (a multiple of 16, as TIFF tiles must be) whose coding a TIFF can
 * state (tileColour: YCbCr, or RGB-coded 4:4:4) go through libvips as one tiled TIFF — one sharp call for the run
 * instead of one per tile, the same libjpeg decode (accurate IDCT, fancy upsampling) and so the same pixels; anything
 * else decodes tile by tile.
 */
export async function decodeRun(jpegs, xs, widths, height, out, width) {
  const f = uniformTiles(jpegs);
  const whole = f !== null && height <= f.th && jpegs.every((_, i) => xs[i] === i * f.tw && widths[i] <= f.tw);
  if (!whole) {
    for (let i = 0; i < jpegs.length; i++) await decodeIntoBand(jpegs[i], out, width, xs[i], widths[i], height);
    return;
  }
  const runWidth = xs[xs.length - 1] + widths[widths.length - 1];
  const { tw, th, colour } = f;
  const { data, info: got } = await sharp(tiffOfTiles(jpegs, tw, th, colour), { failOn: 'error' })
    .extract({ left: 0, top: 0, width: runWidth, height })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (got.channels !== 3) throw new Error(`decoded tile run has ${got.channels} channels, expected 3`);
  const dst = Buffer.from(out);
  for (let r = 0; r < height; r++) data.copy(dst, r * width * 3, r * runWidth * 3, (r + 1) * runWidth * 3);
}

/**
 * Decodes an image into `band` (an ArrayBuffer or SharedArrayBuffer of rows `bandWidth` RGB pixels wide) at column `x`,
 * clipped to maxWidth × maxHeight; returns the decoded size.
 */
export async function decodeIntoBand(bytes, band, bandWidth, x, maxWidth, maxHeight) {
  const img = await decodeToRgb(bytes);
  const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const out = Buffer.from(band);
  const w = Math.min(img.width, maxWidth) * 3;
  const rows = Math.min(img.height, maxHeight);
  const stride = bandWidth * 3;
  for (let r = 0; r < rows; r++) data.copy(out, r * stride + x * 3, r * img.width * 3, r * img.width * 3 + w);
  return { width: img.width, height: img.height };
}

/**
 * Encodes the width × height RGB block starting at byte `offset` of `buf` (an ArrayBuffer or SharedArrayBuffer,
 * rows `stride` pixels apart) as baseline JPEG (4:2:0) and hands the bytes to `sink` before the next encode reuses
 * them. The block's rows are read with the full stride, so `stride · height` pixels from `offset` must lie inside `buf`.
 */
export function encodeRgbJpegStrided(buf, offset, stride, width, height, quality, sink) {
  const t = jpegTurbo();
  const need = t.bufferSize({ width, height, subsampling: t.SAMP_420 });
  if (!turboOut || turboOut.length < need) turboOut = Buffer.allocUnsafe(need);
  const src = Buffer.from(buf, offset, stride * height * 3);
  sink(t.compressSync(src, turboOut, { format: t.FORMAT_RGB, width, height, stride, quality, subsampling: t.SAMP_420 }));
}

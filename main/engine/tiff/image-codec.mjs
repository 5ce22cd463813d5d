/**
 * sharp (libvips) image work shared by the main thread (main/engine/tiles/codec.ts) and the codec worker
 * (./codec-worker.mjs): JPEG encode, decode of any image sharp reads to 8-bit RGB, decode into a shared band.
 * Plain JavaScript so the worker runs without a TypeScript loader.
 */
import sharp from 'sharp';

sharp.cache(false); // we keep our own caches; libvips' operation cache only holds memory here

/** baseline JPEG with standard Huffman tables: ~2× faster to encode than optimised coding, a few % larger */
export function encodeRgbJpeg(pixels, width, height, quality) {
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality, optimiseCoding: false }).toBuffer();
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
 * Decodes an image into `band` (a SharedArrayBuffer of rows `bandWidth` RGB pixels wide) at column `x`,
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

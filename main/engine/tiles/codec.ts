/** sharp (libvips) helpers: RGB <-> JPEG/PNG, resampling. */
import sharp from 'sharp';
import type { RgbImage } from '../slide/types.js';
import { decodeToRgb as decodeImage, encodeRgbJpeg } from '../tiff/image-codec.mjs';

sharp.cache(false); // we keep our own caches; libvips' operation cache only holds memory here
if (process.env.GLASSBOX_SHARP_THREADS) sharp.concurrency(Number(process.env.GLASSBOX_SHARP_THREADS));

export const DEFAULT_QUALITY = 85;
/** baseline JPEG with standard Huffman tables: ~2× faster to encode than optimised coding, a few % larger */
const jpegOpts = (quality: number) => ({ quality, optimiseCoding: false });

function fromRgb(img: RgbImage) {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** The same encode as the codec worker's (main/engine/tiff/image-codec.mjs). */
export async function encodeJpeg(img: RgbImage, quality = DEFAULT_QUALITY): Promise<Uint8Array> {
  return encodeRgbJpeg(img.data, img.width, img.height, quality);
}

export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  return fromRgb(img).png({ compressionLevel: 6 }).toBuffer();
}

/** Resample to exactly w×h (lanczos3; sharp box-shrinks first for large factors) and encode JPEG. */
export async function resizeToJpeg(img: RgbImage, w: number, h: number, quality = DEFAULT_QUALITY): Promise<Uint8Array> {
  let s = fromRgb(img);
  if (img.width !== w || img.height !== h) s = s.resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
  return s.jpeg(jpegOpts(quality)).toBuffer();
}

export async function resizeRgb(img: RgbImage, w: number, h: number): Promise<RgbImage> {
  if (img.width === w && img.height === h) return img;
  const data = await fromRgb(img).resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  return { data, width: w, height: h };
}

/** Decodes a JPEG (or any image sharp reads) to 8-bit RGB: the same code as the codec worker's decode. */
export async function decodeToRgb(bytes: Uint8Array): Promise<RgbImage> {
  return decodeImage(bytes);
}

/** Crops a JPEG to its top-left w×h and re-encodes it. */
export async function cropJpeg(bytes: Uint8Array, w: number, h: number, quality = DEFAULT_QUALITY): Promise<Uint8Array> {
  return sharp(bytes).extract({ left: 0, top: 0, width: w, height: h }).jpeg(jpegOpts(quality)).toBuffer();
}

/** Copies the w×h block at (sx,sy) of `src` into `dst` at (dx,dy); both are RGB. */
export function blit(src: RgbImage, sx: number, sy: number, dst: RgbImage, dx: number, dy: number, w: number, h: number): void {
  const rowBytes = w * 3;
  const s = asBuffer(src.data);
  const d = asBuffer(dst.data);
  const sStride = src.width * 3;
  const dStride = dst.width * 3;
  let so = (sy * src.width + sx) * 3;
  let d0 = (dy * dst.width + dx) * 3;
  for (let r = 0; r < h; r++, so += sStride, d0 += dStride) s.copy(d, d0, so, so + rowBytes);
}

/** A Buffer view of the same memory (Buffer.copy is much cheaper per call than subarray + set). */
export function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Image preprocessing with torchvision semantics, as WSInfer applies it to a PIL patch:
 *   decode (sharp: PNG/JPEG/TIFF/WebP… → 8-bit sRGB RGB) → Resize (torchvision on a PIL image: an int size is the
 *   shorter side, [h, w] is exact; bilinear with PIL's antialiasing filter and fixed-point uint8 rounding, reproduced
 *   here bit for bit) → ToTensor (/255, HWC → CHW) → Normalize ((x − mean) / std) → float32 NCHW, N = 1.
 */
import sharp from 'sharp';
import type { Tensor } from '../explain/types.js';
import { ModelPackageError, type Transform } from './config.js';

export interface RgbImage {
  /** interleaved RGB, row-major */
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decode an image file or buffer to 8-bit RGB (alpha dropped, grey expanded, 16-bit reduced). */
export async function decodeRgb(input: string | Uint8Array): Promise<RgbImage> {
  const where = typeof input === 'string' ? input : 'image buffer';
  try {
    const { data, info } = await sharp(input, { failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new ModelPackageError(`${where}: cannot decode image (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

/** torchvision `_compute_resized_output_size`: returns [h, w]. */
export function resizedSize(height: number, width: number, size: number | number[], maxSize?: number | null): [number, number] {
  const s = typeof size === 'number' ? [size] : size;
  if (s.length === 2) return [s[0], s[1]];
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = s[0];
  let newLong = Math.trunc((newShort * long) / short);
  if (maxSize != null) {
    if (maxSize <= newShort) throw new ModelPackageError(`Resize: max_size ${maxSize} must be larger than size ${newShort}`);
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return width <= height ? [newLong, newShort] : [newShort, newLong];
}

const PRECISION_BITS = 32 - 8 - 2;

/** PIL's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle, support 1) filter. */
function coeffs(inSize: number, outSize: number): { bounds: Int32Array; kk: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      w[x] = t < 1 ? 1 - t : 0;
      ww += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      kk[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

/**
 * Bilinear resize with PIL's semantics (Image.resize(..., BILINEAR)): antialiased when shrinking, horizontal pass
 * then vertical pass, each rounded to uint8 — what torchvision's Resize does to a PIL image.
 */
export function resizeBilinear(img: RgbImage, outW: number, outH: number): RgbImage {
  if (outW === img.width && outH === img.height) return { data: img.data.slice(), width: outW, height: outH };
  const { width: inW, height: inH, data } = img;
  const half = 1 << (PRECISION_BITS - 1);
  // horizontal pass (only the rows the vertical pass needs: all of them here)
  let tmp = data;
  if (outW !== inW) {
    tmp = new Uint8Array(outW * inH * 3);
    const { bounds, kk, ksize } = coeffs(inW, outW);
    for (let y = 0; y < inH; y++) {
      const row = y * inW * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        let s0 = half, s1 = half, s2 = half;
        for (let x = 0; x < xmax; x++) {
          const k = kk[xx * ksize + x];
          const p = row + (x + xmin) * 3;
          s0 += data[p] * k;
          s1 += data[p + 1] * k;
          s2 += data[p + 2] * k;
        }
        const o = (y * outW + xx) * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
  }
  if (outH === inH) return { data: tmp, width: outW, height: outH };
  const out = new Uint8Array(outW * outH * 3);
  const { bounds, kk, ksize } = coeffs(inH, outH);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2];
    const ymax = bounds[yy * 2 + 1];
    for (let xx = 0; xx < outW; xx++) {
      let s0 = half, s1 = half, s2 = half;
      for (let y = 0; y < ymax; y++) {
        const k = kk[yy * ksize + y];
        const p = ((y + ymin) * outW + xx) * 3;
        s0 += tmp[p] * k;
        s1 += tmp[p + 1] * k;
        s2 += tmp[p + 2] * k;
      }
      const o = (yy * outW + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Apply a WSInfer transform list to an RGB image → float32 [1, 3, H, W]. */
export function applyTransforms(img: RgbImage, transforms: readonly Transform[]): Tensor {
  let cur = img;
  let tensor: Float32Array | null = null;
  for (const [i, t] of transforms.entries()) {
    if (t.name === 'Resize') {
      if (tensor) throw new ModelPackageError(`transform[${i}]: Resize after ToTensor is not supported`);
      const [h, w] = resizedSize(cur.height, cur.width, t.arguments.size, t.arguments.max_size);
      cur = resizeBilinear(cur, w, h);
    } else if (t.name === 'ToTensor') {
      const n = cur.width * cur.height;
      tensor = new Float32Array(3 * n);
      for (let p = 0; p < n; p++) {
        tensor[p] = cur.data[p * 3] / 255;
        tensor[n + p] = cur.data[p * 3 + 1] / 255;
        tensor[2 * n + p] = cur.data[p * 3 + 2] / 255;
      }
    } else {
      if (!tensor) throw new ModelPackageError(`transform[${i}]: Normalize before ToTensor is not supported`);
      const n = cur.width * cur.height;
      const { mean, std } = t.arguments;
      for (let c = 0; c < 3; c++) {
        const m = Math.fround(mean[c]);
        const s = Math.fround(std[c]);
        for (let p = c * n; p < (c + 1) * n; p++) tensor[p] = Math.fround(tensor[p] - m) / s;
      }
    }
  }
  if (!tensor) throw new ModelPackageError('transform list has no ToTensor step');
  return { data: tensor, dims: [1, 3, cur.height, cur.width] };
}

/** Preprocess an image file for a package config (its transforms). */
export async function preprocessImage(input: string | Uint8Array, transforms: readonly Transform[]): Promise<Tensor & { source: { width: number; height: number } }> {
  const img = await decodeRgb(input);
  return { ...applyTransforms(img, transforms), source: { width: img.width, height: img.height } };
}

/** Preprocessing for a bare .onnx (no config): resize to the model's input [h, w], /255, no normalisation. */
export function bareTransforms(height: number, width: number): Transform[] {
  return [{ name: 'Resize', arguments: { size: [height, width] } }, { name: 'ToTensor' }];
}

/** Stack [1, C, H, W] tensors into one [N, C, H, W] batch (all the same size). */
export function stackBatch(items: readonly Tensor[]): Tensor {
  if (items.length === 0) throw new ModelPackageError('empty batch');
  const dims = items[0].dims;
  for (const [i, t] of items.entries()) {
    if (t.dims.join('x') !== dims.join('x')) throw new ModelPackageError(`batch item ${i} has dims ${t.dims.join('x')}, item 0 has ${dims.join('x')}`);
  }
  const per = items[0].data.length;
  const data = new Float32Array(per * items.length);
  items.forEach((t, i) => data.set(t.data, i * per));
  return { data, dims: [items.length, ...dims.slice(1)] };
}

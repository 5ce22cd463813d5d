/**
 * Decoded samples -> 8-bit RGB, with one mapping per level set so that every tile of a slide is mapped
 * the same way (no per-tile stretching).
 *  - 'rgb': 8-bit RGB(A) / JPEG / JPEG 2000 output; 16-bit RGB is scaled by 255/65535.
 *  - 'grey': one channel (min-is-black, or min-is-white inverted), 16-bit via `ranges[0]`.
 *  - 'palette': ColorMap lookup.
 *  - 'composite': N channels (one IFD per channel, or SamplesPerPixel > 1 non-RGB): each channel is
 *    linearly mapped from its display range [lo, hi] to 0..1, multiplied by its colour and summed (additive,
 *    clamped), as fluorescence viewers do.
 */
import type { DecodedChunk } from '../tiff/index.js';

export type Rgb = [number, number, number];

export interface PixelMapping {
  kind: 'rgb' | 'grey' | 'palette' | 'composite';
  invert?: boolean;
  /** per channel display range in sample units */
  ranges?: Array<[number, number]>;
  /** per channel colour, 0..255 */
  colors?: Rgb[];
  /** palette: 3 × 2^bits entries (R…, G…, B…), 16-bit values */
  palette?: number[];
}

/** Default palette for composites (first three channels map to R, G, B like ImageJ "composite"). */
export const DEFAULT_CHANNEL_COLORS: Rgb[] = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 255, 255], [255, 0, 255], [255, 255, 0], [255, 255, 255],
];

/**
 * Maps `w`×`h` pixels starting at (sx, sy) of each source chunk into `out` (RGB, stride outW*3) at (dx, dy).
 * `srcs` is one chunk (interleaved samples) or one chunk per channel (composite across IFDs).
 */
export function mapPixels(
  m: PixelMapping, srcs: DecodedChunk[], sx: number, sy: number, w: number, h: number,
  out: Uint8Array, outW: number, dx: number, dy: number,
): void {
  const s0 = srcs[0];
  if (m.kind === 'rgb' && srcs.length >= 3) { // planar RGB (PlanarConfiguration 2): one chunk per sample plane
    const k = s0.bits === 16 ? 255 / 65535 : 1;
    const [a, b, c] = [srcs[0].data, srcs[1].data, srcs[2].data];
    for (let y = 0; y < h; y++) {
      let si = (sy + y) * s0.width + sx;
      let di = ((dy + y) * outW + dx) * 3;
      for (let x = 0; x < w; x++, si++, di += 3) { out[di] = a[si] * k + 0.5; out[di + 1] = b[si] * k + 0.5; out[di + 2] = c[si] * k + 0.5; }
    }
    return;
  }
  if (m.kind === 'rgb' && s0.bits === 8 && s0.channels >= 3) {
    const ch = s0.channels, d = s0.data as Uint8Array;
    for (let y = 0; y < h; y++) {
      let si = ((sy + y) * s0.width + sx) * ch;
      let di = ((dy + y) * outW + dx) * 3;
      if (ch === 3) { out.set(d.subarray(si, si + w * 3), di); continue; }
      for (let x = 0; x < w; x++, si += ch, di += 3) { out[di] = d[si]; out[di + 1] = d[si + 1]; out[di + 2] = d[si + 2]; }
    }
    return;
  }
  if (m.kind === 'rgb') { // 16-bit RGB, or an 8-bit 1-channel JPEG inside an RGB slide
    const ch = s0.channels, d = s0.data;
    const k = s0.bits === 16 ? 255 / 65535 : 1;
    for (let y = 0; y < h; y++) {
      let si = ((sy + y) * s0.width + sx) * ch;
      let di = ((dy + y) * outW + dx) * 3;
      for (let x = 0; x < w; x++, si += ch, di += 3) {
        if (ch >= 3) { out[di] = d[si] * k + 0.5; out[di + 1] = d[si + 1] * k + 0.5; out[di + 2] = d[si + 2] * k + 0.5; }
        else { const v = d[si] * k + 0.5; out[di] = v; out[di + 1] = v; out[di + 2] = v; }
      }
    }
    return;
  }
  if (m.kind === 'grey' || m.kind === 'palette') {
    const ch = s0.channels, d = s0.data;
    const [lo, hi] = m.ranges?.[0] ?? [0, s0.bits === 16 ? 65535 : 255];
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const pal = m.palette, n = pal ? pal.length / 3 : 0;
    for (let y = 0; y < h; y++) {
      let si = ((sy + y) * s0.width + sx) * ch;
      let di = ((dy + y) * outW + dx) * 3;
      for (let x = 0; x < w; x++, si += ch, di += 3) {
        const raw = d[si];
        if (pal) {
          const i = raw < n ? raw : n - 1;
          out[di] = pal[i] >> 8; out[di + 1] = pal[n + i] >> 8; out[di + 2] = pal[2 * n + i] >> 8;
          continue;
        }
        let v = (raw - lo) * scale;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        if (m.invert) v = 255 - v;
        v = v + 0.5;
        out[di] = v; out[di + 1] = v; out[di + 2] = v;
      }
    }
    return;
  }
  // composite
  const colors = m.colors ?? DEFAULT_CHANNEL_COLORS;
  const ranges = m.ranges ?? [];
  // channel list: (chunk, sample index) pairs
  const chans: Array<{ c: DecodedChunk; k: number }> = [];
  if (srcs.length > 1) for (const c of srcs) chans.push({ c, k: 0 });
  else for (let k = 0; k < s0.channels; k++) chans.push({ c: s0, k });
  const acc = new Float32Array(w * 3);
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let ci = 0; ci < chans.length; ci++) {
      const { c, k } = chans[ci];
      const [lo, hi] = ranges[ci] ?? [0, c.bits === 16 ? 65535 : 255];
      const scale = hi > lo ? 1 / (hi - lo) : 0;
      const col = colors[ci % colors.length];
      const d = c.data, ch = c.channels;
      let si = ((sy + y) * c.width + sx) * ch + k;
      for (let x = 0, a = 0; x < w; x++, si += ch, a += 3) {
        let v = (d[si] - lo) * scale;
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        acc[a] += v * col[0]; acc[a + 1] += v * col[1]; acc[a + 2] += v * col[2];
      }
    }
    let di = ((dy + y) * outW + dx) * 3;
    for (let a = 0; a < w * 3; a++, di++) { const v = acc[a]; out[di] = v > 255 ? 255 : v + 0.5; }
  }
}

/**
 * Heatmap values → colours on the CPU, with the viewer's overlay-shader arithmetic (renderer/src/lib/overlay.ts):
 * nearest cell, or (smooth) bilinear on the values between cell centres leaving out NaN neighbours, but only
 * where the nearest cell has a value; then the paint's position → LUT entry round(pos·255).
 */
import type { HeatmapPaint } from './types.js';

/** The grid part the painter needs: one value plane [rows, cols] and its level-0 placement. */
export interface ValueGrid {
  origin: [number, number];
  cellSize: [number, number];
  shape: [number, number];
  values: Float32Array;
}

/** The value the overlay shows at continuous cell coordinates (col, row); NaN outside or where not analysed. */
export function sampleGrid(g: ValueGrid, col: number, row: number, smooth: boolean): number {
  const [rows, cols] = g.shape;
  if (!(col >= 0 && row >= 0 && col < cols && row < rows)) return NaN;
  const v = g.values[Math.floor(row) * cols + Math.floor(col)];
  if (!smooth || Number.isNaN(v)) return v;
  const qx = col - 0.5, qy = row - 0.5;
  const fx = Math.floor(qx), fy = Math.floor(qy);
  const tx = qx - fx, ty = qy - fy;
  let s = 0, w = 0;
  for (let dy = 0; dy < 2; dy++) {
    const r = Math.min(rows - 1, Math.max(0, fy + dy));
    const wy = dy === 0 ? 1 - ty : ty;
    for (let dx = 0; dx < 2; dx++) {
      const c = Math.min(cols - 1, Math.max(0, fx + dx));
      const vv = g.values[r * cols + c];
      if (Number.isNaN(vv)) continue;
      const ww = (dx === 0 ? 1 - tx : tx) * wy;
      s += ww * vv;
      w += ww;
    }
  }
  return w > 0 ? s / w : v;
}

/** LUT offset (×4) of a value, or −1 when the paint hides it. */
export function lutOffset(paint: HeatmapPaint, v: number): number {
  if (Number.isNaN(v)) return -1;
  const pos = paint.position(v);
  if (pos === null || Number.isNaN(pos)) return -1;
  return Math.round(Math.min(1, Math.max(0, pos)) * 255) * 4;
}

/**
 * Blends the heatmap over an RGB image in place. The image shows level-0 pixels x0 + i·s … (output pixel i's
 * centre at x0 + (i + ½)·s). Returns the number of pixels painted.
 */
export function blendOverlay(rgb: Uint8Array, width: number, height: number, x0: number, y0: number, s: number, g: ValueGrid, paint: HeatmapPaint): number {
  const a = Math.min(1, Math.max(0, paint.opacity));
  if (a === 0) return 0;
  const [cw, ch] = g.cellSize;
  const [ox, oy] = g.origin;
  const lut = paint.lut;
  // nearest mode: each row of output pixels crosses few cells, so look each cell's colour up once
  let painted = 0;
  for (let j = 0; j < height; j++) {
    const row = (y0 + (j + 0.5) * s - oy) / ch;
    if (!(row >= 0 && row < g.shape[0])) continue;
    let lastCol = -1, lastOff = -1;
    for (let i = 0; i < width; i++) {
      const col = (x0 + (i + 0.5) * s - ox) / cw;
      let off: number;
      if (!paint.smooth) {
        const c = Math.floor(col);
        if (c !== lastCol) { lastCol = c; lastOff = lutOffset(paint, sampleGrid(g, col, row, false)); }
        off = lastOff;
      } else off = lutOffset(paint, sampleGrid(g, col, row, true));
      if (off < 0) continue;
      const p = (j * width + i) * 3;
      rgb[p] = Math.round(lut[off] * a + rgb[p] * (1 - a));
      rgb[p + 1] = Math.round(lut[off + 1] * a + rgb[p + 1] * (1 - a));
      rgb[p + 2] = Math.round(lut[off + 2] * a + rgb[p + 2] * (1 - a));
      painted++;
    }
  }
  return painted;
}

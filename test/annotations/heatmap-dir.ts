/** Test helpers: a heatmap folder in the `glassbox analyze` layout with known cells; rasterising polygons at cell centres. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../main/engine/explain/npy.js';
import type { Position } from '../../main/engine/annotations/index.js';

export interface HeatmapDirSpec {
  rows: number; cols: number; origin: [number, number]; cell: [number, number];
  /** value per cell */
  value: (r: number, c: number) => number;
  mpp?: [number, number] | null;
  className?: string;
  classes?: string[];
}

/** writes heatmap.npy + heatmap.json (+ probabilities.npy: p(class 0) = value clamped to 0..1) */
export function writeHeatmapDir(dir: string, s: HeatmapDirSpec): Float32Array {
  mkdirSync(dir, { recursive: true });
  const values = new Float32Array(s.rows * s.cols);
  for (let r = 0; r < s.rows; r++) for (let c = 0; c < s.cols; c++) values[r * s.cols + c] = s.value(r, c);
  const classes = s.classes ?? [s.className ?? 'tumor', 'other'];
  const probs = new Float32Array(s.rows * s.cols * classes.length);
  values.forEach((v, i) => {
    const p = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : NaN;
    probs[i * classes.length] = p;
    probs[i * classes.length + 1] = 1 - p;
  });
  writeFileSync(join(dir, 'heatmap.npy'), encodeNpy({ data: values, dims: [s.rows, s.cols] }));
  writeFileSync(join(dir, 'probabilities.npy'), encodeNpy({ data: probs, dims: [s.rows, s.cols, classes.length] }));
  writeFileSync(join(dir, 'heatmap.json'), JSON.stringify({
    format: 'glassbox-heatmap', format_version: 1, class: s.className ?? 'tumor', classes, method: 'gradcam', layer: 'features',
    origin_px: s.origin, cell_size_px: s.cell, shape: [s.rows, s.cols],
    slide: { path: '/x/slide.tif', sha256: 'ab'.repeat(32), width: 1, height: 1, ...(s.mpp === null ? {} : { mpp: s.mpp ?? [0.5, 0.5] }) },
    model: { name: 'probe', sha256: 'cd'.repeat(32) },
  }));
  return values;
}

/** even-odd point in polygons (all rings of all polygons) */
export function inside(polys: Position[][][], x: number, y: number): boolean {
  let n = false;
  for (const rings of polys) {
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i], [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) n = !n;
      }
    }
  }
  return n;
}

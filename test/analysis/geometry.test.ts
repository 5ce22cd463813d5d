/**
 * Geometry probe (issue 6 §5): a hand-weighted model whose Grad-CAM is the red fraction of each cell (probe.ts), on
 * generated slides with red and blue shapes at known level-0 places. The stitched heatmap must lie on the shapes at
 * cell resolution (IoU ≥ 0.9; the shapes are ~12 cells wide, so a one-cell shift gives IoU ≤ 11/13 = 0.85 and fails),
 * with per-cell values equal to the analytic coverage, at two slide µm/px and with and without overlap. Catches any
 * off-by-one, axis swap, level or µm/px error in the grid, the reads, the resampling or the stitching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticSlide, type SyntheticRegion } from '../fixtures/synthetic-slide.js';
import { openSlide } from '../../main/engine/slide/index.js';
import { loadModelPackage } from '../../main/engine/model/index.js';
import { AnalysisJob, type AnalysisResult, type AnalysisSettings } from '../../main/engine/analysis/index.js';
import { writeProbePackage } from './probe.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-geometry-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const PATCH = 64, STRIDE = 8, SPACING = 1.0; // model: 64 px at 1 µm/px, cells of 8 µm
const RED: [number, number, number] = [200, 30, 30];
const BLUE: [number, number, number] = [30, 30, 200];
/** map value of a cell that is all red: mean red-ness (200 − 30)/255 divided by the h·w of the global pool */
const FULL = (200 - 30) / 255 / ((PATCH / STRIDE) ** 2);

/** shapes in µm (slide-independent), converted to level-0 px per slide */
const SHAPES_UM: Array<Omit<SyntheticRegion, 'fill'> & { colour: 'red' | 'blue' }> = [
  { x: 203, y: 157, w: 97, h: 81, shape: 'rect', colour: 'red' },        // ~12 × 10 cells
  { x: 1101, y: 603, w: 131, h: 49, shape: 'rect', colour: 'red' },      // wide and flat: an axis swap fails
  { x: 700, y: 250, w: 120, h: 90, shape: 'ellipse', colour: 'blue' },
];
const W_UM = 1500, H_UM = 900;

const probeDir = writeProbePackage(join(dir, 'probe'), { patch: PATCH, stride: STRIDE, spacing: SPACING });

async function slideAt(mpp: number): Promise<string> {
  const path = join(dir, `probe-${mpp}.tif`);
  const s = (v: number) => Math.round(v / mpp);
  await writeSyntheticSlide(path, {
    width: s(W_UM), height: s(H_UM), mpp, tileSize: 256, quality: 95, levels: [1, 4, 16],
    regions: SHAPES_UM.map((r) => ({ x: s(r.x), y: s(r.y), w: s(r.w), h: s(r.h), shape: r.shape, fill: r.colour === 'red' ? RED : BLUE })),
  });
  return path;
}

async function analyse(path: string, settings: Partial<AnalysisSettings> = {}): Promise<AnalysisResult> {
  const slide = await openSlide(path);
  try {
    const model = await loadModelPackage(probeDir);
    return await new AnalysisJob({
      slide, model,
      settings: { classes: [0, 1], method: 'gradcam', signed: false, batch: 8, overlap: 0, minTissue: 0, ep: 'cpu', ...settings },
    }).run();
  } finally {
    await slide.close();
  }
}

/** fraction of a level-0 rectangle covered by a shape (exact for rects; 8×8 supersampled for ellipses) */
function coverage(r: { x: number; y: number; w: number; h: number; shape: string }, cx0: number, cy0: number, cw: number, ch: number): number {
  if (r.shape === 'rect') {
    const ox = Math.max(0, Math.min(cx0 + cw, r.x + r.w) - Math.max(cx0, r.x));
    const oy = Math.max(0, Math.min(cy0 + ch, r.y + r.h) - Math.max(cy0, r.y));
    return (ox * oy) / (cw * ch);
  }
  const ex = r.x + r.w / 2, ey = r.y + r.h / 2, rx = r.w / 2, ry = r.h / 2;
  let n = 0;
  for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) {
    const px = cx0 + ((i + 0.5) / 8) * cw, py = cy0 + ((j + 0.5) / 8) * ch;
    if (((px - ex) / rx) ** 2 + ((py - ey) / ry) ** 2 <= 1) n++;
  }
  return n / 64;
}

function check(res: AnalysisResult, mpp: number, label: string): void {
  const g = res.geometry;
  const [rows, cols] = g.shape;
  const cell = (STRIDE * SPACING) / mpp; // level-0 px per cell
  assert.deepEqual(g.cellSize.map((v) => +v.toFixed(9)), [cell, cell], `${label}: cell size`);
  assert.deepEqual(g.origin, [0, 0]);
  assert.deepEqual(res.resolution.cell_size_um, [STRIDE * SPACING, STRIDE * SPACING]);
  const s = (v: number) => Math.round(v / mpp);
  for (const [k, colour] of [[0, 'red'], [1, 'blue']] as const) {
    const map = res.heatmaps.get(k)!;
    const shapes = SHAPES_UM.filter((r) => r.colour === colour).map((r) => ({ x: s(r.x), y: s(r.y), w: s(r.w), h: s(r.h), shape: r.shape }));
    let inter = 0, union = 0, errSum = 0, errMax = 0, n = 0;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const x0 = g.origin[0] + c * g.cellSize[0], y0 = g.origin[1] + r * g.cellSize[1];
      const cov = Math.min(1, shapes.reduce((a, sh) => a + coverage(sh, x0, y0, g.cellSize[0], g.cellSize[1]), 0));
      const v = map[r * cols + c];
      const got = Number.isFinite(v) ? v / FULL : 0;
      const want = cov >= 0.5, have = got >= 0.5;
      if (want && have) inter++;
      if (want || have) union++;
      // values near the shapes (elsewhere both are 0 and would dilute the mean)
      if (x0 + g.cellSize[0] <= s(W_UM) && y0 + g.cellSize[1] <= s(H_UM) && (cov > 0 || got > 0.01)) {
        const e = Math.abs(got - cov);
        errSum += e; errMax = Math.max(errMax, e); n++;
      }
    }
    const iou = inter / union;
    // per-cell values: coverage within the blur of one model pixel at each edge (1/8 of a cell) plus JPEG error
    assert.ok(iou >= 0.9, `${label} ${colour}: IoU ${iou.toFixed(3)} < 0.9`);
    assert.ok(errMax <= 0.2, `${label} ${colour}: worst |map/full − coverage| ${errMax.toFixed(3)} > 0.2`);
    assert.ok(errSum / n <= 0.05, `${label} ${colour}: mean |map/full − coverage| ${(errSum / n).toFixed(4)} > 0.05`);
    console.log(`# ${label} ${colour}: IoU ${iou.toFixed(3)}, |map − coverage| mean ${(errSum / n).toFixed(4)} max ${errMax.toFixed(3)} (cells ${rows}×${cols})`);
  }
  // glass: patches without any shape are not analysed (NaN), those with one are
  const red = res.heatmaps.get(0)!;
  assert.ok(red.some((v) => Number.isNaN(v)), `${label}: glass-only patches are NaN`);
  assert.ok(res.patches.length < res.gridPatches, `${label}: only patches with tissue are analysed`);
}

for (const mpp of [0.5, 0.25]) {
  test(`geometry probe at ${mpp} µm/px (model 1 µm/px): heatmap on the shapes, no overlap and 50 % overlap`, async () => {
    const path = await slideAt(mpp);
    const flat = await analyse(path);
    assert.equal(flat.resolution.read_level, mpp === 0.25 ? 1 : 0, 'reads the finest level that needs no upsampling');
    assert.deepEqual(flat.geometry.stepCells, [8, 8]);
    check(flat, mpp, `${mpp} µm/px`);
    const over = await analyse(path, { overlap: 0.5 });
    assert.deepEqual(over.geometry.stepCells, [4, 4]);
    assert.ok(over.patches.length > flat.patches.length * 2, 'overlapping patches are more');
    check(over, mpp, `${mpp} µm/px overlap 0.5`);
  });
}

test('geometry probe: the --mpp override scales the grid (a wrong µm/px would move every shape)', async () => {
  const path = await slideAt(0.5);
  // telling it the slide is 0.25 µm/px makes patches half as wide in µm: cells of 8 µm become 32 px → 16 µm real
  const res = await analyse(path, { mpp: 0.25, classes: [0] });
  assert.deepEqual(res.geometry.cellSize.map((v) => +v.toFixed(6)), [32, 32]);
  assert.equal(res.resolution.slide_mpp.source, 'user');
  assert.ok(res.warnings.some((w) => /downsampled by 4\.00×/.test(w)), res.warnings.join('; '));
});

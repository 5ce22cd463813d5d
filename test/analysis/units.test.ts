/** Unit tests of the analysis pieces: grid planning, stitching (weights, bounds), Otsu, tissue fractions, scheduler. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planGrid, patchRect, readLevel, clampRegion, Stitcher, tentWeights, otsu, tissueFraction, PatchScheduler, softmaxRows, type TissueMask } from '../../main/engine/analysis/index.js';

test('planGrid: patches tile the region edge to edge; overlap steps whole cells', () => {
  const flat = planGrid({ x: 10, y: 20, w: 1000, h: 500 }, [128, 128], [8, 8], 0);
  assert.deepEqual(flat.geometry.patchGrid, [4, 8]); // ceil(500/128), ceil(1000/128)
  assert.deepEqual(flat.geometry.shape, [32, 64]);
  assert.deepEqual(flat.geometry.cellSize, [16, 16]);
  assert.deepEqual(patchRect(flat.geometry, 1, 2), { x: 10 + 256, y: 20 + 128, w: 128, h: 128 });
  const over = planGrid({ x: 0, y: 0, w: 1000, h: 500 }, [128, 128], [8, 8], 0.5);
  assert.deepEqual(over.geometry.stepCells, [4, 4]);
  assert.deepEqual(over.geometry.patchGrid, [7, 15]); // 1 + ceil((500 − 128)/64), 1 + ceil((1000 − 128)/64)
  assert.deepEqual(over.geometry.shape, [(7 - 1) * 4 + 8, (15 - 1) * 4 + 8]);
  // fractional patch sizes: integer rectangles that abut exactly
  const frac = planGrid({ x: 0, y: 0, w: 1000, h: 300 }, [224.45, 224.45], [28, 28], 0);
  const a = patchRect(frac.geometry, 0, 0), b = patchRect(frac.geometry, 0, 1);
  assert.equal(a.x + a.w, b.x, 'no gap, no overlap between neighbours');
  assert.throws(() => planGrid({ x: 0, y: 0, w: 10, h: 10 }, [4, 4], [2, 2], 1), /overlap must be in \[0, 1\)/);
});

test('readLevel: the coarsest level that needs no upsampling; clampRegion', () => {
  const levels = [1, 4, 16].map((d) => ({ width: 1000 / d, height: 1000 / d, downsample: d, tileWidth: 256, tileHeight: 256 }));
  assert.equal(readLevel(levels, 1), 0);
  assert.equal(readLevel(levels, 3.9), 0);
  assert.equal(readLevel(levels, 4), 1);
  assert.equal(readLevel(levels, 40), 2);
  assert.equal(readLevel(levels, 0.5), 0);
  assert.deepEqual(clampRegion({ x: -10, y: 900, w: 100, h: 500 }, 1000, 1000), { x: 0, y: 900, w: 90, h: 100 });
  assert.throws(() => clampRegion({ x: 2000, y: 0, w: 10, h: 10 }, 1000, 1000), /lies outside the slide/);
  assert.throws(() => clampRegion({ x: 0, y: 0, w: 0, h: 10 }, 1000, 1000), /empty/);
});

test('Stitcher: weighted mean of overlapping patches; NaN where none and past the region', () => {
  const g = planGrid({ x: 0, y: 0, w: 40, h: 20 }, [16, 16], [4, 4], 0.5).geometry; // cells of 4 px, step 2 cells
  assert.deepEqual(g.shape, [6, 10]);
  const st = new Stitcher(g, [0], 2, { x: 0, y: 0, w: 30, h: 20 });
  const maps = (v: number) => new Map([[0, new Float32Array(16).fill(v)]]);
  st.add({ index: 0, row: 0, col: 0, x: 0, y: 0, w: 16, h: 16, tissue: 1 }, maps(1), 0, [0.25, 0.75]);
  st.add({ index: 1, row: 0, col: 1, x: 8, y: 0, w: 16, h: 16, tissue: 1 }, maps(3), 0, [0.75, 0.25]);
  const hm = st.heatmap(0);
  const at = (r: number, c: number) => hm[r * 10 + c];
  assert.equal(at(0, 0), 1);
  assert.equal(at(0, 5), 3);
  // column 2 = patch 0's cell 2 (tent weight 1.5) and patch 1's cell 0 (weight 0.5): (1·1.5 + 3·0.5) / 2 = 1.5
  assert.ok(Math.abs(at(1, 2) - 1.5) < 1e-6, String(at(1, 2)));
  assert.ok(Math.abs(at(1, 3) - (1 * 0.5 + 3 * 1.5) / 2) < 1e-6);
  assert.ok(Number.isNaN(at(0, 6)), 'no patch');
  assert.ok(Number.isNaN(at(4, 0)), 'no patch below');
  const p = st.probabilities();
  assert.ok(Math.abs(p[(1 * 10 + 2) * 2] - (0.25 * 1.5 + 0.75 * 0.5) / 2) < 1e-6);
  // bounds: 30 px wide = 7.5 cells: column 7 straddles the edge and is kept, columns 8.. are NaN even when covered
  const st2 = new Stitcher(g, [0], 2, { x: 0, y: 0, w: 30, h: 20 });
  for (let col = 0; col < 4; col++) st2.add({ index: col, row: 0, col, x: col * 8, y: 0, w: 16, h: 16, tissue: 1 }, maps(2), 0, [0.5, 0.5]);
  const h2 = st2.heatmap(0);
  assert.equal(h2[7], 2);
  assert.ok(Number.isNaN(h2[8]) && Number.isNaN(h2[9]), 'cells wholly past the region are NaN');
  assert.ok(Number.isNaN(st2.probabilities()[8 * 2]));
  assert.deepEqual([...tentWeights(4)], [0.5, 1.5, 1.5, 0.5]);
});

test('otsu splits a bimodal histogram; tissueFraction is area-exact on a known mask', () => {
  const v = new Float32Array(1000);
  for (let i = 0; i < 1000; i++) v[i] = i < 600 ? 0.02 + (i % 10) * 0.001 : 0.4 + (i % 10) * 0.01;
  const t = otsu(v);
  assert.ok(t > 0.03 && t <= 0.4, String(t));
  // 4×4 mask of 10-px cells, tissue in the left half
  const mask = new Uint8Array(16);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 2; x++) mask[y * 4 + x] = 1;
  const integral = new Uint32Array(25);
  for (let y = 0; y < 4; y++) { let row = 0; for (let x = 0; x < 4; x++) { row += mask[y * 4 + x]; integral[(y + 1) * 5 + x + 1] = integral[y * 5 + x + 1] + row; } }
  const m: TissueMask = { downsample: 10, width: 4, height: 4, threshold: 0.1, mask, integral, level: 0, fraction: 0.5 };
  assert.equal(tissueFraction(m, { x: 0, y: 0, w: 40, h: 40 }), 0.5);
  assert.equal(tissueFraction(m, { x: 0, y: 0, w: 20, h: 40 }), 1);
  assert.ok(Math.abs(tissueFraction(m, { x: 15, y: 5, w: 10, h: 10 }) - 0.5) < 1e-12, 'half a pixel each side of the edge');
  assert.equal(tissueFraction(m, { x: 30, y: 0, w: 40, h: 40 }), 0, 'glass and outside the slide');
  assert.ok(Math.abs(tissueFraction(m, { x: -20, y: 0, w: 40, h: 40 }) - 0.5) < 1e-12, 'outside counts as glass');
});

test('scheduler: ROI patches first, nearest its centre first; re-prioritise; softmax rows', () => {
  const patches = Array.from({ length: 10 }, (_, i) => ({ index: i, row: 0, col: i, x: i * 10, y: 0, w: 10, h: 10, tissue: 1 }));
  const s = new PatchScheduler(patches, { x: 60, y: 0, w: 20, h: 10 });
  assert.deepEqual(s.take(2).map((p) => p.index).sort(), [6, 7]);
  s.prioritize({ x: 0, y: 0, w: 10, h: 10 });
  assert.deepEqual(s.take(3).map((p) => p.index), [0, 1, 2]);
  assert.equal(s.remaining, 5);
  const sm = softmaxRows(new Float32Array([0, 0, 1000, 0]), 2, 2);
  assert.deepEqual([...sm].map((v) => +v.toFixed(6)), [0.5, 0.5, 1, 0]);
});

/**
 * Heatmap → regions: polygons exactly on the cells at or above the threshold (random masks and a heatmap folder with
 * known cells at fractional cell sizes), holes, connectivity, minimum area, percentile thresholds, smoothing and the
 * half-cell bound of the simplification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../helpers/rng.js';
import { heatmapRegions, loadHeatmap, maskRegions, percentileOf, smoothGrid, type Position, type Ring } from '../../main/engine/annotations/index.js';
import { ringSignedArea } from '../../main/engine/annotations/geom.js';
import { inside, writeHeatmapDir } from './heatmap-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-regions-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** components of a mask by flood fill (4- or 8-connected) */
function components(mask: Uint8Array, rows: number, cols: number, diag: boolean): number {
  const seen = new Uint8Array(mask.length);
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i] || seen[i]) continue;
    n++;
    const st = [i];
    seen[i] = 1;
    while (st.length) {
      const k = st.pop()!, r = Math.floor(k / cols), c = k % cols;
      for (const [dr, dc] of diag ? [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]] : [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
        const rr = r + dr, cc = c + dc, j = rr * cols + cc;
        if (rr >= 0 && cc >= 0 && rr < rows && cc < cols && mask[j] && !seen[j]) { seen[j] = 1; st.push(j); }
      }
    }
  }
  return n;
}

test('maskRegions: random masks give polygons exactly on the cells (cell centres, areas, corners only, one polygon per component)', () => {
  const rand = rng(20261202);
  for (let trial = 0; trial < 60; trial++) {
    const rows = 1 + Math.floor(rand() * 14), cols = 1 + Math.floor(rand() * 14), density = 0.2 + rand() * 0.6;
    const mask = new Uint8Array(rows * cols).map(() => (rand() < density ? 1 : 0));
    for (const diag of [false, true]) {
      const polys = maskRegions(mask, rows, cols, diag);
      const label = `trial ${trial} ${rows}×${cols} ${diag ? '8' : '4'}-connected`;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
        assert.equal(inside(polys, c + 0.5, r + 0.5), mask[r * cols + c] === 1, `${label}: cell (${r}, ${c})`);
      }
      const area = polys.reduce((s, rings) => s + rings.reduce((t, ring, i) => t + (i === 0 ? 1 : -1) * Math.abs(ringSignedArea(ring)), 0), 0);
      assert.equal(area, mask.reduce((s, v) => s + v, 0), `${label}: area = cells in`);
      assert.equal(polys.length, components(mask, rows, cols, diag), `${label}: one polygon per component`);
      for (const rings of polys) {
        rings.forEach((ring, i) => {
          assert.ok(i === 0 ? ringSignedArea(ring) > 0 : ringSignedArea(ring) < 0, `${label}: orientation`);
          assert.deepEqual(ring[0], ring[ring.length - 1], 'closed');
          for (let k = 1; k < ring.length - 1; k++) {
            const [a, b, d] = [ring[k - 1], ring[k], ring[k + 1]];
            const cross = (b[0] - a[0]) * (d[1] - b[1]) - (b[1] - a[1]) * (d[0] - b[0]);
            assert.notEqual(cross, 0, `${label}: vertex ${k} is a corner, not a collinear point`);
          }
          if (!diag && i > 0) assert.equal(new Set(ring.slice(0, -1).map(String)).size, ring.length - 1, `${label}: holes are simple rings`);
        });
      }
    }
  }
});

test('maskRegions: a ring of cells is one polygon with one hole; diagonal cells are separate unless asked', () => {
  const ring = maskRegions(Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]), 3, 3);
  assert.deepEqual(ring, [[[[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]], [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]]]);
  assert.equal(maskRegions(Uint8Array.from([1, 0, 0, 1]), 2, 2).length, 2);
  assert.equal(maskRegions(Uint8Array.from([1, 0, 0, 1]), 2, 2, true).length, 1);
});

/**
 * A 40×30 grid of 12.5×7.25 px cells at (1000.5, 2000): a 10×8 block with a 3×2 hole, a 2×2 block, a lone cell,
 * NaN cells; values 0.9 in shapes and 0.1 elsewhere, except a 0.6 cell.
 */
const SPEC = {
  rows: 30, cols: 40, origin: [1000.5, 2000] as [number, number], cell: [12.5, 7.25] as [number, number], mpp: [0.4, 0.4] as [number, number],
  value: (r: number, c: number) => {
    if (r >= 25) return NaN;
    if (r >= 5 && r < 13 && c >= 4 && c < 14) return r >= 8 && r < 10 && c >= 7 && c < 10 ? 0.1 : 0.9;
    if (r >= 20 && r < 22 && c >= 30 && c < 32) return 0.9;
    if (r === 2 && c === 35) return 0.6;
    return 0.1;
  },
};

test('heatmapRegions from a heatmap folder: polygons exactly on the cells ≥ T in level-0 px, with holes, measurements, provenance', async () => {
  const hd = join(dir, 'known');
  const values = writeHeatmapDir(hd, SPEC);
  const grid = await loadHeatmap(hd);
  const { annotations, threshold } = heatmapRegions(grid, { threshold: 0.5 });
  assert.equal(threshold, 0.5);
  assert.equal(annotations.length, 3);
  const [big, small, lone] = annotations;
  const [ox, oy] = SPEC.origin, [cw, ch] = SPEC.cell;
  assert.deepEqual(big.geometry, {
    type: 'Polygon', coordinates: [
      [[ox + 4 * cw, oy + 5 * ch], [ox + 14 * cw, oy + 5 * ch], [ox + 14 * cw, oy + 13 * ch], [ox + 4 * cw, oy + 13 * ch], [ox + 4 * cw, oy + 5 * ch]],
      [[ox + 7 * cw, oy + 8 * ch], [ox + 7 * cw, oy + 10 * ch], [ox + 10 * cw, oy + 10 * ch], [ox + 10 * cw, oy + 8 * ch], [ox + 7 * cw, oy + 8 * ch]],
    ],
  });
  // every cell centre: inside a region ⇔ value ≥ T
  const polys = annotations.map((a) => (a.geometry as { coordinates: Ring[] }).coordinates);
  for (let r = 0; r < SPEC.rows; r++) for (let c = 0; c < SPEC.cols; c++) {
    assert.equal(inside(polys, ox + (c + 0.5) * cw, oy + (r + 0.5) * ch), values[r * SPEC.cols + c] >= 0.5, `cell ${r},${c}`);
  }
  const cellUm2 = cw * ch * 0.16;
  assert.ok(Math.abs(big.measurements['Area µm^2'] - (80 - 6) * cellUm2) < 1e-6);
  assert.equal(big.measurements['Heatmap mean'], Math.fround(0.9));
  assert.equal(big.measurements['Heatmap fraction >= 0.5'], 1);
  assert.ok(Math.abs(big.measurements['Probability tumor'] - Math.fround(0.9)) < 1e-6);
  assert.equal(small.measurements['Area µm^2'], 4 * cellUm2);
  assert.equal(lone.measurements['Heatmap max'], Math.fround(0.6));
  assert.equal(big.name, 'tumor region 1');
  assert.deepEqual(big.classification?.name, 'tumor');
  assert.equal(big.provenance.source, 'heatmap');
  if (big.provenance.source === 'heatmap') {
    assert.equal(big.provenance.heatmap.file, 'heatmap.npy');
    assert.equal(big.provenance.heatmap.model, 'probe');
    assert.equal(big.provenance.threshold, 0.5);
  }
  // minimum area: the lone cell (12.5·7.25·0.16 = 14.5 µm²) and the 2×2 block (58 µm²) go below 60 µm²
  assert.equal(heatmapRegions(grid, { threshold: 0.5, minAreaUm2: 14 }).annotations.length, 3);
  assert.equal(heatmapRegions(grid, { threshold: 0.5, minAreaUm2: 15 }).annotations.length, 2);
  assert.equal(heatmapRegions(grid, { threshold: 0.5, minAreaUm2: 60 }).annotations.length, 1);
  // 8-connectivity changes nothing here; a threshold above 0.6 drops the lone cell
  assert.equal(heatmapRegions(grid, { threshold: 0.61 }).annotations.length, 2);
});

test('percentile thresholds, NaN-aware smoothing, unknown µm/px', async () => {
  const hd = join(dir, 'known2');
  const values = writeHeatmapDir(hd, SPEC);
  const grid = await loadHeatmap(hd);
  const finite = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  assert.equal(percentileOf(values, 0), finite[0]);
  assert.equal(percentileOf(values, 100), finite[finite.length - 1]);
  // 1000 finite cells; 74 + 4 + 1 = 79 are ≥ 0.6: the 95th percentile is 0.9 (the top 7.9 %), the 90th 0.1
  const p95 = heatmapRegions(grid, { threshold: 95, percentile: true });
  assert.equal(p95.threshold, Math.fround(0.9));
  assert.equal(p95.annotations.length, 2);
  assert.equal(heatmapRegions(grid, { threshold: 90, percentile: true }).threshold, Math.fround(0.1));
  // smoothing keeps NaN cells NaN and spreads a lone peak
  const sm = smoothGrid(values, SPEC.rows, SPEC.cols, 1);
  assert.ok(Number.isNaN(sm[26 * SPEC.cols + 3]));
  assert.ok(sm[2 * SPEC.cols + 35] < 0.6 && sm[2 * SPEC.cols + 34] > 0.1);
  const smoothed = heatmapRegions(grid, { threshold: 0.5, smoothCells: 1 }).annotations;
  assert.equal(smoothed.length, 1, 'the lone cell and the 2×2 block smooth away, the big block stays');
  assert.ok(smoothed[0].measurements['Area µm^2'] > 40 * SPEC.cell[0] * SPEC.cell[1] * 0.16);
  assert.equal(smoothed[0].provenance.source === 'heatmap' && smoothed[0].provenance.smoothCells, 1);
  const noMpp = join(dir, 'nompp');
  writeHeatmapDir(noMpp, { ...SPEC, mpp: null });
  const g2 = await loadHeatmap(noMpp);
  assert.equal(g2.mpp, null);
  assert.throws(() => heatmapRegions(g2, { threshold: 0.5, minAreaUm2: 10 }), /µm\/px/);
  assert.ok('Area px^2' in heatmapRegions(g2, { threshold: 0.5 }).annotations[0].measurements);
  assert.throws(() => heatmapRegions(grid, { threshold: 0.5, simplifyCells: 0.6 }), /at most half a cell/);
  assert.throws(() => heatmapRegions(grid, { threshold: 101, percentile: true }), /percentile must be 0\.\.100/);
});

test('simplification: staircases straighten, the boundary moves at most the tolerance (≤ ½ cell) both ways, rectangles stay', async () => {
  // a 45° band (staircase edges) and a separate 6×4 rectangle
  const hd = join(dir, 'stairs');
  writeHeatmapDir(hd, {
    rows: 40, cols: 60, origin: [0, 0], cell: [10, 10],
    value: (r, c) => ((c <= r && r - c < 12) || (r >= 2 && r < 6 && c >= 45 && c < 51) ? 1 : 0),
  });
  const grid = await loadHeatmap(hd);
  const exact = heatmapRegions(grid, { threshold: 0.5 }).annotations;
  const n = (g: { coordinates: Ring[] }) => g.coordinates.reduce((s, r) => s + r.length, 0);
  const segDist = (p: Position, a: Position, b: Position) => {
    const dx = b[0] - a[0], dy = b[1] - a[1];
    const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1)));
    return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
  };
  const dense = (ring: Ring) => ring.slice(1).flatMap((b, i) => Array.from({ length: 20 }, (_, k): Position => [ring[i][0] + (k / 20) * (b[0] - ring[i][0]), ring[i][1] + (k / 20) * (b[1] - ring[i][1])]));
  const toRing = (p: Position, ring: Ring) => Math.min(...ring.slice(1).map((b, i) => segDist(p, ring[i], b)));
  const hausdorff = (a: Ring, b: Ring) => Math.max(...dense(a).map((p) => toRing(p, b)), ...dense(b).map((p) => toRing(p, a)));
  for (const tol of [0.5, 0.2]) {
    const simp = heatmapRegions(grid, { threshold: 0.5, simplifyCells: tol }).annotations;
    const band = simp[0].geometry as { coordinates: Ring[] }, bandExact = exact[0].geometry as { coordinates: Ring[] };
    const h = hausdorff(band.coordinates[0], bandExact.coordinates[0]);
    assert.ok(h <= tol * 10 + 1e-9, `tolerance ${tol}: boundary moved ${h / 10} cells`);
    // below 0.354 cell a staircase corner cannot move (it is 0.7 cell off the line through its neighbours)
    if (tol === 0.5) assert.ok(h > 3, 'simplification did something');
    if (tol === 0.5) assert.ok(n(band) <= 8, `the 45° staircase band becomes a few straight edges (${n(band)} vertices, exact ${n(bandExact)})`);
    assert.deepEqual(simp[1].geometry, exact[1].geometry, 'the rectangle is unchanged');
  }
});

test('loadHeatmap: clear errors for a missing folder, no sidecar, several maps without a class, a wrong npy shape', async () => {
  await assert.rejects(loadHeatmap(join(dir, 'nope')), /no such folder/);
  await assert.rejects(loadHeatmap(dir), /no heatmap\.json/);
  const multi = join(dir, 'multi');
  writeHeatmapDir(multi, SPEC);
  const { renameSync, copyFileSync, writeFileSync } = await import('node:fs');
  renameSync(join(multi, 'heatmap.json'), join(multi, 'heatmap-tumor.json'));
  renameSync(join(multi, 'heatmap.npy'), join(multi, 'heatmap-tumor.npy'));
  copyFileSync(join(multi, 'heatmap-tumor.npy'), join(multi, 'heatmap-other.npy'));
  writeFileSync(join(multi, 'heatmap-other.json'), JSON.stringify({ ...JSON.parse((await import('node:fs')).readFileSync(join(multi, 'heatmap-tumor.json'), 'utf8')), class: 'other' }));
  await assert.rejects(loadHeatmap(multi), /2 maps; choose a class: other \(heatmap-other\.json\), tumor/);
  assert.equal((await loadHeatmap(multi, 'other')).className, 'other');
  await assert.rejects(loadHeatmap(multi, 'stroma'), /no map for class 'stroma'/);
  writeFileSync(join(multi, 'heatmap-other.json'), JSON.stringify({ ...JSON.parse((await import('node:fs')).readFileSync(join(multi, 'heatmap-tumor.json'), 'utf8')), class: 'other', shape: [3, 3] }));
  await assert.rejects(loadHeatmap(multi, 'other'), /expected float32 3×3/);
});

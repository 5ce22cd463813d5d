/** Measurements against hand-computed values; heatmap statistics with covered-area weights; format helpers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newAnnotation, measureAnnotation, measureGeometry, formatArea, formatLength, heatmapStats, measurementRecord, ellipsePerimeter,
  validateAnnotation, type HeatmapGrid, type Geometry,
} from '../../main/engine/annotations/index.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('polygon with a hole: area, perimeter and centroid by hand', () => {
  // 10×10 square at (100, 200) minus a 4×2 hole at (102, 203): area 100 − 8 = 92 px²
  const g: Geometry = {
    type: 'Polygon', coordinates: [
      [[100, 200], [110, 200], [110, 210], [100, 210], [100, 200]],
      [[102, 203], [106, 203], [106, 205], [102, 205], [102, 203]],
    ],
  };
  const a = newAnnotation({ shape: { kind: 'polygon' }, geometry: g });
  const px = measureAnnotation(a, null);
  assert.equal(px.unit, 'px');
  assert.equal(px.area, 92);
  assert.equal(px.perimeter, 40 + 12);
  // centroid: (100·(105,205) − 8·(104,204)) / 92
  close(px.centroid[0], (100 * 105 - 8 * 104) / 92, 1e-9, 'cx');
  close(px.centroid[1], (100 * 205 - 8 * 204) / 92, 1e-9, 'cy');
  const um = measureAnnotation(a, { x: 0.5, y: 0.25 });
  assert.equal(um.unit, 'um');
  close(um.area, 92 * 0.125, 1e-12, 'µm² with anisotropic pixels');
  close(um.perimeter, 2 * (10 * 0.5 + 10 * 0.25) + 2 * (4 * 0.5 + 2 * 0.25), 1e-12, 'µm perimeter per axis');
  // the hole is a hole whatever the orientation the caller gave (normalised on validation)
  const rev = newAnnotation({ shape: { kind: 'polygon' }, geometry: { type: 'Polygon', coordinates: g.coordinates.map((r) => [...r].reverse()) } });
  assert.equal(measureAnnotation(rev, null).area, 92);
});

test('ellipse: area πab exactly, perimeter (Ramanujan) vs the polygon; rectangle', () => {
  const e = newAnnotation({ shape: { kind: 'ellipse', cx: 500, cy: 300, rx: 40, ry: 10 } });
  const m = measureAnnotation(e, { x: 0.25, y: 0.25 });
  close(m.area, Math.PI * 40 * 10 * 0.0625, 1e-9, 'πab µm²');
  assert.deepEqual(m.centroid, [500, 300]);
  // a circle: 2πr exactly
  close(ellipsePerimeter(7, 7), 2 * Math.PI * 7, 1e-9, 'circle perimeter');
  // the derived polygon is close to the ellipse (72 vertices)
  const poly = measureGeometry(e.geometry, null);
  assert.ok(Math.abs(poly.area - Math.PI * 400) / (Math.PI * 400) < 0.002, `polygon area ${poly.area}`);
  close(poly.perimeter, ellipsePerimeter(40, 10), 0.01 * ellipsePerimeter(40, 10), 'polygon perimeter');
  const r = newAnnotation({ shape: { kind: 'rectangle', x: 10, y: 20, width: 30, height: 5 } });
  assert.deepEqual(r.geometry, { type: 'Polygon', coordinates: [[[10, 20], [40, 20], [40, 25], [10, 25], [10, 20]]] });
  assert.equal(measureAnnotation(r, null).area, 150);
  // the shape is the truth: a stale rectangle geometry is re-derived on validation
  const stale = validateAnnotation({ ...r, shape: { kind: 'rectangle', x: 0, y: 0, width: 2, height: 2 } });
  assert.deepEqual(stale.geometry.coordinates, [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]);
});

test('points and polylines: counts, length, centroid', () => {
  const l = measureGeometry({ type: 'LineString', coordinates: [[0, 0], [30, 40], [30, 50]] }, { x: 2, y: 2 });
  assert.equal(l.perimeter, 120);
  assert.equal(l.perimeterPx, 60);
  const p = measureGeometry({ type: 'MultiPoint', coordinates: [[0, 0], [4, 2]] }, null);
  assert.deepEqual([p.points, p.area, ...p.centroid], [2, 0, 2, 1]);
});

test('formatArea / formatLength: µm², mm² from 0.1 mm², px when µm/px is unknown', () => {
  assert.equal(formatArea({ unit: 'um', area: 512.3 }), '512 µm²');
  assert.equal(formatArea({ unit: 'um', area: 99_999 }), '99,999 µm²');
  assert.equal(formatArea({ unit: 'um', area: 1_234_567 }), '1.23 mm²');
  assert.equal(formatArea({ unit: 'um', area: 3.14159 }), '3.14 µm²');
  assert.equal(formatArea({ unit: 'px', area: 812 }), '812 px² (µm/px unknown)');
  assert.equal(formatLength({ unit: 'um', perimeter: 85.31 }), '85.3 µm');
  assert.equal(formatLength({ unit: 'um', perimeter: 1200 }), '1.2 mm');
  assert.equal(formatLength({ unit: 'px', perimeter: 40 }), '40 px (µm/px unknown)');
});

/** a 4×4 grid of 10-px cells at origin (100, 50); values = row·4 + col; cell (0,0) NaN */
function grid(): HeatmapGrid {
  const values = new Float32Array(16).map((_, i) => i);
  values[0] = NaN;
  const probabilities = new Float32Array(32);
  for (let i = 0; i < 16; i++) { probabilities[2 * i] = i / 16; probabilities[2 * i + 1] = 1 - i / 16; }
  return {
    origin: [100, 50], cellSize: [10, 10], shape: [4, 4], values, probabilities, classNames: ['tumor', 'normal'],
    file: 'heatmap.npy', className: 'tumor', mpp: { x: 0.5, y: 0.5 },
  };
}

test('heatmapStats: partly covered cells weigh by covered area; NaN cells left out', () => {
  // rectangle over cells (1,1) fully and half of (1,2): x 110..125, y 60..70
  const r = newAnnotation({ shape: { kind: 'rectangle', x: 110, y: 60, width: 15, height: 10 } });
  const s = heatmapStats(r.geometry, grid(), 6);
  // cell (1,1) = 5 weight 100, cell (1,2) = 6 weight 50
  close(s.mean, (5 * 100 + 6 * 50) / 150, 1e-9, 'mean');
  assert.equal(s.max, 6);
  assert.equal(s.p90, 6);
  close(s.fractionAbove, 50 / 150, 1e-9, 'fraction ≥ 6');
  close(s.classProbabilities.tumor, (5 / 16 * 100 + 6 / 16 * 50) / 150, 1e-6, 'p(tumor)');
  assert.equal(s.nanFraction, 0);
  // a triangle over the NaN cell and cell (0,1): half of the area on NaN
  const tri = newAnnotation({ shape: { kind: 'polygon' }, geometry: { type: 'Polygon', coordinates: [[[100, 50], [120, 50], [120, 60], [100, 50]]] } });
  const t = heatmapStats(tri.geometry, grid());
  // triangle area 100: over cell (0,0) x 100..110 the part below the line y = 50 + (x − 100)/2: 25; cell (0,1): 75
  close(t.nanFraction, 0.25, 1e-9, 'NaN share');
  assert.equal(t.mean, 1);
  assert.ok(Number.isNaN(t.fractionAbove), 'no threshold → NaN');
  // a polygon with a hole over cell (2,2): the hole's cells carry no weight
  const holed = newAnnotation({
    shape: { kind: 'polygon' }, geometry: {
      type: 'Polygon', coordinates: [[[110, 60], [140, 60], [140, 90], [110, 90], [110, 60]], [[120, 70], [130, 70], [130, 80], [120, 80], [120, 70]]],
    },
  });
  const h = heatmapStats(holed.geometry, grid());
  const ring = [5, 6, 7, 9, 11, 13, 14, 15];
  close(h.mean, ring.reduce((a, b) => a + b, 0) / ring.length, 1e-9, 'mean around the hole (cell 10 excluded)');
  // outside the grid: all of it unanalysed
  const out = newAnnotation({ shape: { kind: 'rectangle', x: 0, y: 0, width: 20, height: 20 } });
  assert.equal(heatmapStats(out.geometry, grid()).nanFraction, 1);
});

test('measurementRecord: QuPath-style names with units; no NaN entries', () => {
  const r = newAnnotation({ shape: { kind: 'rectangle', x: 100, y: 50, width: 10, height: 10 } });
  const m = measurementRecord(r, { x: 0.5, y: 0.5 }, grid(), 3);
  assert.equal(m['Area µm^2'], 25);
  assert.equal(m['Perimeter µm'], 20);
  assert.ok(!('Heatmap mean' in m), 'a region wholly on NaN cells has no heatmap mean (JSON has no NaN)');
  const px = measurementRecord(r, null);
  assert.equal(px['Area px^2'], 100);
});

test('cellCoverage: the row sweep equals clipping each cell (random star polygons with holes, fractional cells)', async () => {
  const { cellCoverage } = await import('../../main/engine/annotations/index.js');
  const { clipStrip, clipColumn, ringSignedArea, openRing } = await import('../../main/engine/annotations/geom.js');
  const { rng } = await import('../helpers/rng.js');
  const rand = rng(77);
  const g = { origin: [1000.25, 500.5] as [number, number], cellSize: [7.5, 5.25] as [number, number], shape: [40, 50] as [number, number] };
  const star = (cx: number, cy: number, r: number, n: number) => {
    const ring: Array<[number, number]> = Array.from({ length: n }, (_, k) => {
      const t = (2 * Math.PI * k) / n, rr = r * (0.5 + rand() * 0.5);
      return [cx + rr * Math.cos(t), cy + rr * Math.sin(t)];
    });
    return [...ring, ring[0]];
  };
  for (let trial = 0; trial < 20; trial++) {
    const cx = 1000 + rand() * 400, cy = 500 + rand() * 220;
    const geometry: Geometry = { type: 'Polygon', coordinates: [star(cx, cy, 60 + rand() * 80, 5 + Math.floor(rand() * 30)), star(cx, cy, 15, 7).reverse()] };
    const a = newAnnotation({ shape: { kind: 'polygon' }, geometry });
    const cov = cellCoverage(a.geometry, g);
    const got = new Map<number, number>();
    cov.cells.forEach((k, i) => got.set(k, cov.weights[i]));
    const want = new Map<number, number>();
    (a.geometry as Extract<Geometry, { type: 'Polygon' }>).coordinates.forEach((ring, i) => {
      const open = openRing(ring);
      for (let r = 0; r < 40; r++) for (let c = 0; c < 50; c++) {
        const piece = clipColumn(clipStrip(open, 500.5 + r * 5.25, 500.5 + (r + 1) * 5.25), 1000.25 + c * 7.5, 1000.25 + (c + 1) * 7.5);
        if (piece.length >= 3) want.set(r * 50 + c, (want.get(r * 50 + c) ?? 0) + (i === 0 ? 1 : -1) * Math.abs(ringSignedArea(piece)));
      }
    });
    for (const [k, w] of want) close(got.get(k) ?? 0, w, 1e-6, `trial ${trial} cell ${k}`);
    for (const [k, w] of got) close(want.get(k) ?? 0, w, 1e-6, `trial ${trial} cell ${k} (extra)`);
  }
});

test('weightedQuantile (quickselect) equals the sorted definition, ties included', async () => {
  const { weightedQuantile } = await import('../../main/engine/annotations/measurements.js');
  const { rng } = await import('../helpers/rng.js');
  const rand = rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 60);
    const v = Float64Array.from({ length: n }, () => Math.floor(rand() * 12) / 4);
    const w = Float64Array.from({ length: n }, () => (rand() < 0.2 ? 0.001 : rand() * 3));
    for (const q of [0.5, 0.9, 1]) {
      const pairs = Array.from(v, (x, i) => [x, w[i]]).sort((a, b) => a[0] - b[0]);
      const total = pairs.reduce((s, p) => s + p[1], 0);
      let acc = 0, want = pairs[pairs.length - 1][0];
      for (const [x, ww] of pairs) { acc += ww; if (acc >= q * total * (1 - 1e-12)) { want = x; break; } }
      assert.equal(weightedQuantile(v.slice(), w.slice(), q), want, `trial ${trial} q ${q}`);
    }
  }
});

/**
 * The brush's geometry (renderer/src/lib/annotations/brush.ts, on Clipper2): a stroke's painted area against the
 * exact area of a capsule, loops that leave a hole, adding to and cutting from an area (holes kept, parts split),
 * point-in-area with holes, and the size steps of [ and ].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paint, strokeArea } from '../../renderer/src/lib/annotations/brush.js';
import { brushStep, BRUSH_MAX_PX, BRUSH_MIN_PX } from '../../renderer/src/lib/annotations/brush-size.js';
import { insideArea } from '../../renderer/src/lib/annotations/geometry.js';
import type { GeometryDTO, PositionDTO } from '../../main/contract/annotations.js';

const ringArea = (r: PositionDTO[]) => {
  let s = 0;
  for (let i = 0; i + 1 < r.length; i++) s += r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1];
  return Math.abs(s) / 2;
};
/** area of a Polygon / MultiPolygon: exteriors minus holes */
const areaOf = (g: GeometryDTO | null): number => {
  if (!g) return 0;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.reduce((s, p) => s + ringArea(p[0]) - p.slice(1).reduce((h, r) => h + ringArea(r), 0), 0);
};
const closed = (g: GeometryDTO) => {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.flat().every((r) => r.length >= 4 && r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1]);
};
const square = (x: number, y: number, w: number): GeometryDTO => ({ type: 'Polygon', coordinates: [[[x, y], [x + w, y], [x + w, y + w], [x, y + w], [x, y]]] });

test('a stroke paints a capsule: length × width plus a disc, within the arc tolerance', () => {
  // a bend of θ: two rectangles 2r wide, two half-disc ends, a θ sector on the outer side, and the rectangles'
  // overlap on the inner side (a kite of r² tan(θ/2)) counted once
  const theta = Math.atan2(30, 40);
  for (const [r, arc] of [[10, 0.05], [20, 0.2], [3, 0.01]]) {
    const g = paint(null, strokeArea([[0, 0], [40, 30], [100, 30]], r, arc))!;
    assert.equal(g.type, 'Polygon');
    assert.ok(closed(g));
    const exact = 2 * r * (50 + 60) + Math.PI * r * r + (theta * r * r) / 2 - r * r * Math.tan(theta / 2);
    const a = areaOf(g);
    // the round parts are polygons inside their arcs, within `arc` of them: short by less than their length × arc
    const shortfall = (2 * Math.PI + theta) * r * arc;
    assert.ok(a <= exact + 1e-6 && a >= exact - shortfall, `r ${r}: ${a} vs ${exact} (shortfall ≤ ${shortfall})`);
  }
  // a straight stroke: exactly the capsule less the polygonal shortfall of its two round ends
  const r = 20, arc = 0.02;
  const a = areaOf(paint(null, strokeArea([[0, 0], [200, 0]], r, arc)));
  const exact = 2 * r * 200 + Math.PI * r * r;
  assert.ok(a <= exact && exact - a <= 2 * Math.PI * r * arc, `${a} vs ${exact}`);
  // one point: a disc
  const disc = areaOf(paint(null, strokeArea([[5, 5]], 10, 0.01)));
  assert.ok(Math.abs(disc - Math.PI * 100) <= 2 * Math.PI * 10 * 0.01, `disc ${disc}`);
  assert.deepEqual(strokeArea([], 5), []);
  assert.deepEqual(strokeArea([[0, 0]], 0), []);
});

test('a loop painted round leaves a hole; the hole is outside the area', () => {
  const g = paint(null, strokeArea([[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], 10, 0.01))!;
  assert.equal(g.type, 'Polygon');
  const rings = (g as { coordinates: PositionDTO[][] }).coordinates;
  assert.equal(rings.length, 2, 'exterior and one hole');
  assert.ok(Math.abs(ringArea(rings[1]) - 80 * 80) < 1e-6, `hole ${ringArea(rings[1])}`); // the square inside, 10 px in
  assert.equal(insideArea(g, [50, 50]), false);
  assert.equal(insideArea(g, [0, 50]), true);
  assert.equal(insideArea(g, [200, 50]), false);
});

test('adding to an area and cutting from it: union, holes kept, parts split, nothing left → null', () => {
  const sq = square(0, 0, 100);
  // a stroke from inside out: one polygon, the square plus what the stroke adds outside it
  const grown = paint(sq, strokeArea([[50, 50], [150, 50]], 10, 0.01))!;
  assert.equal(grown.type, 'Polygon');
  const added = 50 * 20 + (Math.PI * 100) / 2;
  assert.ok(Math.abs(areaOf(grown) - (10_000 + added)) < 2 * Math.PI * 10 * 0.01, `${areaOf(grown)}`);
  // a cut through the middle: two parts, each 45 wide
  const cut = paint(sq, strokeArea([[50, -50], [50, 150]], 5, 0.01), true)!;
  assert.equal(cut.type, 'MultiPolygon');
  const parts = (cut as { coordinates: PositionDTO[][][] }).coordinates;
  assert.deepEqual(parts.map((p) => Math.round(ringArea(p[0]))).sort(), [4500, 4500]);
  assert.ok(closed(cut));
  // a hole in the area (either winding) stays a hole when a stroke is added elsewhere
  for (const hole of [[[40, 40], [60, 40], [60, 60], [40, 60], [40, 40]], [[40, 40], [40, 60], [60, 60], [60, 40], [40, 40]]] as PositionDTO[][]) {
    const holed: GeometryDTO = { type: 'Polygon', coordinates: [(sq as { coordinates: PositionDTO[][] }).coordinates[0], hole] };
    const g = paint(holed, strokeArea([[90, 90], [120, 120]], 5, 0.01))!;
    assert.equal(g.type, 'Polygon');
    assert.equal((g as { coordinates: PositionDTO[][] }).coordinates.length, 2);
    assert.equal(insideArea(g, [50, 50]), false, 'the hole is kept');
    // painting over the hole fills it
    const filled = paint(holed, strokeArea([[30, 50], [70, 50]], 15, 0.01))!;
    assert.equal((filled as { coordinates: PositionDTO[][] }).coordinates.length, 1);
    assert.ok(Math.abs(areaOf(filled) - 10_000) < 1e-6);
  }
  // a cut bigger than the area: nothing left
  assert.equal(paint(sq, strokeArea([[50, 50]], 200, 0.1), true), null);
  // a MultiPolygon joined by a stroke becomes one polygon
  const two: GeometryDTO = { type: 'MultiPolygon', coordinates: [(square(0, 0, 10) as { coordinates: PositionDTO[][] }).coordinates, (square(30, 0, 10) as { coordinates: PositionDTO[][] }).coordinates] };
  const joined = paint(two, strokeArea([[5, 5], [35, 5]], 2, 0.01))!;
  assert.equal(joined.type, 'Polygon');
  assert.ok(Math.abs(areaOf(joined) - (200 + 20 * 4)) < 1e-6, `${areaOf(joined)}`);
});

test('insideArea reads MultiPolygons and holes even-odd; points and lines have no inside', () => {
  const g: GeometryDTO = { type: 'MultiPolygon', coordinates: [[[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[3, 3], [7, 3], [7, 7], [3, 7], [3, 3]]], [[[20, 0], [30, 0], [30, 10], [20, 0]]]] };
  assert.deepEqual([[1, 1], [5, 5], [25, 2], [21, 8], [15, 5]].map((p) => insideArea(g, p as PositionDTO)), [true, false, true, false, false]);
  assert.equal(insideArea({ type: 'Point', coordinates: [0, 0] }, [0, 0]), false);
  assert.equal(insideArea({ type: 'LineString', coordinates: [[0, 0], [10, 10]] }, [5, 5]), false);
});

test('[ and ] step the brush size by a quarter, at least a pixel, within the limits', () => {
  assert.equal(brushStep(24, true), 30);
  assert.equal(brushStep(30, false), 24);
  assert.equal(brushStep(2, true), 3);
  assert.equal(brushStep(3, false), 2);
  assert.equal(brushStep(BRUSH_MIN_PX, false), BRUSH_MIN_PX);
  assert.equal(brushStep(BRUSH_MAX_PX, true), BRUSH_MAX_PX);
  let px = BRUSH_MIN_PX, steps = 0;
  while (px < BRUSH_MAX_PX) { const n = brushStep(px, true); assert.ok(n > px); px = n; steps++; }
  assert.ok(steps < 30, `${steps} presses from the smallest to the largest`);
});

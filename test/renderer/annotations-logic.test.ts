/** The renderer's pure annotation logic: shapes from drags, moving and vertex edits, hit tests, simplify, units; keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GeometryDTO, PositionDTO, ShapeDTO } from '../../main/contract/annotations.js';
import {
  bounds, ellipseFrom, formatArea, formatLength, handles, hexToRgb, moveHandle, pathData, rectFrom, removeVertex, rgbToHex, scaledLength, simplify, translate,
} from '../../renderer/src/lib/annotations/geometry.js';
import { commandForKey, parseMenuCommand, SHORTCUTS } from '../../renderer/src/lib/shortcuts.js';

const square: { shape: ShapeDTO; geometry: GeometryDTO } = {
  shape: { kind: 'polygon' },
  geometry: { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]] },
};

test('rectangles and ellipses from two corners, in any drag direction', () => {
  assert.deepEqual(rectFrom([30, 40], [10, 10]), { kind: 'rectangle', x: 10, y: 10, width: 20, height: 30 });
  assert.deepEqual(ellipseFrom([0, 0], [20, -10]), { kind: 'ellipse', cx: 10, cy: -5, rx: 10, ry: 5 });
  const e = { shape: ellipseFrom([0, 0], [20, 10]), geometry: { type: 'Polygon', coordinates: [] } as GeometryDTO };
  assert.deepEqual(bounds(e), { x: 0, y: 0, w: 20, h: 10 });
});

test('move, drag a handle, remove a vertex', () => {
  const moved = translate(square, 5, -2);
  assert.deepEqual((moved.geometry as { coordinates: PositionDTO[][] }).coordinates[0][2], [15, 8]);
  const r = { shape: rectFrom([0, 0], [10, 10]), geometry: square.geometry };
  assert.deepEqual(translate(r, 1, 2).shape, { kind: 'rectangle', x: 1, y: 2, width: 10, height: 10 });
  // a box corner moves against the opposite one
  const hr = handles(r);
  assert.equal(hr.length, 4);
  assert.deepEqual(moveHandle(r, hr[2], [20, 30]).shape, { kind: 'rectangle', x: 0, y: 0, width: 20, height: 30 });
  // polygon vertices of every ring, the closing duplicate left out; the ring stays closed after a drag
  const hp = handles(square);
  assert.equal(hp.length, 8);
  const g = moveHandle(square, hp[0], [-1, -1]).geometry as { coordinates: PositionDTO[][] };
  assert.deepEqual([g.coordinates[0][0], g.coordinates[0][4]], [[-1, -1], [-1, -1]]);
  const tri = removeVertex(square, hp[1]) as { coordinates: PositionDTO[][] };
  assert.deepEqual(tri.coordinates[0], [[0, 0], [10, 10], [0, 10], [0, 0]]);
  assert.equal(removeVertex({ shape: { kind: 'polygon' }, geometry: { type: 'Polygon', coordinates: [tri.coordinates[0]] } }, { ring: 0, index: 0, at: [0, 0] }), null, 'a triangle keeps its 3 vertices');
});

test('MultiPolygons (a brush cut in two) edit like polygons: handles through every polygon\'s rings, structure kept', () => {
  const two: { shape: ShapeDTO; geometry: GeometryDTO } = {
    shape: { kind: 'multipolygon' },
    geometry: { type: 'MultiPolygon', coordinates: [square.geometry.coordinates as PositionDTO[][], [[[20, 0], [30, 0], [30, 10], [20, 10], [20, 0]]]] },
  };
  const h = handles(two);
  assert.equal(h.length, 12, 'square and its hole (8), then the second square (4)');
  assert.deepEqual([h[8].ring, h[8].index, h[8].at], [2, 0, [20, 0]]);
  const moved = moveHandle(two, h[9], [35, -5]).geometry as { type: string; coordinates: PositionDTO[][][] };
  assert.equal(moved.type, 'MultiPolygon');
  assert.deepEqual(moved.coordinates[1][0], [[20, 0], [35, -5], [30, 10], [20, 10], [20, 0]]);
  assert.deepEqual(moved.coordinates[0], two.geometry.coordinates[0], 'the other polygon is untouched');
  const cut = removeVertex(two, h[5]) as { type: 'MultiPolygon'; coordinates: PositionDTO[][][] };
  assert.equal(cut.type, 'MultiPolygon');
  assert.deepEqual(cut.coordinates[0][1], [[4, 4], [6, 6], [4, 6], [4, 4]], 'the hole lost its second vertex');
  assert.equal(removeVertex({ ...two, geometry: cut }, { ring: 1, index: 0, at: [4, 4] }), null, 'a triangle keeps its 3 vertices');
});

test('the ruler\'s length: µm with per-axis µm/px, px without', () => {
  assert.equal(scaledLength([[0, 0], [3, 4], [3, 10]], { x: 0.5, y: 0.5 }), 5.5);
  assert.equal(scaledLength([[0, 0], [3, 4], [3, 10]], null), 11);
  assert.equal(scaledLength([[0, 0], [0, 1]], { x: 1, y: 2 }), 2);
  assert.equal(scaledLength([[7, 7]], null), 0);
});

test('SVG path data: rings closed with Z, holes as further subpaths (even-odd fill), lines open', () => {
  assert.equal(pathData(square.geometry), 'M0 0L10 0L10 10L0 10L0 0ZM4 4L6 4L6 6L4 6L4 4Z');
  assert.equal(pathData({ type: 'LineString', coordinates: [[0, 0], [10, 0]] }), 'M0 0L10 0');
});

test('a freehand path is simplified to its corners within the tolerance', () => {
  const pts: PositionDTO[] = [];
  for (let i = 0; i <= 100; i++) pts.push([i, (i % 2) * 0.2]); // jitter along a line
  for (let i = 1; i <= 100; i++) pts.push([100, i]);
  const s = simplify(pts, 0.5);
  assert.deepEqual(s, [[0, 0], [100, 0], [100, 100]]);
  // a 2 px bump is a corner at 0.5 px tolerance and jitter at 3 px
  const bump: PositionDTO[] = Array.from({ length: 101 }, (_, i) => [i, i === 50 ? 2 : 0]);
  assert.deepEqual(simplify(bump, 0.5), [[0, 0], [49, 0], [50, 2], [51, 0], [100, 0]]);
  assert.deepEqual(simplify(bump, 3), [[0, 0], [100, 0]]);
});

test('areas in µm² up to 0.1 mm², then mm²; px² and px when the µm/px is unknown', () => {
  assert.equal(formatArea({ unit: 'um', area: 512 }), '512 µm²');
  assert.equal(formatArea({ unit: 'um', area: 42.25 }), '42.3 µm²');
  assert.equal(formatArea({ unit: 'um', area: 240_000 }), '0.240 mm²');
  assert.equal(formatArea({ unit: 'um', area: 12_345_678 }), '12.35 mm²');
  assert.equal(formatArea({ unit: 'px', area: 1234.4 }), '1,234 px²');
  assert.equal(formatLength({ unit: 'um', perimeter: 85.34 }), '85.3 µm');
  assert.equal(formatLength({ unit: 'um', perimeter: 12_000 }), '12.00 mm');
  assert.equal(formatLength({ unit: 'px', perimeter: 40 }), '40 px');
  assert.deepEqual(hexToRgb('#c80a00'), [200, 10, 0]);
  assert.equal(rgbToHex([200, 10, 0]), '#c80a00');
});

test('annotation keys do not clash with the viewer\'s and are listed in the help', () => {
  const keys: Array<[Parameters<typeof commandForKey>[0], string | null]> = [
    [{ key: 's' }, 'ann-tool-select'], [{ key: 'R' }, 'ann-tool-rectangle'], [{ key: 'o' }, 'ann-tool-ellipse'], [{ key: 'p' }, 'ann-tool-polygon'],
    [{ key: 'b' }, 'ann-tool-brush'], [{ key: 'v' }, 'ann-tool-polyline'], [{ key: '[' }, 'ann-brush-smaller'], [{ key: ']' }, 'ann-brush-larger'], [{ key: '.' }, 'ann-tool-point'], [{ key: 'l' }, 'ann-panel'], [{ key: 'Delete' }, 'ann-delete'],
    [{ key: 'Backspace' }, 'ann-delete'], [{ key: 'z', ctrlKey: true }, 'ann-undo'], [{ key: 'Z', metaKey: true, shiftKey: true }, 'ann-redo'],
    [{ key: 'y', ctrlKey: true }, 'ann-redo'],
    // typing in a field keeps the field's own keys (its undo too)
    [{ key: 'z', ctrlKey: true, inEditable: true }, null], [{ key: 'Backspace', inEditable: true }, null], [{ key: 'r', inEditable: true }, null],
    // the heatmap's keys are unchanged
    [{ key: 'a' }, 'toggle-heatmap-panel'], [{ key: 'h' }, 'toggle-heatmap'], [{ key: 'e' }, 'explain-patch'],
  ];
  for (const [k, cmd] of keys) assert.equal(commandForKey(k), cmd, JSON.stringify(k));
  // Edit ▸ Undo / Redo of the desktop menu arrive as menu commands
  assert.deepEqual([parseMenuCommand('undo'), parseMenuCommand('redo')], [{ command: 'ann-undo' }, { command: 'ann-redo' }]);
  const help = SHORTCUTS.map((s) => `${s.keys} ${s.action}`).join('\n');
  for (const re of [/Undo/, /Redo/, /annotations panel/, /rectangle, ellipse, polygon \(drag: freehand outline\), line \(a ruler\), brush/, /Brush smaller \/ larger/, /Delete the selected annotation/]) assert.match(help, re);
});

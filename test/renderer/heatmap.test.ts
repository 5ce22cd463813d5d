/**
 * Pure heatmap display logic of the renderer: colormaps, the slide-global percentile scale, display modes and colour
 * positions, cell geometry, the fragment → cell affine the overlay shader uses, and the resolution advice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COLORMAPS, MISSING, applyAffine, cellAt, cellRect, clampViewRect, colorPosition, colormapCss, colormapLut, colormapRgb,
  displayValue, encodeForTexture, gridDeviceBox, fmtDuration, fmtUm, fmtValue, fragToCellAffine, liveResolution, mapStats, percentileAbs,
  maxAbs, patchMapRgba, probabilityPlane, resolutionAdvice,
} from '../../renderer/src/lib/heatmap.js';

const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

test('colormaps match matplotlib / Turbo reference colours at their ends and middle', () => {
  const refs: Array<[Parameters<typeof colormapRgb>[0], number, number[]]> = [
    ['viridis', 0, [68, 1, 84]], ['viridis', 0.5, [33, 145, 140]], ['viridis', 1, [253, 231, 37]],
    ['inferno', 0, [0, 0, 4]], ['inferno', 1, [252, 255, 164]],
    ['magma', 0, [0, 0, 4]], ['magma', 1, [252, 253, 191]],
    ['jet', 0, [0, 0, 128]], ['jet', 0.5, [128, 255, 128]], ['jet', 1, [128, 0, 0]],
  ];
  for (const [name, t, rgb] of refs) assert.ok(near(colormapRgb(name, t), rgb, 6), `${name}(${t}) = ${colormapRgb(name, t)} ≈ ${rgb}`);
  // Turbo is Google's polynomial approximation: close to the table, a little off at the very ends
  assert.ok(near(colormapRgb('turbo', 0), [48, 18, 59], 35) && near(colormapRgb('turbo', 1), [122, 4, 3], 30));
  assert.ok(colormapRgb('turbo', 0.5)[1] > 200, 'turbo is green-yellow in the middle');
  // the diverging map: blue at −, near-white at 0, red at +, symmetric in lightness
  const [lo, mid, hi] = [0, 0.5, 1].map((t) => colormapRgb('diverging', t));
  assert.ok(lo[2] > lo[0] && hi[0] > hi[2], `blue → red: ${lo} … ${hi}`);
  assert.ok(mid.every((v) => v > 240), `white at zero: ${mid}`);
  // out of range clamps
  assert.deepEqual(colormapRgb('viridis', -1), colormapRgb('viridis', 0));
  assert.deepEqual(colormapRgb('viridis', 2), colormapRgb('viridis', 1));
  for (const name of COLORMAPS) {
    const lut = colormapLut(name);
    assert.equal(lut.length, 256 * 4);
    assert.deepEqual([...lut.subarray(0, 3)], colormapRgb(name, 0));
    assert.equal(lut[255 * 4 + 3], 255);
    assert.match(colormapCss(name), /^linear-gradient\(to right, rgb\(/);
  }
});

test('perceptual maps increase monotonically in lightness (viridis, inferno, magma)', () => {
  for (const name of ['viridis', 'inferno', 'magma'] as const) {
    let prev = -1;
    for (let i = 0; i <= 32; i++) {
      const [r, g, b] = colormapRgb(name, i / 32);
      const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      assert.ok(y >= prev - 1.5, `${name} lightness at ${i / 32}: ${y} after ${prev}`);
      prev = y;
    }
  }
});

test('the display scale is the 99th percentile of |value| over the whole map, NaN ignored', () => {
  const m = new Float32Array(1000);
  for (let i = 0; i < 1000; i++) m[i] = i % 2 ? i : -i; // |v| = 0 … 999
  assert.ok(Math.abs(percentileAbs(m, 0.99) - 989.01) < 0.01);
  assert.equal(percentileAbs(m, 1), 999);
  assert.equal(percentileAbs(m, 0), 0);
  const withNaN = new Float32Array([NaN, NaN, 2, -4, NaN]);
  assert.equal(percentileAbs(withNaN, 1), 4);
  assert.equal(percentileAbs(new Float32Array([NaN, NaN]), 0.99), 0);
  assert.equal(percentileAbs(new Float32Array(0)), 0);
  // one hot outlier does not set the scale
  const spike = new Float32Array(10_000).fill(1);
  spike[5] = 1e6;
  assert.equal(percentileAbs(spike, 0.99), 1);
  // subsampling big maps stays close
  const big = new Float32Array(3_000_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 1000;
  assert.ok(Math.abs(percentileAbs(big, 0.99, 500_000) - 990) < 3);
  assert.deepEqual(mapStats(new Float32Array([NaN, -2, 3, 0])), { min: -2, max: 3, finite: 3, negative: 1 });
});

test('modes: for = max(0, L), against = max(0, −L), signed = L; colour positions and threshold', () => {
  assert.equal(displayValue(2, 'for'), 2);
  assert.equal(displayValue(-2, 'for'), 0);
  assert.equal(displayValue(-2, 'against'), 2);
  assert.equal(displayValue(2, 'against'), 0);
  assert.equal(displayValue(-2, 'signed'), -2);
  assert.ok(Number.isNaN(displayValue(NaN, 'for')));
  const r = { lo: 0, hi: 4, threshold: 0 };
  assert.equal(colorPosition(2, 'for', r), 0.5);
  assert.equal(colorPosition(8, 'for', r), 1);
  assert.equal(colorPosition(0, 'signed', r), 0.5, 'signed maps are centred on zero');
  assert.equal(colorPosition(-4, 'signed', r), 0);
  assert.equal(colorPosition(4, 'signed', r), 1);
  assert.equal(colorPosition(1, 'for', { ...r, threshold: 1.5 }), null);
  assert.equal(colorPosition(-1, 'signed', { ...r, threshold: 1.5 }), null, 'signed threshold on |L|');
  assert.equal(colorPosition(-2, 'signed', { ...r, threshold: 1.5 }), 0.25);
  assert.equal(colorPosition(NaN, 'for', r), null);
});

test('cell geometry: level-0 px → cell, cell → rect, fractional cell sizes, view rect clipping', () => {
  const g = { origin: [100, 50] as [number, number], cellSize: [16, 16] as [number, number], shape: [10, 20] as [number, number] };
  assert.deepEqual(cellAt(g, 100, 50), { row: 0, col: 0 });
  assert.deepEqual(cellAt(g, 115.99, 65.99), { row: 0, col: 0 });
  assert.deepEqual(cellAt(g, 116, 66), { row: 1, col: 1 });
  assert.equal(cellAt(g, 99.9, 60), null);
  assert.equal(cellAt(g, 100 + 20 * 16, 60), null);
  assert.deepEqual(cellRect(g, 2, 3), { x: 148, y: 82, w: 16, h: 16 });
  const f = { origin: [0, 0] as [number, number], cellSize: [10.5, 10.5] as [number, number], shape: [100, 100] as [number, number] };
  assert.deepEqual(cellAt(f, 21, 10.49), { row: 0, col: 2 });
  assert.deepEqual(clampViewRect({ x: -10.5, y: 5.2, w: 100, h: 50 }, 80, 40), { x: 0, y: 5, w: 80, h: 35 });
  assert.equal(clampViewRect({ x: 90, y: 0, w: 10, h: 10 }, 80, 40), null);
});

test('fragment → cell affine: inverse of the image → viewer-element mapping, y flipped, DPR, rotation', () => {
  const g = { origin: [32, 16] as [number, number], cellSize: [16, 8] as [number, number] };
  // image 1000 × 800 drawn at 0.5 screen px per px with its origin at element (10, 20), DPR 2, canvas 600 device px high
  const W = 1000, H = 800, z = 0.5, dpr = 2, ch = 600;
  const toEl = (x: number, y: number) => ({ x: 10 + x * z, y: 20 + y * z });
  const m = fragToCellAffine(toEl(0, 0), toEl(W, 0), toEl(0, H), W, H, g, dpr, ch)!;
  for (const [x, y] of [[32, 16], [100, 200], [999, 799], [48.5, 23.9]]) {
    const e = toEl(x, y);
    const fx = e.x * dpr, fy = ch - e.y * dpr; // gl_FragCoord: device px, origin bottom-left
    const c = applyAffine(m, fx, fy);
    assert.ok(Math.abs(c.col - (x - 32) / 16) < 1e-9 && Math.abs(c.row - (y - 16) / 8) < 1e-9, `(${x}, ${y}) → ${JSON.stringify(c)}`);
  }
  // rotated 90° (x → down, y → left)
  const rot = (x: number, y: number) => ({ x: 500 - y * z, y: 5 + x * z });
  const mr = fragToCellAffine(rot(0, 0), rot(W, 0), rot(0, H), W, H, g, 1, 400)!;
  const e = rot(132, 56);
  const c = applyAffine(mr, e.x, 400 - e.y);
  assert.ok(Math.abs(c.col - 100 / 16) < 1e-9 && Math.abs(c.row - 40 / 8) < 1e-9, JSON.stringify(c));
  assert.equal(fragToCellAffine({ x: 0, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 0 }, W, H, g, 1, 100), null);
  // the scissor box of the grid: cells [0, 60] × [0, 98] cover image x 32 … 992, y 16 … 800 → element x 26 … 506,
  // y 28 … 420 → device x 52 … 1012, y (from the bottom) 600 − 840 … 600 − 56, clipped to the canvas
  assert.deepEqual(gridDeviceBox(m, 60, 98, 4000, ch), [52, 0, 960, 544]);
  assert.deepEqual(gridDeviceBox(m, 60, 98, 100, 50), [52, 0, 48, 50]);
  assert.equal(gridDeviceBox([1, 0, 1000, 0, 1, 0], 10, 10, 100, 100), null);
});

test('texture encoding (NaN → sentinel) and probability planes', () => {
  const enc = encodeForTexture(new Float32Array([1, NaN, -2]));
  assert.deepEqual([...enc], [1, MISSING, -2].map((v) => Math.fround(v)));
  const reuse = new Float32Array(3);
  assert.equal(encodeForTexture([0, 0, 0], reuse), reuse);
  // rows × cols × K interleaved
  const probs = new Float32Array([0.9, 0.1, 0.2, 0.8, 0.5, 0.5]);
  assert.deepEqual([...probabilityPlane(probs, 3, 2, 1)].map((v) => +v.toFixed(2)), [0.1, 0.8, 0.5]);
});

test('resolution advice: a structure needs 2 cells; a finer layer is named when one exists', () => {
  const layers = [{ name: 'block1', stride: 2 }, { name: 'block2', stride: 4 }, { name: 'block3', stride: 16 }, { name: 'block4', stride: 32 }];
  // s = 32 at 0.5 µm/px → 16 µm cells: a 12 µm nucleus is not resolvable; block3 (8 µm cells) is not enough,
  // block2 (stride 4 → 2 µm) is the deepest that resolves it
  const a = resolutionAdvice(12, 16, 32, layers, 'block4');
  assert.equal(a.resolvable, false);
  assert.equal(a.smallestUm, 32);
  assert.equal(a.cells, 0.75);
  assert.deepEqual(a.suggestion, { name: 'block2', stride: 4, cellUm: 2, resolves: true });
  // only layers that are still too coarse: the finest is named, saying it would not do either
  const coarse = resolutionAdvice(3, 16, 32, layers.slice(2), 'block4');
  assert.deepEqual(coarse.suggestion, { name: 'block3', stride: 16, cellUm: 8, resolves: false });
  assert.match(coarse.warning!, /finest layer, “block3”.*still would not/);
  assert.match(a.warning!, /12 µm structure spans only 0\.75 cells of 16 µm.*≥ 2 cells.*32 µm or more/);
  // with s = 16 at 0.25 µm/px (4 µm cells) it is fine
  assert.deepEqual(resolutionAdvice(12, 4, 16, layers, 'block3'), { cells: 3, resolvable: true, smallestUm: 8, warning: null, suggestion: null });
  // deepest layer that resolves is preferred
  const b = resolutionAdvice(12, 8, 16, layers, 'block3');
  assert.deepEqual(b.suggestion, { name: 'block2', stride: 4, cellUm: 2, resolves: true });
  assert.match(b.warning!, /Layer “block2” \(stride 4, 2 µm cells\) would resolve it/);
  // no finer layer
  const c = resolutionAdvice(12, 8, 2, layers, 'block1');
  assert.equal(c.suggestion, null);
  assert.match(c.warning!, /No layer of this model has a finer stride/);
  // live report from the geometry
  assert.deepEqual(liveResolution([16, 16], { x: 0.5, y: 0.5, source: 'vendor' }, 1, 8), {
    slide_mpp: { x: 0.5, y: 0.5, source: 'vendor' }, model_mpp: 1, resample_factor: 2, stride: 8, cell_size_um: [8, 8], smallest_resolvable_um: 16,
  });
  assert.equal(liveResolution([16, 16], null, 1, 8), null);
});

test('formatters', () => {
  assert.equal(fmtUm(8), '8 µm');
  assert.equal(fmtUm(10.6), '10.6 µm');
  assert.equal(fmtUm(2.5), '2.5 µm');
  assert.equal(fmtUm(0.25), '0.25 µm');
  assert.equal(fmtUm(128), '128 µm');
  assert.equal(fmtValue(0.0104), '0.0104');
  assert.equal(fmtValue(0), '0');
  assert.equal(fmtValue(1.5), '1.5');
  assert.equal(fmtValue(NaN), '—');
  assert.equal(fmtValue(12345), '1.23e+4');
  assert.equal(fmtDuration(5), '5 s');
  assert.equal(fmtDuration(185), '3 min 5 s');
  assert.equal(fmtDuration(null), '—');
});

test('patch map (explain this patch): one RGBA pixel per cell in the colormap; signed on the diverging map; NaN transparent', () => {
  const px = (a: Uint8ClampedArray, i: number) => [...a.subarray(i * 4, i * 4 + 4)];
  const m = patchMapRgba([0, 0.5, 1, Number.NaN], false, 'viridis', 1);
  assert.equal(m.length, 16);
  const top = [...colormapRgb('viridis', 1), 255];
  assert.deepEqual(px(m, 0), [...colormapRgb('viridis', 0), 255]);
  assert.deepEqual(px(m, 1), [...colormapRgb('viridis', 0.5), 255]);
  assert.deepEqual(px(m, 2), top);
  assert.deepEqual(px(m, 3), [0, 0, 0, 0]);
  assert.deepEqual(px(patchMapRgba([2, 4], false, 'viridis', 0), 1), top, 'hi 0: the map\'s own max |value|');
  assert.deepEqual(px(patchMapRgba([5], false, 'viridis', 1), 0), top, 'clamped at the top');
  const s = patchMapRgba([-1, 0, 1], true, 'viridis', 1);
  assert.deepEqual(px(s, 0).slice(0, 3), colormapRgb('diverging', 0));
  assert.deepEqual(px(s, 1).slice(0, 3), colormapRgb('diverging', 0.5));
  assert.deepEqual(px(s, 2).slice(0, 3), colormapRgb('diverging', 1));
  assert.equal(maxAbs([1, -3, Number.NaN, 2]), 3);
  assert.equal(maxAbs([Number.NaN]), 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseScaleBar, formatLengthUm, niceFloor125 } from '../../renderer/src/lib/scalebar.js';

test('niceFloor125 walks the 1-2-5 series', () => {
  const cases: [number, number][] = [
    [1, 1], [1.9, 1], [2, 2], [4.99, 2], [5, 5], [9.99, 5], [10, 10], [19, 10], [20, 20], [49, 20], [50, 50],
    [99, 50], [100, 100], [0.3, 0.2], [0.07, 0.05], [0.5, 0.5], [1234, 1000], [2500, 2000], [7777, 5000],
  ];
  for (const [x, want] of cases) assert.equal(niceFloor125(x), want, `niceFloor125(${x})`);
  assert.throws(() => niceFloor125(0), /positive/);
  assert.throws(() => niceFloor125(-3), /positive/);
  assert.throws(() => niceFloor125(Number.NaN), /positive/);
});

test('formatLengthUm switches units at 1 mm', () => {
  assert.equal(formatLengthUm(500), '500 µm');
  assert.equal(formatLengthUm(1000), '1 mm');
  assert.equal(formatLengthUm(2000), '2 mm');
  assert.equal(formatLengthUm(20), '20 µm');
  assert.equal(formatLengthUm(0.5), '0.5 µm');
  assert.equal(formatLengthUm(0.0005), '0.5 nm');
});

test('chooseScaleBar: the bar is the largest 1-2-5 length that fits and its width matches the zoom', () => {
  // CMU-1: 0.499 µm/px; at 100% zoom one screen px = 0.499 µm; 160 px ≈ 79.8 µm → 50 µm bar, 100.2 px wide
  const b = chooseScaleBar(0.499, 160)!;
  assert.equal(b.lengthUm, 50);
  assert.equal(b.label, '50 µm');
  assert.ok(Math.abs(b.widthPx - 50 / 0.499) < 1e-9);
  // zoomed out to 5%: one screen px = 9.98 µm; 160 px = 1597 µm → 1 mm
  const far = chooseScaleBar(0.499 / 0.05, 160)!;
  assert.equal(far.label, '1 mm');
  assert.ok(far.widthPx <= 160 && far.widthPx > 160 / 2.5, `width ${far.widthPx} within (64, 160]`);
  // over-zoomed 4×: 0.12475 µm per screen px → 19.96 µm → 10 µm bar
  assert.equal(chooseScaleBar(0.499 / 4, 160)!.label, '10 µm');
  // any zoom: width never exceeds the max and is never below max/2.5 (1-2-5 steps are ≤ 2.5×)
  for (let z = 0.001; z < 50; z *= 1.37) {
    const c = chooseScaleBar(0.25 / z, 160)!;
    assert.ok(c.widthPx <= 160 + 1e-9 && c.widthPx >= 64 - 1e-9, `zoom ${z}: width ${c.widthPx}`);
  }
  assert.equal(chooseScaleBar(0, 160), null);
  assert.equal(chooseScaleBar(Number.POSITIVE_INFINITY, 160), null);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseMagnification, displayedMagnification, formatMagnification } from '../../renderer/src/lib/magnification.js';

test('objective power wins over mpp when known', () => {
  assert.equal(baseMagnification(20, 0.499), 20);
  assert.equal(displayedMagnification({ zoom: 1, objectivePower: 20, mpp: 0.499 }), 20);
  assert.equal(displayedMagnification({ zoom: 0.25, objectivePower: 40, mpp: 0.25 }), 10);
  assert.equal(displayedMagnification({ zoom: 2, objectivePower: 20, mpp: null }), 40);
});

test('without objective power: 10 µm/px ≈ 1×, so 0.25 µm/px ≈ 40× and 0.5 ≈ 20×', () => {
  assert.equal(baseMagnification(null, 0.25), 40);
  assert.equal(baseMagnification(null, 0.5), 20);
  assert.equal(baseMagnification(null, 10), 1);
  assert.equal(displayedMagnification({ zoom: 0.5, objectivePower: null, mpp: 0.25 }), 20);
  // non-positive objective is treated as unknown
  assert.equal(baseMagnification(0, 0.5), 20);
});

test('no objective and no mpp: no readout', () => {
  assert.equal(displayedMagnification({ zoom: 1, objectivePower: null, mpp: null }), null);
  assert.equal(displayedMagnification({ zoom: 0, objectivePower: 20, mpp: null }), null);
  assert.equal(formatMagnification(null), '—');
});

test('formatMagnification rounds by size', () => {
  assert.equal(formatMagnification(20), '≈ 20×');
  assert.equal(formatMagnification(19.6), '≈ 20×');
  assert.equal(formatMagnification(2.54), '≈ 2.5×');
  assert.equal(formatMagnification(0.314), '≈ 0.31×');
});

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

test('past the scan\'s resolution the readout names the digital zoom, not a made-up objective', async () => {
  const { magnificationReadout } = await import('../../renderer/src/lib/magnification.js');
  // a 40× scan at 3 screen px per scanned px: "40× + 3× digital", never "≈ 120×"
  const over = magnificationReadout({ zoom: 3, objectivePower: 40, mpp: 0.25 })!;
  assert.equal(over.text, '≈ 40× + 3× digital');
  assert.equal(over.digital, true);
  assert.match(over.title, /^Digital zoom past the scanned objective: the slide was scanned at 40× \(from its objective power\)/);
  assert.doesNotMatch(over.text, /120/);
  // at or below the scan's resolution it is the plain displayed magnification
  assert.deepEqual(magnificationReadout({ zoom: 1, objectivePower: 40, mpp: 0.25 }), { text: '≈ 40×', title: "Displayed magnification (from the scan's objective power)", digital: false });
  assert.equal(magnificationReadout({ zoom: 0.25, objectivePower: 40, mpp: null })!.text, '≈ 10×');
  // from the pixel size alone (0.5 µm/px ≈ 20×), 1.5× over-zoom
  const fromMpp = magnificationReadout({ zoom: 1.5, objectivePower: null, mpp: 0.5 })!;
  assert.equal(fromMpp.text, '≈ 20× + 1.5× digital');
  assert.match(fromMpp.title, /from its pixel size/);
  assert.equal(magnificationReadout({ zoom: 2, objectivePower: null, mpp: null }), null);
});

/** The region size bound is defined once (main/engine/tiff/limits.ts) and the transport validates with it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '../../main/engine/tiff/limits.js';
import { REGION_LIMITS } from '../../main/services/host.js';
import { parse, regionQuery } from '../../main/transport/validate.js';

const q = (w: number, h: number) => ({ x: '0', y: '0', w: String(w), h: String(h), level: '0' });

test('the transport region bound is the engine\'s', () => {
  assert.deepEqual(REGION_LIMITS, { maxSide: LIMITS.maxRegionSide, maxPixels: LIMITS.maxRegionPixels });
});

test('regionQuery refuses a side past maxSide and an area past maxPixels, naming the bound', () => {
  assert.throws(() => parse(regionQuery, q(LIMITS.maxRegionSide + 1, 10), 'region'), /region: w must be ≤ 16384/);
  // both sides within the bound, the area not (16384² = 4 × the 64 Mpx bound)
  assert.throws(() => parse(regionQuery, q(16384, 16384), 'region'), /w × h must be ≤ 67108864 pixels/);
  assert.deepEqual(parse(regionQuery, q(16384, 4096), 'region'), { x: 0, y: 0, w: 16384, h: 4096, level: 0 });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestNativeLevel, buildOsdLevels, LevelMappingError } from '../../renderer/src/lib/levels.js';
import type { LevelDTO } from '../../main/contract/slides.js';

// a typical 3-level SVS: downsamples 1 / 4 / 16 (not powers of two per step), 256² tiles
const svs: LevelDTO[] = [
  { width: 46000, height: 32914, downsample: 1, tileWidth: 256, tileHeight: 256 },
  { width: 11500, height: 8228, downsample: 4.000243, tileWidth: 256, tileHeight: 256 },
  { width: 2875, height: 2057, downsample: 16.0009, tileWidth: 240, tileHeight: 240 },
];

test('OSD levels run coarsest (0) to full resolution (maxLevel) with the real scales and grids', () => {
  const t = buildOsdLevels(svs);
  assert.equal(t.length, 3);
  assert.deepEqual(t.map((l) => l.osd), [0, 1, 2]);
  assert.deepEqual(t.map((l) => l.native), [2, 1, 0]);
  assert.equal(t[2].scale, 1);
  assert.equal(t[1].scale, 11500 / 46000);
  assert.equal(t[0].scale, 2875 / 46000);
  // tile grid = ceil(level size / tile size), per level tile size
  assert.deepEqual([t[2].cols, t[2].rows], [Math.ceil(46000 / 256), Math.ceil(32914 / 256)]);
  assert.deepEqual([t[1].cols, t[1].rows], [45, 33]);
  assert.deepEqual([t[0].cols, t[0].rows, t[0].tileWidth], [12, 9, 240]);
  // scaled level-0 width equals the level's real width (tile edges land on level pixels)
  for (const l of t) assert.equal(Math.round(46000 * l.scale), l.width);
});

test('a single-level slide maps to one OSD level', () => {
  const t = buildOsdLevels([{ width: 2220, height: 2967, downsample: 1, tileWidth: 240, tileHeight: 240 }]);
  assert.equal(t.length, 1);
  assert.deepEqual([t[0].osd, t[0].native, t[0].scale, t[0].cols, t[0].rows], [0, 0, 1, 10, 13]);
});

test('bad level tables are refused with a message naming the level', () => {
  assert.throws(() => buildOsdLevels([]), LevelMappingError);
  assert.throws(() => buildOsdLevels([svs[0], { ...svs[1], downsample: 1 }]), /level 1: downsample 1 is not larger/);
  assert.throws(() => buildOsdLevels([svs[0], { ...svs[1], tileWidth: 0 }]), /level 1: tileWidth/);
  assert.throws(() => buildOsdLevels([{ ...svs[0], downsample: 0.5 }]), /level 0: downsample/);
});

test('bestNativeLevel picks the largest downsample not above the wanted one', () => {
  assert.equal(bestNativeLevel(svs, 1), 0);
  assert.equal(bestNativeLevel(svs, 3.9), 0);
  assert.equal(bestNativeLevel(svs, 4.1), 1);
  assert.equal(bestNativeLevel(svs, 100), 2);
  assert.equal(bestNativeLevel(svs, 16.0009), 2);
});

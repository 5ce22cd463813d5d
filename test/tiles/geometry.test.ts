import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeepZoomGeometry, bestLevelForDownsample } from '../../main/engine/tiles/geometry.js';

test('Deep Zoom geometry matches a hand calculation (1000×700, 254/1)', () => {
  const g = new DeepZoomGeometry(1000, 700, 254, 1);
  // ceil(log2(1000)) = 10 -> 11 levels
  assert.equal(g.maxLevel, 10);
  assert.equal(g.levelCount, 11);
  assert.deepEqual(g.levels[10], { width: 1000, height: 700, cols: 4, rows: 3, downsample: 1 });
  assert.deepEqual(g.levels[9], { width: 500, height: 350, cols: 2, rows: 2, downsample: 2 });
  assert.deepEqual(g.levels[8], { width: 250, height: 175, cols: 1, rows: 1, downsample: 4 });
  // 1000/128 = 7.8 -> 8, 700/128 = 5.5 -> 6
  assert.deepEqual(g.levels[3], { width: 8, height: 6, cols: 1, rows: 1, downsample: 128 });
  assert.deepEqual(g.levels[0], { width: 1, height: 1, cols: 1, rows: 1, downsample: 1024 });
  // first tile: overlap only on the right/bottom
  assert.deepEqual(g.tileRect(10, 0, 0), { x: 0, y: 0, w: 255, h: 255 });
  // inner tile: overlap on both sides
  assert.deepEqual(g.tileRect(10, 1, 1), { x: 253, y: 253, w: 256, h: 256 });
  // last column: 762-1 .. 1000; last row: 508-1 .. 700
  assert.deepEqual(g.tileRect(10, 3, 2), { x: 761, y: 507, w: 239, h: 193 });
  assert.deepEqual(g.tileRect(9, 1, 1), { x: 253, y: 253, w: 247, h: 97 });
  assert.deepEqual(g.tileRect(0, 0, 0), { x: 0, y: 0, w: 1, h: 1 });
});

test('Deep Zoom geometry without overlap tiles the level exactly', () => {
  const g = new DeepZoomGeometry(2220, 2967, 240, 0);
  assert.equal(g.maxLevel, 12); // 2^12 = 4096 ≥ 2967 > 2048
  const L = g.levels[12];
  assert.equal(L.cols, 10);
  assert.equal(L.rows, 13);
  let area = 0;
  for (let r = 0; r < L.rows; r++) for (let c = 0; c < L.cols; c++) { const t = g.tileRect(12, c, r); area += t.w * t.h; }
  assert.equal(area, 2220 * 2967);
  assert.deepEqual(g.tileRect(12, 9, 12), { x: 2160, y: 2880, w: 60, h: 87 });
});

test('power-of-two and 1-pixel images', () => {
  assert.equal(new DeepZoomGeometry(1024, 1024).maxLevel, 10);
  assert.equal(new DeepZoomGeometry(1025, 3).maxLevel, 11);
  assert.equal(new DeepZoomGeometry(1, 1).maxLevel, 0);
});

test('out-of-range tiles and bad parameters are refused', () => {
  const g = new DeepZoomGeometry(1000, 700, 254, 1);
  assert.throws(() => g.tileRect(11, 0, 0), /level 11 does not exist/);
  assert.throws(() => g.tileRect(10, 4, 0), /outside level 10/);
  assert.throws(() => g.tileRect(10, 0, -1), /outside/);
  assert.throws(() => g.tileRect(10, 0.5, 0), /outside/);
  assert.throws(() => new DeepZoomGeometry(0, 10), /width/);
  assert.throws(() => new DeepZoomGeometry(10, 10, 254, 254), /overlap/);
});

test('.dzi XML carries format, overlap, tile size and size', () => {
  const xml = new DeepZoomGeometry(1000, 700, 254, 1).xml();
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  assert.match(xml, /<Image xmlns="http:\/\/schemas.microsoft.com\/deepzoom\/2008" Format="jpeg" Overlap="1" TileSize="254">/);
  assert.match(xml, /<Size Width="1000" Height="700"\/>/);
});

test('level mapping: the lowest-resolution slide level with downsample ≤ the DZ downsample', () => {
  const levels = [{ downsample: 1 }, { downsample: 4 }, { downsample: 16 }];
  assert.equal(bestLevelForDownsample(levels, 1), 0);
  assert.equal(bestLevelForDownsample(levels, 2), 0);
  assert.equal(bestLevelForDownsample(levels, 4), 1);
  assert.equal(bestLevelForDownsample(levels, 8), 1);
  assert.equal(bestLevelForDownsample(levels, 16), 2);
  assert.equal(bestLevelForDownsample(levels, 1024), 2);
  assert.equal(bestLevelForDownsample(levels, 0.5), 0);
  // SVS-style 4.0005 is NOT ≤ 4 (OpenSlide semantics)
  assert.equal(bestLevelForDownsample([{ downsample: 1 }, { downsample: 4.0005 }], 4), 0);
  assert.equal(bestLevelForDownsample([{ downsample: 1 }, { downsample: 4.0005 }], 8), 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, symlinkSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DeepZoomGeometry, DzSaveExistsError, ENCODE_BUFFER_BUDGET, MAX_DZSAVE_TILE_SIZE, dzsave, encodeSlots } from '../../main/engine/tiles/index.js';
import { downsampleRows } from '../../main/engine/tiles/shrink.js';
import type { RgbImage } from '../../main/engine/slide/types.js';
import { FakeSlide, crop, decode, meanAbsDiff } from './fake-slide.js';

/** reference 2×2 mean, written independently of shrink.ts (per pixel, float) */
function halve(img: RgbImage): RgbImage {
  const w = Math.ceil(img.width / 2), h = Math.ceil(img.height / 2);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < 3; ch++) {
    let s = 0, n = 0;
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      const sx = 2 * x + dx, sy = 2 * y + dy;
      if (sx < img.width && sy < img.height) { s += img.data[(sy * img.width + sx) * 3 + ch]; n++; }
    }
    data[(y * w + x) * 3 + ch] = Math.round(s / n);
  }
  return { data, width: w, height: h };
}

test('downsampleRows is a 2×2 mean with odd edges kept', () => {
  const img = { data: Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256), width: 5, height: 3 };
  const got = downsampleRows(img.data, 5, 3);
  const ref = halve(img);
  assert.equal(got.length, 3 * 2 * 3);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - ref.data[i]) <= 1, `byte ${i}: ${got[i]} vs ${ref.data[i]}`);
});

test('dzsave writes every tile of the Deep Zoom geometry with the right pixels', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1, 4], tile: 256 });
  const dir = mkdtempSync(join(tmpdir(), 'gbx-dzsave-'));
  try {
    let last = [0, 0];
    const res = await dzsave(slide, dir, 'fake', { tileSize: 254, overlap: 1, quality: 98, onProgress: (d, t) => (last = [d, t]) });
    const g = new DeepZoomGeometry(1000, 700, 254, 1);
    assert.equal(res.levels, g.levelCount);
    const total = g.levels.reduce((s, l) => s + l.cols * l.rows, 0);
    assert.equal(res.tiles, total);
    assert.deepEqual(last, [total, total]);
    assert.equal(readFileSync(join(dir, 'fake.dzi'), 'utf8'), g.xml());
    let level = slide.pixels[0]; // the DZ top level is slide level 0
    for (let l = g.maxLevel; l >= 0; l--) {
      const L = g.levels[l];
      const files = readdirSync(join(dir, 'fake_files', String(l))).sort();
      const expected: string[] = [];
      for (let r = 0; r < L.rows; r++) for (let c = 0; c < L.cols; c++) expected.push(`${c}_${r}.jpeg`);
      assert.deepEqual(files, expected.sort(), `level ${l} files`);
      assert.deepEqual([level.width, level.height], [L.width, L.height]);
      for (let r = 0; r < L.rows; r++) for (let c = 0; c < L.cols; c++) {
        const rect = g.tileRect(l, c, r);
        const tile = await decode(readFileSync(join(dir, 'fake_files', String(l), `${c}_${r}.jpeg`)));
        assert.deepEqual([tile.width, tile.height], [rect.w, rect.h], `level ${l} tile ${c}_${r} size`);
        if (rect.w >= 8 && rect.h >= 8) {
          // the reference pixels through the same JPEG encoder: equal input gives (nearly) equal output
          const ref = crop(level, rect.x, rect.y, rect.w, rect.h);
          const refJpeg = await decode(await sharp(ref.data, { raw: { width: ref.width, height: ref.height, channels: 3 } }).jpeg({ quality: 98 }).toBuffer());
          const d = meanAbsDiff(tile, refJpeg);
          assert.ok(d < 0.5, `level ${l} tile ${c}_${r} differs from the reference by ${d}`);
        }
      }
      level = halve(level);
    }
    const meta = await sharp(join(dir, 'fake_files', '0', '0_0.jpeg')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 1, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dzsave without JPEG tiles (readRegion path) and with overlap 0', async () => {
  const slide = await FakeSlide.create({ width: 300, height: 257, downsamples: [1], tile: 128, jpeg: false });
  const dir = mkdtempSync(join(tmpdir(), 'gbx-dzsave-'));
  try {
    const res = await dzsave(slide, dir, 'x', { tileSize: 128, overlap: 0 });
    const g = new DeepZoomGeometry(300, 257, 128, 0);
    assert.equal(res.tiles, g.levels.reduce((s, l) => s + l.cols * l.rows, 0));
    const t = await decode(readFileSync(join(dir, 'x_files', String(g.maxLevel), '2_2.jpeg')));
    assert.deepEqual([t.width, t.height], [300 - 256, 1]);
    assert.ok(slide.calls.region > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encode buffers are capped by bytes: big tiles get fewer slots, never more than the budget (one slot minimum)', () => {
  // the default export: 16 slots of 256² RGB
  assert.deepEqual(encodeSlots(16, 254, 1), { slots: 16, slotBytes: 256 * 256 * 3, bytes: 16 * 256 * 256 * 3 });
  for (const ts of [512, 1024, 2048, MAX_DZSAVE_TILE_SIZE]) {
    const e = encodeSlots(16, ts, 1);
    assert.equal(e.slotBytes, (ts + 2) ** 2 * 3);
    assert.ok(e.bytes <= ENCODE_BUFFER_BUDGET, `tile ${ts}: ${e.bytes} B > budget`);
    assert.ok(e.slots >= 1);
  }
  // what the old sizing reserved at 4096: 16 × 4098² × 3 ≈ 806 MB
  assert.ok(encodeSlots(16, 4096, 1).bytes < 16 * 4098 ** 2 * 3 / 10);
  assert.equal(encodeSlots(16, 4096, 1, 1).slots, 1, 'a budget below one slot still gives one');
});

test('dzsave refuses tile sizes above MAX_DZSAVE_TILE_SIZE before writing anything', async () => {
  const slide = await FakeSlide.create({ width: 300, height: 200, downsamples: [1], tile: 128 });
  const dir = mkdtempSync(join(tmpdir(), 'gbx-dzsave-'));
  try {
    await assert.rejects(dzsave(slide, dir, 'big', { tileSize: 8192 }), /at most 4096 \(got 8192\)/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dzsave into an earlier export: refused by default; existing: "replace" removes only <name>.dzi and <name>_files', async () => {
  const slide = await FakeSlide.create({ width: 300, height: 200, downsamples: [1], tile: 128 });
  const dir = mkdtempSync(join(tmpdir(), 'gbx-dzsave-'));
  try {
    await dzsave(slide, dir, 's', { tileSize: 16, overlap: 0 });
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    mkdirSync(join(dir, 's2_files'));
    await assert.rejects(dzsave(slide, dir, 's', { tileSize: 254 }), (e: unknown) => {
      assert.ok(e instanceof DzSaveExistsError);
      assert.deepEqual(e.paths, [join(dir, 's.dzi'), join(dir, 's_files')]);
      return true;
    });
    const res = await dzsave(slide, dir, 's', { tileSize: 254, existing: 'replace' });
    const g = new DeepZoomGeometry(300, 200, 254, 1);
    let n = 0;
    for (const l of readdirSync(res.filesDir)) n += readdirSync(join(res.filesDir, l)).length;
    assert.equal(n, res.tiles, 'no stale tiles from the 16-px export');
    assert.equal(readdirSync(res.filesDir).length, g.levelCount);
    assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'mine');
    assert.ok(existsSync(join(dir, 's2_files')));
    // a <name>_files symlink is removed as a link: what it points to is never deleted
    const elsewhere = mkdtempSync(join(tmpdir(), 'gbx-dzsave-target-'));
    writeFileSync(join(elsewhere, 'precious.txt'), 'keep');
    symlinkSync(elsewhere, join(dir, 'l_files'));
    await dzsave(slide, dir, 'l', { tileSize: 254, existing: 'replace' });
    assert.equal(readFileSync(join(elsewhere, 'precious.txt'), 'utf8'), 'keep');
    assert.ok(!lstatSync(join(dir, 'l_files')).isSymbolicLink());
    rmSync(elsewhere, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

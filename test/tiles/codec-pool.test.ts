import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodecPool, SlideTiler, TileCache } from '../../main/engine/tiles/index.js';
import { FakeSlide, crop, decode, meanAbsDiff, pattern } from './fake-slide.js';

test('CodecPool: encode / decode / decodeInto / shared encode in worker threads', async () => {
  const pool = new CodecPool(2);
  const dir = mkdtempSync(join(tmpdir(), 'gbx-pool-'));
  try {
    const img = pattern(100, 60);
    const jpeg = await pool.encode(img.data, 100, 60, 95);
    assert.equal(img.data.length, 100 * 60 * 3, 'the caller keeps its pixels');
    const back = await pool.decode(jpeg);
    assert.deepEqual([back.width, back.height], [100, 60]);
    assert.ok(meanAbsDiff(back, img) < 2);
    // decodeInto a shared band 250 px wide at x=50, clipped to 80×40
    const sab = new SharedArrayBuffer(250 * 40 * 3);
    const band = new Uint8Array(sab).fill(7);
    await pool.decodeInto(jpeg, sab, 250, 50, 80, 40);
    assert.equal(band[0], 7, 'left of the tile untouched');
    const got = crop({ data: band, width: 250, height: 40 }, 50, 0, 80, 40);
    assert.ok(meanAbsDiff(got, crop(back, 0, 0, 80, 40)) < 0.01);
    assert.equal(band[(0 * 250 + 130) * 3], 7, 'right of the clip untouched');
    // encode from a SharedArrayBuffer slot straight to a file
    const slots = new SharedArrayBuffer(2 * 100 * 60 * 3);
    new Uint8Array(slots, 100 * 60 * 3).set(img.data);
    await pool.encodeSharedToFile(slots, 100 * 60 * 3, 100, 60, 90, join(dir, 't.jpeg'));
    assert.ok(meanAbsDiff(await decode(readFileSync(join(dir, 't.jpeg'))), img) < 2.5);
    await assert.rejects(pool.decode(new Uint8Array([1, 2, 3])));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the tiler gives the same tiles with a codec pool', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1, 4], tile: 256 });
  const pool = new CodecPool(2);
  try {
    const a = new SlideTiler(slide, new TileCache(), 'a', { tileSize: 254, overlap: 1 });
    const b = new SlideTiler(slide, new TileCache(), 'b', { tileSize: 254, overlap: 1, pool });
    for (const [l, c, r] of [[10, 1, 1], [10, 3, 2], [9, 0, 0]]) {
      const x = await decode(await a.dziTile(l, c, r));
      const y = await decode(await b.dziTile(l, c, r));
      assert.ok(meanAbsDiff(x, y) < 0.5, `tile ${l}/${c}_${r}`);
    }
  } finally {
    await pool.close();
  }
});

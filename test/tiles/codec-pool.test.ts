import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodecPool, SlideTiler, TileCache } from '../../main/engine/tiles/index.js';
import { FakeSlide, crop, decode, meanAbsDiff, pattern } from './fake-slide.js';

test('CodecPool: encode / decode / several tiles into a band / several tiles from a shared block to files, in worker threads', async () => {
  const pool = new CodecPool(2);
  const dir = mkdtempSync(join(tmpdir(), 'gbx-pool-'));
  try {
    const img = pattern(100, 60);
    const jpeg = await pool.encode(img.data, 100, 60, 95);
    assert.equal(img.data.length, 100 * 60 * 3, 'the caller keeps its pixels');
    const back = await pool.decode(jpeg);
    assert.deepEqual([back.width, back.height], [100, 60]);
    assert.ok(meanAbsDiff(back, img) < 2);
    // several tiles into a shared band 250 px wide in one job: the first at x=50 clipped to 80×40, the second at x=140
    const sab = new SharedArrayBuffer(250 * 40 * 3);
    const band = new Uint8Array(sab).fill(7);
    await pool.decodeTilesInto([jpeg, jpeg], [50, 140], [80, 100], sab, 250, 40);
    assert.equal(band[0], 7, 'left of the first tile untouched');
    assert.ok(meanAbsDiff(crop({ data: band, width: 250, height: 40 }, 50, 0, 80, 40), crop(back, 0, 0, 80, 40)) < 0.01);
    assert.equal(band[(0 * 250 + 130) * 3], 7, 'between the first clip and the second tile untouched');
    assert.ok(meanAbsDiff(crop({ data: band, width: 250, height: 40 }, 140, 0, 100, 40), crop(back, 0, 0, 100, 40)) < 0.01);
    assert.equal(band[(39 * 250 + 240) * 3], 7, 'right of the second tile untouched');
    // tiles cut from one block of a SharedArrayBuffer (rows 200 px apart, after 5 bytes of something else), each to its file
    const block = pattern(200, 60);
    const slots = new SharedArrayBuffer(5 + 200 * 60 * 3 + 200 * 3); // padding: the last tile's rows are read with the full stride
    new Uint8Array(slots, 5).set(block.data);
    const tiles = [{ x: 0, width: 120, file: join(dir, 'a.jpeg') }, { x: 110, width: 90, file: join(dir, 'b.jpeg') }];
    await pool.encodeTilesToFiles(slots, 5, 200, 60, tiles, 90);
    for (const t of tiles) {
      const got = await decode(readFileSync(t.file));
      assert.deepEqual([got.width, got.height], [t.width, 60]);
      assert.ok(meanAbsDiff(got, crop(block, t.x, 0, t.width, 60)) < 2.5, t.file);
    }
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

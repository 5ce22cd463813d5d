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
    // a run of adjacent tiles in one job, side by side: the first at x=0 clipped to 80×40, the second at x=80 (100 wide)
    const reuse = new ArrayBuffer(180 * 40 * 3 + 7);
    const run = await pool.decodeTiles([jpeg, jpeg], [50, 130], [80, 100], 40, reuse);
    assert.equal(run.width, 180);
    assert.equal(run.pixels.byteLength, 180 * 40 * 3);
    assert.equal(run.pixels.buffer.byteLength, 180 * 40 * 3 + 7, 'decoded into the buffer given');
    assert.equal(reuse.byteLength, 0, 'which moved to the worker');
    const side = { data: run.pixels, width: 180, height: 40 };
    assert.ok(meanAbsDiff(crop(side, 0, 0, 80, 40), crop(back, 0, 0, 80, 40)) < 0.01);
    assert.ok(meanAbsDiff(crop(side, 80, 0, 100, 40), crop(back, 0, 0, 100, 40)) < 0.01);
    // tiles cut from one block of rows 200 px apart, each to its file; the block comes back
    const blockImg = pattern(200, 60);
    const block = new ArrayBuffer(200 * 60 * 3 + 200 * 3); // padding: the second tile's rows are read with the full stride
    new Uint8Array(block).set(blockImg.data);
    const tiles = [{ x: 0, width: 120, file: join(dir, 'a.jpeg') }, { x: 110, width: 90, file: join(dir, 'b.jpeg') }];
    const returned = await pool.encodeTilesToFiles(block, 200, 60, tiles, 90);
    assert.equal(block.byteLength, 0, 'the block moved to the worker');
    assert.equal(returned.byteLength, 200 * 60 * 3 + 200 * 3, 'and came back whole');
    for (const t of tiles) {
      const got = await decode(readFileSync(t.file));
      assert.deepEqual([got.width, got.height], [t.width, 60]);
      assert.ok(meanAbsDiff(got, crop(blockImg, t.x, 0, t.width, 60)) < 2.5, t.file);
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

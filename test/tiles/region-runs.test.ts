/**
 * RegionReader decodes native JPEG tiles in runs along a row (one decode call for a tile and the next ones of its row
 * not decoded yet, at most RUN): the pixels equal a decode of each tile alone, a region needs fewer decode calls than
 * tiles, a concurrent request for a tile of a run in flight waits for it (no second decode), and the tiles left over
 * serve the next region without decoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSlide, crop, decode } from './fake-slide.js';
import { RegionReader, RUN } from '../../main/engine/tiles/region.js';
import { ByteCache } from '../../main/base/cache.js';
import { CodecPool } from '../../main/engine/tiles/codec-pool.js';
import type { RgbImage } from '../../main/engine/slide/types.js';

/** the level's pixels as its JPEG tiles decode one by one */
async function reference(slide: FakeSlide, level: number): Promise<RgbImage> {
  const L = slide.properties.levels[level];
  const out: RgbImage = { data: new Uint8Array(L.width * L.height * 3), width: L.width, height: L.height };
  for (let r = 0; r * L.tileHeight < L.height; r++) {
    for (let c = 0; c * L.tileWidth < L.width; c++) {
      const t = await decode((await slide.readEncodedTile(level, c, r))!.bytes);
      for (let y = 0; y < Math.min(t.height, L.height - r * L.tileHeight); y++) {
        const w = Math.min(t.width, L.width - c * L.tileWidth);
        out.data.set(t.data.subarray(y * t.width * 3, (y * t.width + w) * 3), ((r * L.tileHeight + y) * L.width + c * L.tileWidth) * 3);
      }
    }
  }
  return out;
}

/** a pool that counts its decode calls (and does them in its workers) */
function countingPool() {
  const pool = new CodecPool(1);
  const n = { single: 0, runs: 0, runTiles: 0 };
  const decode = pool.decode.bind(pool);
  const decodeTileStack = pool.decodeTileStack.bind(pool);
  pool.decode = (...a: Parameters<typeof decode>) => (n.single++, decode(...a));
  pool.decodeTileStack = (...a: Parameters<typeof decodeTileStack>) => (n.runs++, (n.runTiles += a[0].length), decodeTileStack(...a));
  return { pool, n };
}

for (const where of ['this thread', 'the codec pool'] as const) {
  test(`tile runs (${where}): same pixels as tile-by-tile decodes, fewer decode calls, leftovers reused`, async () => {
    // 10 × 4 tiles of 64 px; the last column and row are partial
    const slide = await FakeSlide.create({ width: 610, height: 230, tile: 64, jpeg: true });
    const ref = await reference(slide, 0);
    const counting = where === 'the codec pool' ? countingPool() : null;
    const reader = new RegionReader(slide, { cache: new ByteCache(), pool: counting?.pool });
    try {
      // the first 3 columns of rows 0-1: each row's run covers columns 0..RUN-1
      const a = await reader.read(0, 0, 0, 150, 100, 0, 0);
      assert.deepEqual(Buffer.from(a.data), Buffer.from(crop(ref, 0, 0, 150, 100).data));
      if (counting) {
        assert.equal(counting.n.runs, 2, 'one run per tile row');
        assert.equal(counting.n.runTiles, 2 * RUN);
        assert.equal(counting.n.single, 0);
      }
      // columns 3.. of the same rows: column RUN-1 is cached already; the rest decode in new runs
      const encodedBefore = slide.calls.encoded;
      const b = await reader.read(0, 150, 0, 460, 100, 150, 0);
      assert.deepEqual(Buffer.from(b.data), Buffer.from(crop(ref, 150, 0, 460, 100).data));
      assert.ok(slide.calls.encoded - encodedBefore <= 2 * (10 - RUN), 'the leftovers of the first runs are not read again');
      // the whole level, concurrently from several overlapping regions: every pixel right
      const parts = await Promise.all([0, 100, 200, 300].map((x) => reader.read(0, x, 0, 310, 230, x, 0)));
      parts.forEach((p, i) => assert.deepEqual(Buffer.from(p.data), Buffer.from(crop(ref, i * 100, 0, 310, 230).data), `part ${i}`));
      if (counting) {
        const decodedTiles = counting.n.runTiles + counting.n.single;
        assert.equal(decodedTiles, 10 * 4, `each of the 40 tiles decoded once (runs ${counting.n.runs}, single ${counting.n.single})`);
        assert.ok(counting.n.runs + counting.n.single < 20, `fewer decode calls than tiles: ${counting.n.runs} runs + ${counting.n.single} single`);
      }
    } finally {
      reader.clear();
      await counting?.pool.close();
    }
  });
}

test('a tile whose run fails is decoded alone: a corrupt neighbour fails only its own reads', async () => {
  const slide = await FakeSlide.create({ width: 256, height: 64, tile: 64, jpeg: true });
  const ref = await reference(slide, 0);
  const read = slide.readEncodedTile.bind(slide);
  slide.readEncodedTile = async (level, col, row, signal) => {
    const t = await read(level, col, row, signal);
    return t && col === 2 ? { ...t, bytes: t.bytes.subarray(0, 40) } : t; // column 2: truncated JPEG
  };
  const reader = new RegionReader(slide, { cache: new ByteCache() });
  const a = await reader.read(0, 0, 0, 128, 64, 0, 0);
  assert.deepEqual(Buffer.from(a.data), Buffer.from(crop(ref, 0, 0, 128, 64).data));
  await assert.rejects(reader.read(0, 128, 0, 64, 64, 128, 0));
  const d = await reader.read(0, 192, 0, 64, 64, 192, 0);
  assert.deepEqual(Buffer.from(d.data), Buffer.from(crop(ref, 192, 0, 64, 64).data));
});

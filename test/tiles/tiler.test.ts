import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { SlideTiler, TileCache } from '../../main/engine/tiles/index.js';
import { isAbortError } from '../../main/base/abort.js';
import { FakeSlide, crop, decode, meanAbsDiff } from './fake-slide.js';

const JPEG = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

test('level mapping inside the tiler: DZ levels pick the right slide level', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1, 4] });
  const t = new SlideTiler(slide, new TileCache(), 'k');
  assert.equal(t.geometry.maxLevel, 10);
  assert.deepEqual([10, 9, 8, 7, 0].map((l) => t.slideLevelFor(l)), [0, 0, 1, 1, 1]);
});

test('pass-through: a DZ tile that is exactly a file tile is the file JPEG, byte for byte', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1, 4], tile: 256 });
  const t = new SlideTiler(slide, new TileCache(), 'k', { tileSize: 256, overlap: 0 });
  const got = await t.dziTile(10, 1, 1);
  const file = await slide.readEncodedTile(0, 1, 1);
  assert.ok(file);
  assert.deepEqual(Buffer.from(got), Buffer.from(file.bytes));
  assert.equal(t.stats.passThrough, 1);
  // DZ level 8 is slide level 1 (250×175) and its only tile is a padded edge tile: decoded + cropped
  const edge = await decode(await t.dziTile(8, 0, 0));
  assert.deepEqual([edge.width, edge.height], [250, 175]);
  assert.ok(meanAbsDiff(edge, crop(slide.pixels[1], 0, 0, 250, 175)) < 3);
  // native tiles: interior pass-through, edge cropped to the level
  const nt = await t.nativeTile(0, 0, 0);
  assert.deepEqual(Buffer.from(nt), Buffer.from((await slide.readEncodedTile(0, 0, 0))!.bytes));
  const ne = await decode(await t.nativeTile(0, 3, 2));
  assert.deepEqual([ne.width, ne.height], [1000 - 768, 700 - 512]);
  assert.ok(meanAbsDiff(ne, crop(slide.pixels[0], 768, 512, 232, 188)) < 3);
  await assert.rejects(t.nativeTile(0, 4, 0), /outside level 0/);
  await assert.rejects(t.nativeTile(2, 0, 0), /level 2 does not exist/);
});

test('resampled / overlapping tiles match readRegion of the same area', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1, 4], tile: 256 });
  for (const decoder of ['auto', 'slide'] as const) {
    const t = new SlideTiler(slide, new TileCache(), 'k', { tileSize: 254, overlap: 1, decoder });
    // full-resolution inner tile with overlap (spans 4 file tiles)
    const r = t.geometry.tileRect(10, 1, 1);
    const a = await decode(await t.dziTile(10, 1, 1));
    const ref = await slide.readRegion(r.x, r.y, 0, r.w, r.h);
    assert.deepEqual([a.width, a.height], [256, 256]);
    assert.ok(meanAbsDiff(a, ref) < 2.5, `${decoder}: full-res tile differs ${meanAbsDiff(a, ref)}`);
    assert.equal(JPEG(await t.dziTile(10, 3, 2)), true);
    // DZ level 9 (×2) from slide level 0, resampled: compare with readRegion shrunk by 2
    const r9 = t.geometry.tileRect(9, 1, 0);
    const b = await decode(await t.dziTile(9, 1, 0));
    assert.deepEqual([b.width, b.height], [r9.w, r9.h]);
    const big = await slide.readRegion(r9.x * 2, r9.y * 2, 0, r9.w * 2, r9.h * 2);
    const small = await sharp(big.data, { raw: { width: big.width, height: big.height, channels: 3 } }).resize(r9.w, r9.h, { fit: 'fill' }).raw().toBuffer();
    const diff = meanAbsDiff(b, { data: small, width: r9.w, height: r9.h });
    assert.ok(diff < 4, `${decoder}: ×2 tile differs ${diff}`);
    // DZ level 6 (×16) from slide level 1 (×4)
    const c = await decode(await t.dziTile(6, 0, 0));
    assert.deepEqual([c.width, c.height], [63, 44]);
    const lvl1 = await slide.readRegion(0, 0, 1, 250, 175);
    const small1 = await sharp(lvl1.data, { raw: { width: 250, height: 175, channels: 3 } }).resize(63, 44, { fit: 'fill' }).raw().toBuffer();
    assert.ok(meanAbsDiff(c, { data: small1, width: 63, height: 44 }) < 8); // JPEG on a 63×44 thumbnail of a checkerboard
    assert.ok(meanAbsDiff(c, { data: small1.map((v) => 255 - v), width: 63, height: 44 }) > 30, "sanity: an unrelated image is far off");
  }
  const raw = await FakeSlide.create({ width: 600, height: 500, downsamples: [1], tile: 256, jpeg: false });
  const t2 = new SlideTiler(raw, new TileCache(), 'k2', { tileSize: 256, overlap: 0 });
  const d = await decode(await t2.dziTile(10, 0, 0));
  assert.ok(meanAbsDiff(d, crop(raw.pixels[0], 0, 0, 256, 256)) < 2.5);
  assert.equal(t2.stats.passThrough, 0);
  assert.ok(raw.calls.region > 0, 'no JPEG tiles: readRegion is used');
});

test('the encoded-tile cache keeps to its byte budget and de-duplicates in-flight tiles', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1, 4], tile: 256 });
  const cache = new TileCache({ maxBytes: 40_000, concurrency: 2 });
  const t = new SlideTiler(slide, cache, 'k', { tileSize: 254, overlap: 1 });
  let total = 0;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) {
    total += (await t.dziTile(10, c, r)).byteLength;
    assert.ok(cache.bytes <= 40_000, `cache holds ${cache.bytes} bytes`);
  }
  assert.ok(total > 40_000, 'the test must overflow the budget');
  assert.ok(cache.size < 12);
  // a hit does not recompute
  const before = t.stats.encoded;
  await t.dziTile(10, 3, 2);
  assert.equal(t.stats.encoded, before);
  // two concurrent requests for the same (uncached) tile compute it once
  const t2 = new SlideTiler(slide, new TileCache(), 'k2', { tileSize: 254, overlap: 1, decoder: 'slide' });
  const calls = slide.calls.region;
  const [x, y] = await Promise.all([t2.dziTile(9, 0, 0), t2.dziTile(9, 0, 0)]);
  assert.deepEqual(Buffer.from(x), Buffer.from(y));
  assert.equal(slide.calls.region - calls, 1);
  assert.equal(t2.stats.encoded, 1);
});

test('cancellation: aborting stops queued work and reaches the slide read', async () => {
  const slide = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1], tile: 256, delayMs: 40, jpeg: false });
  const cache = new TileCache({ concurrency: 1 });
  const t = new SlideTiler(slide, cache, 'k', { tileSize: 254, overlap: 1, decoder: 'slide' });
  const ctrl = new AbortController();
  const ps = [0, 1, 2, 3].map((c) => t.dziTile(10, c, 0, ctrl.signal));
  await new Promise((r) => setTimeout(r, 10));
  ctrl.abort();
  const rs = await Promise.allSettled(ps);
  for (const r of rs) assert.ok(r.status === 'rejected' && isAbortError(r.reason), 'every request rejects with an abort');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(slide.calls.region, 1, 'queued tiles never started');
  assert.equal(slide.calls.aborted, 1, 'the running read saw the aborted signal');
  assert.equal(t.stats.encoded, 0, 'nothing was encoded');
  assert.equal(cache.size, 0);
  // the tile can be requested again afterwards
  assert.equal(JPEG(await t.dziTile(10, 0, 0)), true);
});

test('associated images, regions and disposal', async () => {
  const slide = await FakeSlide.create({ width: 600, height: 400, downsamples: [1], tile: 256 });
  const cache = new TileCache();
  const t = new SlideTiler(slide, cache, 'k');
  const a = await decode(await t.associated('label'));
  assert.deepEqual([a.width, a.height], [64, 32]);
  await assert.rejects(() => t.associated('macro'), /no associated image 'macro'/);
  const png = await t.regionPng(-10, 390, 0, 30, 20);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 30, 20]);
  await assert.rejects(() => t.regionPng(0, 0, 0, 20000, 10), /too large/);
  await assert.rejects(() => t.regionPng(0, 0, 3, 10, 10), /level 3 does not exist/);
  await t.dziTile(t.geometry.maxLevel, 0, 0);
  assert.ok(cache.size > 0);
  t.dispose();
  assert.equal(cache.size, 0);
});

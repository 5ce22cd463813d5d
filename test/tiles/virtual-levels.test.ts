/**
 * Virtual levels (main/engine/tiles/virtual.ts): which Deep Zoom levels are made from a finer level instead of the
 * file's own, their pixels against a downsample of the real level, the bounded cost, and the cache.
 *
 * Reference "downsample of the real level": the exact area mean of level 0 over each ds×ds block (what every pyramid
 * filter approximates). Tolerance: mean |difference| ≤ 3/255 per channel. Why 3: a direct level resampled 2× from level 0
 * with lanczos3 (the tiler's filter, as OpenSlide's) is itself 1.5/255 from the area mean on CMU; virtual levels come
 * from it through further 2× box halvings (area means of it, so they add no filter error of their own). A one-pixel
 * shift of the same image is far above it (checked below), so the bound still sees misplacement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSlide } from '../../main/engine/slide/index.js';
import type { RgbImage, Slide } from '../../main/engine/slide/types.js';
import { SlideTiler, TileCache, encodeJpeg } from '../../main/engine/tiles/index.js';
import { MAX_STEPS } from '../../main/engine/tiles/virtual.js';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { FakeSlide, decode } from './fake-slide.js';

const TOLERANCE = 3;

/** exact mean of `full` over f×f blocks (partial blocks at the right / bottom edge: the pixels there) */
function areaMean(full: RgbImage, f: number): { data: Float64Array; width: number; height: number } {
  const w = Math.ceil(full.width / f);
  const h = Math.ceil(full.height / f);
  const sum = new Float64Array(w * h * 3);
  const n = new Float64Array(w * h);
  for (let y = 0; y < full.height; y++) {
    const oy = Math.floor(y / f);
    for (let x = 0; x < full.width; x++) {
      const o = oy * w + Math.floor(x / f);
      const s = (y * full.width + x) * 3;
      sum[o * 3] += full.data[s];
      sum[o * 3 + 1] += full.data[s + 1];
      sum[o * 3 + 2] += full.data[s + 2];
      n[o]++;
    }
  }
  for (let i = 0; i < w * h * 3; i++) sum[i] /= n[Math.floor(i / 3)];
  return { data: sum, width: w, height: h };
}

/** mean |a − ref| per channel, `ref` shifted by (dx, dy), over the pixels both cover */
function meanDiff(a: RgbImage, ref: { data: ArrayLike<number>; width: number; height: number }, dx = 0, dy = 0): number {
  let s = 0;
  let n = 0;
  for (let y = Math.max(0, -dy); y < Math.min(a.height, ref.height - dy); y++) {
    for (let x = Math.max(0, -dx); x < Math.min(a.width, ref.width - dx); x++) {
      for (let c = 0; c < 3; c++) s += Math.abs(a.data[(y * a.width + x) * 3 + c] - ref.data[((y + dy) * ref.width + x + dx) * 3 + c]);
      n += 3;
    }
  }
  return s / n;
}

function virtualLevels(slide: Slide): number[] {
  return new SlideTiler(slide, new TileCache({ maxBytes: 2 ** 20 }), 'k', { tileSize: 254, overlap: 1 }).virtualLevels();
}

test('a one-level slide: every level more than 2× below it is virtual, and its pixels are the area mean of level 0', async () => {
  const slide = await FakeSlide.create({ width: 1500, height: 1000, downsamples: [1], tile: 256 });
  const cache = new TileCache({ maxBytes: 64 * 2 ** 20 });
  const t = new SlideTiler(slide, cache, 'k', { tileSize: 254, overlap: 1 });
  assert.equal(t.geometry.maxLevel, 11);
  // 11: level 0 itself; 10: ×2 from level 0 (direct, as OpenSlide); 9 … 0: virtual
  assert.deepEqual(t.virtualLevels(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const level of [9, 7, 5]) {
    const dz = t.geometry.levels[level];
    const got = await t.pixels.read(level, { x: 0, y: 0, w: dz.width, h: dz.height });
    const ref = areaMean(slide.pixels[0], dz.downsample);
    assert.deepEqual([got.width, got.height], [ref.width, ref.height]);
    const d = meanDiff(got, ref);
    assert.ok(d <= TOLERANCE, `level ${level} (×${dz.downsample}) is ${d.toFixed(2)}/255 from the area mean of level 0`);
    // this smooth pattern moves little under a one-pixel shift: check that the placement is the best one instead
    const shifted = Math.min(meanDiff(got, ref, 1, 0), meanDiff(got, ref, 0, 1), meanDiff(got, ref, -1, 0), meanDiff(got, ref, 0, -1));
    assert.ok(shifted > 2 * d, `sanity: one pixel off is clearly worse (${shifted.toFixed(2)} vs ${d.toFixed(2)})`);
  }
  // a served tile of a virtual level (overlap included) is exactly those pixels through the JPEG encoder
  const rect = t.geometry.tileRect(9, 1, 0);
  const tile = await t.dziTile(9, 1, 0);
  assert.deepEqual([(await decode(tile)).width, (await decode(tile)).height], [rect.w, rect.h]);
  assert.deepEqual(Buffer.from(tile), Buffer.from(await encodeJpeg(await t.pixels.read(9, rect), t.quality)));
});

test('virtual blocks are built from the level 2^MAX_STEPS× finer, cached in the one cache, and dropped with the tiler', async () => {
  const slide = await FakeSlide.create({ width: 2000, height: 1200, downsamples: [1], tile: 256 });
  const cache = new TileCache({ maxBytes: 64 * 2 ** 20 });
  const t = new SlideTiler(slide, cache, 'k', { tileSize: 254, overlap: 1 });
  // a tile of the ×16 level (one 125×75 tile) needs no level-0 tile beyond the area below it, each decoded once
  await t.dziTile(t.geometry.maxLevel - 4, 0, 0);
  const decodes = slide.calls.encoded;
  assert.ok(decodes <= 8 * 5 + 1, `level-0 tiles read for a ×16 tile: ${decodes} (the slide has 8×5)`);
  assert.ok(t.pixels.plan.every((p) => p.kind !== 'virtual' || p.steps === MAX_STEPS));
  const built = { ...t.pixels.stats };
  assert.ok(built.virtual > 0 && built.direct > 0);
  // coarser levels reuse the cached blocks: no new reads of the slide, only new virtual blocks
  for (let l = t.geometry.maxLevel - 5; l >= 0; l--) await t.dziTile(l, 0, 0);
  assert.equal(slide.calls.encoded, decodes, 'coarser virtual levels read no more slide tiles');
  assert.equal(t.pixels.stats.direct, built.direct);
  // again: cache hits (the byte cache holds them), nothing rebuilt
  const again = { ...t.pixels.stats };
  await t.pixels.read(t.geometry.maxLevel - 4, { x: 0, y: 0, w: 125, h: 75 });
  assert.deepEqual(t.pixels.stats, again);
  assert.ok(cache.store.bytes <= cache.store.maxBytes);
  t.dispose();
  await t.pixels.read(3, { x: 0, y: 0, w: 16, h: 10 }).catch(() => undefined);
  assert.equal(cache.store.bytes, 0, 'blocks dropped with the tiler and not stored after dispose');
});

test('a tight byte budget: virtual levels build the same pixels, memory stays within the budget', async () => {
  const slide = await FakeSlide.create({ width: 1500, height: 1000, downsamples: [1], tile: 256 });
  const roomy = new SlideTiler(slide, new TileCache({ maxBytes: 64 * 2 ** 20 }), 'a', { tileSize: 254, overlap: 1 });
  const cache = new TileCache({ maxBytes: 600 * 1024 }); // blocks (192 KiB) are over its entry limit: never kept
  const tight = new SlideTiler(slide, cache, 'b', { tileSize: 254, overlap: 1 });
  const dz = tight.geometry.levels[6];
  const rect = { x: 0, y: 0, w: dz.width, h: dz.height };
  assert.deepEqual(Buffer.from((await tight.pixels.read(6, rect)).data), Buffer.from((await roomy.pixels.read(6, rect)).data));
  assert.ok(cache.store.bytes <= 600 * 1024, `held ${cache.store.bytes} bytes`);
});

test('shared slides: which Deep Zoom levels are virtual, and CMU virtual pixels vs the area mean of level 0', { skip: SKIP_NO_SLIDES }, async () => {
  const cases: Array<[string, number[]]> = [
    // one level 2220×2967 (DZ 12): DZ 11 is ×2 from it (direct), 10 … 0 virtual
    ['CMU-1-Small-Region.svs', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    // 4443×3567 and 2221×1783 (×2.0004, DZ 13): DZ 12 (×2, from level 1) and 11 (×4, 2× from level 1) direct; 10 … 0 virtual
    ['tcga-cr-7395-01a-01-ts1.svs', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    // four levels ×1 … ×8 (3968×4864 … 496×608, DZ 13 … 10), DZ 9 is ×2 from the last: 8 … 0 virtual
    ['test3-DAPI-2-(387).ndpi', [0, 1, 2, 3, 4, 5, 6, 7, 8]],
    // 300×250 … 37×31 (×8.1, DZ 9 … 6 about); DZ 5 (×32) is ×4 from the last level: 4 … 0 virtual
    ['boxes.tiff', [0, 1, 2, 3, 4]],
  ];
  for (const [name, want] of cases) {
    const slide = await openSlide(join(SHARED_SLIDES, name));
    try {
      assert.deepEqual(virtualLevels(slide), want, `${name} (levels ${slide.properties.levels.map((l) => `${l.width}×${l.height}`).join(', ')})`);
    } finally {
      await slide.close();
    }
  }
  // TCGA's level 1 is 2221 px for 4443 (×2.0004): Deep Zoom ×2 reads it (not level 0: a quarter of the JPEG 2000 decoding)
  const tcga = await openSlide(join(SHARED_SLIDES, 'tcga-cr-7395-01a-01-ts1.svs'));
  try {
    const t = new SlideTiler(tcga, new TileCache({ maxBytes: 2 ** 20 }), 'k', { tileSize: 254, overlap: 1 });
    assert.deepEqual(t.pixels.plan[12], { kind: 'direct', slideLevel: 1, exact: false });
    assert.deepEqual(t.pixels.plan[13], { kind: 'direct', slideLevel: 0, exact: true });
    assert.equal(t.slideLevelFor(12), 1);
  } finally {
    await tcga.close();
  }
  const cmu = await openSlide(join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'));
  try {
    const t = new SlideTiler(cmu, new TileCache({ maxBytes: 128 * 2 ** 20 }), 'k', { tileSize: 254, overlap: 1 });
    const full = await cmu.readRegion(0, 0, 0, 2220, 2967);
    for (const level of [10, 8, 7]) {
      const dz = t.geometry.levels[level];
      const got = await t.pixels.read(level, { x: 0, y: 0, w: dz.width, h: dz.height });
      const ref = areaMean(full, dz.downsample);
      const d = meanDiff(got, ref);
      assert.ok(d <= TOLERANCE, `CMU level ${level} (×${dz.downsample}) is ${d.toFixed(2)}/255 from the area mean of level 0`);
      assert.ok(meanDiff(got, ref, 1, 0) > TOLERANCE, 'sanity: a one-pixel shift exceeds the tolerance');
    }
  } finally {
    await cmu.close();
  }
});

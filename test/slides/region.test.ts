/**
 * readRegion / readTile semantics on generated slides with known pixels: OpenSlide read_region
 * (level-0 coordinates, level scaling, white outside), exact pixels on lossless pyramids (sharp/libvips
 * writes them; each level's reference is decoded independently by sharp from the same page), stripped
 * images, and 16-bit data mapped with one slide-wide range (no per-tile stretching).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openSlide, SlideError } from '../../main/engine/slide/index.js';
import { sharedCache } from '../../main/base/cache.js';
import { AbortError } from '../../main/base/abort.js';
import { writeTiff } from '../fixtures/tiff-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-region-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const W = 1000, H = 700;
/** a gradient whose every pixel is distinct: R = x & 255, G = y & 255, B = 16·(x >> 8) + 64·(y >> 8) */
function gradient(): Uint8Array {
  const px = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 3;
    px[i] = x & 255; px[i + 1] = y & 255; px[i + 2] = 16 * (x >> 8) + 64 * (y >> 8);
  }
  return px;
}
const GRAD = gradient();

let pyramid: string;
let stripped: string;
test.before(async () => {
  pyramid = join(dir, 'pyramid.tif');
  await sharp(GRAD, { raw: { width: W, height: H, channels: 3 } })
    .tiff({ tile: true, tileWidth: 128, tileHeight: 128, pyramid: true, compression: 'deflate' }).toFile(pyramid);
  stripped = join(dir, 'stripped.tif');
  writeFileSync(stripped, writeTiff([{ width: W, height: H, pixels: GRAD, rowsPerStrip: 7, compression: 8 }]).bytes);
});

/** expected level pixels, decoded by sharp from page `page` */
async function page(path: string, p: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path, { page: p }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function expectRegion(ref: { data: Uint8Array; width: number; height: number }, lx: number, ly: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3).fill(255);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sx = lx + x, sy = ly + y;
    if (sx < 0 || sy < 0 || sx >= ref.width || sy >= ref.height) continue;
    const si = (sy * ref.width + sx) * 3, di = (y * w + x) * 3;
    out[di] = ref.data[si]; out[di + 1] = ref.data[si + 1]; out[di + 2] = ref.data[si + 2];
  }
  return out;
}

test('region: level 0 is exact, edges are white, level-0 coordinates', async () => {
  const s = await openSlide(pyramid);
  try {
    const p = s.properties;
    assert.equal(p.format, 'generic-tiff');
    assert.equal(p.width, W);
    assert.ok(p.levels.length >= 3, `sharp pyramid levels: ${p.levels.length}`);
    const ref = { data: GRAD, width: W, height: H };
    for (const [x, y, w, h] of [[0, 0, 300, 200], [117, 255, 256, 300], [900, 650, 200, 100], [-30, -20, 64, 48], [W - 1, H - 1, 5, 5], [2000, 2000, 10, 10]]) {
      const r = await s.readRegion(x, y, 0, w, h);
      assert.equal(r.width, w); assert.equal(r.height, h);
      assert.deepEqual(r.data, expectRegion(ref, x, y, w, h), `region ${x},${y} ${w}×${h}`);
    }
    // a known pixel and a white one
    const r = await s.readRegion(998, 698, 0, 4, 4);
    assert.deepEqual([...r.data.subarray(0, 3)], [998 & 255, 698 & 255, 16 * 3 + 64 * 2]);
    assert.deepEqual([...r.data.subarray(3 * 4 * 4 - 3)], [255, 255, 255]);
  } finally { await s.close(); }
});

test('region: reduced levels take level-0 coordinates divided by the downsample', async () => {
  const s = await openSlide(pyramid);
  try {
    const p = s.properties;
    for (let level = 1; level < Math.min(p.levels.length, 4); level++) {
      const l = p.levels[level];
      const ref = await page(pyramid, level);
      assert.equal(ref.width, l.width, `level ${level} width`);
      assert.ok(Math.abs(l.downsample - (W / l.width + H / l.height) / 2) < 1e-12);
      for (const [x, y, w, h] of [[0, 0, 64, 64], [400, 300, 100, 90], [W - 50, H - 50, 80, 80]]) {
        const r = await s.readRegion(x, y, level, w, h);
        // OpenSlide semantics: level point x/ds; a fractional remainder is interpolated bilinearly with
        // pixman's 7-bit weights (cross-checked against OpenSlide itself in openslide.test.ts "off-grid")
        const fx = x / l.downsample, fy = y / l.downsample;
        const lx = Math.floor(fx + 1e-6), ly = Math.floor(fy + 1e-6);
        const dx = Math.floor((fx - lx) * 128 + 1e-6) & 127, dy = Math.floor((fy - ly) * 128 + 1e-6) & 127;
        const big = expectRegion(ref, lx, ly, w + 1, h + 1);
        const want = new Uint8Array(w * h * 3);
        for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) for (let k = 0; k < 3; k++) {
          const at = (xx: number, yy: number) => big[(yy * (w + 1) + xx) * 3 + k];
          want[(j * w + i) * 3 + k] = Math.floor((at(i, j) * (128 - dx) * (128 - dy) + at(i + 1, j) * dx * (128 - dy) + at(i, j + 1) * (128 - dx) * dy + at(i + 1, j + 1) * dx * dy) / 16384);
        }
        assert.deepEqual(r.data, want, `level ${level} region ${x},${y} (weights ${dx}/128, ${dy}/128)`);
      }
    }
  } finally { await s.close(); }
});

test('region: readTile is the tile cropped to the level bounds', async () => {
  const s = await openSlide(pyramid);
  try {
    const l = s.properties.levels[0];
    const cols = Math.ceil(l.width / l.tileWidth), rows = Math.ceil(l.height / l.tileHeight);
    for (const [c, r] of [[0, 0], [3, 2], [cols - 1, rows - 1]]) {
      const t = await s.readTile(0, c, r);
      const w = Math.min(l.tileWidth, W - c * l.tileWidth), h = Math.min(l.tileHeight, H - r * l.tileHeight);
      assert.equal(t.width, w); assert.equal(t.height, h);
      assert.deepEqual(t.data, expectRegion({ data: GRAD, width: W, height: H }, c * l.tileWidth, r * l.tileHeight, w, h));
    }
    assert.equal(await s.readEncodedTile(0, 0, 0), null, 'Deflate tiles have no JPEG pass-through');
  } finally { await s.close(); }
});

test('region: a stripped, non-pyramidal TIFF opens as one level of strip-group tiles', async () => {
  const s = await openSlide(stripped);
  try {
    const p = s.properties;
    assert.equal(p.levels.length, 1);
    assert.equal(p.levels[0].tileWidth, W);
    assert.equal(p.levels[0].tileHeight % 7, 0, 'virtual tiles are whole strips');
    const r = await s.readRegion(333, 250, 0, 400, 300);
    assert.deepEqual(r.data, expectRegion({ data: GRAD, width: W, height: H }, 333, 250, 400, 300));
  } finally { await s.close(); }
});

test('region: 16-bit grey is mapped with one slide-wide range (no per-tile stretching)', async () => {
  // left tile values 1000..1999, right tile values 3000..3999; the range is measured once: 1000..3999
  const w = 64, h = 32;
  const px = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = (x < 32 ? 1000 : 3000) + ((y * 32 + (x % 32)) % 1000);
  for (const littleEndian of [true, false]) {
    const f = join(dir, `grey16-${littleEndian}.tif`);
    writeFileSync(f, writeTiff([{ width: w, height: h, pixels: px, spp: 1, bits: 16, photometric: 1, tile: [32, 32], compression: 8 }], { littleEndian }).bytes);
    const s = await openSlide(f);
    try {
      assert.equal(s.properties.pixel.bitsPerSample, 16);
      assert.match(s.properties.raw['glassbox.display'], /1000\.\.3999/);
      const r = await s.readRegion(0, 0, 0, w, h);
      for (const [x, y] of [[0, 0], [31, 31], [32, 0], [63, 31], [5, 17]]) {
        const v = px[y * w + x];
        const expected = Math.round(((v - 1000) / (3999 - 1000)) * 255);
        const i = (y * w + x) * 3;
        assert.ok(Math.abs(r.data[i] - expected) <= 1, `(${x},${y}) value ${v}: got ${r.data[i]}, expected ${expected}`);
        assert.equal(r.data[i], r.data[i + 1]);
      }
      // the left tile alone would stretch to 0..255 if mapped per tile; here its maximum stays dark
      let maxLeft = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < 32; x++) maxLeft = Math.max(maxLeft, r.data[(y * w + x) * 3]);
      assert.ok(maxLeft < 100, `left tile max ${maxLeft}`);
    } finally { await s.close(); }
  }
});

test('region: planar (PlanarConfiguration 2) RGB, tiled and stripped', async () => {
  for (const layout of [{ tile: [128, 128] as [number, number] }, { rowsPerStrip: 50 }]) {
    const f = join(dir, `planar-${layout.tile ? 'tiled' : 'stripped'}.tif`);
    writeFileSync(f, writeTiff([{ width: W, height: H, pixels: GRAD, planar: 2, compression: 8, ...layout }]).bytes);
    const s = await openSlide(f);
    try {
      const r = await s.readRegion(250, 120, 0, 300, 200);
      assert.deepEqual(r.data, expectRegion({ data: GRAD, width: W, height: H }, 250, 120, 300, 200));
    } finally { await s.close(); }
  }
});

test('region: palette (Photometric 3) and min-is-white images', async () => {
  const w = 40, h = 20;
  const idx = new Uint8Array(w * h);
  for (let i = 0; i < idx.length; i++) idx[i] = i % 256;
  const map: number[] = [];
  for (let c = 0; c < 3; c++) for (let i = 0; i < 256; i++) map.push(c === 0 ? i * 257 : c === 1 ? (255 - i) * 257 : 0x8000);
  const f = join(dir, 'palette.tif');
  writeFileSync(f, writeTiff([{ width: w, height: h, pixels: idx, spp: 1, photometric: 3, tile: [16, 16], tags: [{ tag: 320, type: 'SHORT', values: map }] }]).bytes);
  const s = await openSlide(f);
  try {
    const r = await s.readRegion(0, 0, 0, w, h);
    for (const i of [0, 7, 255, 300, 799]) assert.deepEqual([...r.data.subarray(i * 3, i * 3 + 3)], [i % 256, 255 - (i % 256), 128], `pixel ${i}`);
  } finally { await s.close(); }
  const g = join(dir, 'miniswhite.tif');
  writeFileSync(g, writeTiff([{ width: w, height: h, pixels: idx, spp: 1, photometric: 0, rowsPerStrip: 3 }]).bytes);
  const s2 = await openSlide(g);
  try {
    const r = await s2.readRegion(0, 0, 0, w, h);
    for (const i of [0, 9, 255, 799]) assert.deepEqual([...r.data.subarray(i * 3, i * 3 + 3)], new Array(3).fill(255 - (i % 256)), `pixel ${i}`);
  } finally { await s2.close(); }
});

test('region: decoded tiles live in the slide\'s namespace of the shared cache; one reader\'s abort never fails another; close drops them', async () => {
  const cache = sharedCache();
  const before = cache.size;
  const a = await openSlide(pyramid);
  const b = await openSlide(pyramid);
  try {
    const r = await a.readRegion(0, 0, 0, 256, 256);
    assert.ok(Buffer.from(r.data).equals(Buffer.from(crop(GRAD, W, 0, 0, 256, 256))));
    const held = cache.size - before;
    assert.ok(held >= 4, `the 4 tiles of the region are cached (${held} entries)`);
    await a.readRegion(0, 0, 0, 256, 256);
    assert.equal(cache.size - before, held, 'a second read is served from the cache');
    // two readers of the same (uncached) tiles: the first aborts at once, the second still gets its pixels
    const ctrl = new AbortController();
    const first = a.readRegion(512, 256, 0, 256, 256, ctrl.signal);
    const second = a.readRegion(512, 256, 0, 256, 256);
    ctrl.abort();
    await assert.rejects(first, (e: Error) => e instanceof AbortError && e.code === 'ABORTED');
    assert.ok(Buffer.from((await second).data).equals(Buffer.from(crop(GRAD, W, 512, 256, 256, 256))));
    // another open of the same file keeps its own entries; closing one drops only its own
    await b.readRegion(0, 0, 0, 256, 256);
    const withB = cache.size;
    await a.close();
    assert.ok(cache.size < withB, 'closing a slide drops its decoded tiles');
    assert.ok(Buffer.from((await b.readRegion(0, 0, 0, 256, 256)).data).equals(Buffer.from(crop(GRAD, W, 0, 0, 256, 256))));
  } finally {
    await a.close();
    await b.close();
  }
  assert.equal(cache.size, before, 'both closed: nothing of theirs is left');
});

function crop(px: Uint8Array, width: number, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(px.subarray(((y + r) * width + x) * 3, ((y + r) * width + x + w) * 3), r * w * 3);
  return out;
}

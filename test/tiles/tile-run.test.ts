import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { join } from 'node:path';
import { decodeRun, decodeTileStack, jpegInfo, tileColour, tiffOfTiles, ycbcrSampling } from '../../main/engine/tiff/image-codec.mjs';
import { openSlide } from '../../main/engine/slide/index.js';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { crop, decode, pattern } from './fake-slide.js';

/**
 * The same entropy-coded data declared as R, G, B components (Aperio's tiles are coded so): the JFIF marker replaced
 * by an Adobe APP14 marker with transform 0, so libjpeg decodes the three components without colour conversion.
 */
function asRgbCoded(jpeg: Uint8Array): Uint8Array {
  const b = Buffer.from(jpeg);
  const adobe = Buffer.from([0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 0]);
  let i = 2; // skip APP0 (JFIF) segments after SOI
  while (b[i] === 0xff && b[i + 1] === 0xe0) i += 2 + b.readUInt16BE(i + 2);
  const out = Buffer.concat([b.subarray(0, 2), adobe, b.subarray(i)]);
  assert.equal(jpegInfo(out)?.adobe, 0);
  assert.equal(jpegInfo(out)?.jfif, false);
  return out;
}

async function jpegTile(seed: number, w: number, h: number, chromaSubsampling: '4:2:0' | '4:4:4') {
  const img = pattern(w + seed, h);
  const c = crop(img, seed, 0, w, h);
  return sharp(c.data, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90, chromaSubsampling }).toBuffer();
}

test('JPEG header facts: size, sampling, colour space as libjpeg guesses it', async () => {
  const j420 = await jpegTile(0, 64, 48, '4:2:0');
  assert.deepEqual(ycbcrSampling(jpegInfo(j420)), [2, 2]);
  assert.deepEqual([jpegInfo(j420)!.width, jpegInfo(j420)!.height], [64, 48]);
  assert.deepEqual(ycbcrSampling(jpegInfo(await jpegTile(0, 64, 48, '4:4:4'))), [1, 1]);
  const info = jpegInfo(j420)!;
  assert.equal(ycbcrSampling({ ...info, jfif: false, adobe: 0 }), null, 'Adobe transform 0: RGB');
  assert.equal(ycbcrSampling({ ...info, jfif: false, adobe: null, comps: [{ id: 0x52, h: 1, v: 1 }, { id: 0x47, h: 1, v: 1 }, { id: 0x42, h: 1, v: 1 }] }), null, "ids 'R','G','B': RGB");
  assert.equal(jpegInfo(await sharp(j420).jpeg({ progressive: true }).toBuffer()), null, 'progressive: not taken');
  assert.equal(jpegInfo(new Uint8Array([1, 2, 3, 4])), null);
});

test('a run of tiles decodes as one TIFF to exactly the pixels of decoding each tile', async () => {
  for (const sub of ['4:2:0', '4:4:4', 'RGB'] as const) {
    const tiles = await Promise.all([0, 7, 13].map(async (s) => (sub === 'RGB' ? asRgbCoded(await jpegTile(s, 64, 48, '4:4:4')) : jpegTile(s, 64, 48, sub))));
    const colour = tileColour(jpegInfo(tiles[0]))!;
    assert.deepEqual(colour, sub === 'RGB' ? { rgb: true, sampling: [1, 1] } : { rgb: false, sampling: sub === '4:2:0' ? [2, 2] : [1, 1] });
    const tif = tiffOfTiles(tiles, 64, 48, colour);
    const meta = await sharp(tif).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['tiff', 192, 48]);
    // clipped: the last tile to 40 columns, all to 45 rows
    const width = 64 + 64 + 40;
    const out = new ArrayBuffer(width * 45 * 3);
    await decodeRun(tiles, [0, 64, 128], [64, 64, 40], 45, out, width);
    const got = { data: new Uint8Array(out), width, height: 45 };
    for (let i = 0; i < 3; i++) {
      const one = await decode(tiles[i]);
      const w = i === 2 ? 40 : 64;
      assert.deepEqual(Buffer.from(crop(got, 64 * i, 0, w, 45).data), Buffer.from(crop(one, 0, 0, w, 45).data), `${sub} tile ${i}`);
    }
  }
});

test('RGB-coded tiles: a run is one decode call (a TIFF of photometric RGB) with the pixels of each tile alone', async () => {
  const tiles = await Promise.all([0, 5, 9, 14].map(async (s) => asRgbCoded(await jpegTile(s, 64, 48, '4:4:4'))));
  const stack = (await decodeTileStack(tiles))!;
  assert.ok(stack, 'RGB-coded tiles of one size decode as a stack');
  for (let i = 0; i < tiles.length; i++) {
    const one = await decode(tiles[i]);
    assert.deepEqual(Buffer.from(stack.data.subarray(i * 64 * 48 * 3, (i + 1) * 64 * 48 * 3)), Buffer.from(one.data), `tile ${i}`);
  }
  // RGB-coded with subsampled components: no photometric states that; left to one decode per tile
  const info = jpegInfo(tiles[0])!;
  assert.equal(tileColour({ ...info, comps: [{ id: 0, h: 2, v: 2 }, { id: 1, h: 1, v: 1 }, { id: 2, h: 1, v: 1 }] }), null);
  assert.equal(tileColour({ ...info, adobe: null, comps: [{ id: 0x52, h: 1, v: 1 }, { id: 0x47, h: 1, v: 1 }, { id: 0x42, h: 1, v: 1 }] })?.rgb, true, "ids 'R','G','B'");
});

test('CMU-1-Small-Region.svs (Aperio, RGB-coded 4:4:4 JPEG tiles): a row run has the pixels of each tile alone', { skip: SKIP_NO_SLIDES }, async () => {
  const slide = await openSlide(join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'));
  try {
    const tiles = await Promise.all([0, 1, 2, 3].map(async (c) => (await slide.readEncodedTile(0, c, 5))!.bytes));
    assert.equal(tileColour(jpegInfo(tiles[0]))?.rgb, true, 'Aperio tiles are RGB-coded');
    const stack = (await decodeTileStack(tiles))!;
    const n = stack.width * stack.height * 3;
    for (let i = 0; i < tiles.length; i++) assert.deepEqual(Buffer.from(stack.data.subarray(i * n, (i + 1) * n)), Buffer.from((await decode(tiles[i])).data), `tile ${i}`);
  } finally {
    await slide.close();
  }
});

test('tiles a TIFF cannot hold (size not a multiple of 16, mixed sizes) decode one by one, same pixels', async () => {
  const tiles = [await jpegTile(0, 60, 40, '4:2:0'), await jpegTile(3, 60, 40, '4:2:0')];
  const out = new ArrayBuffer(120 * 40 * 3);
  await decodeRun(tiles, [0, 60], [60, 60], 40, out, 120);
  const got = { data: new Uint8Array(out), width: 120, height: 40 };
  for (let i = 0; i < 2; i++) assert.deepEqual(Buffer.from(crop(got, 60 * i, 0, 60, 40).data), Buffer.from((await decode(tiles[i])).data));
});

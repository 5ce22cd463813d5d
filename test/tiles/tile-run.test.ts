import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeRun, jpegInfo, tiffOfTiles, ycbcrSampling } from '../../main/engine/tiff/image-codec.mjs';
import { crop, decode, pattern } from './fake-slide.js';

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
  for (const sub of ['4:2:0', '4:4:4'] as const) {
    const tiles = await Promise.all([0, 7, 13].map((s) => jpegTile(s, 64, 48, sub)));
    const tif = tiffOfTiles(tiles, 64, 48, ycbcrSampling(jpegInfo(tiles[0]))!);
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

test('tiles a TIFF cannot hold (size not a multiple of 16, mixed sizes) decode one by one, same pixels', async () => {
  const tiles = [await jpegTile(0, 60, 40, '4:2:0'), await jpegTile(3, 60, 40, '4:2:0')];
  const out = new ArrayBuffer(120 * 40 * 3);
  await decodeRun(tiles, [0, 60], [60, 60], 40, out, 120);
  const got = { data: new Uint8Array(out), width: 120, height: 40 };
  for (let i = 0; i < 2; i++) assert.deepEqual(Buffer.from(crop(got, 60 * i, 0, 60, 40).data), Buffer.from((await decode(tiles[i])).data));
});

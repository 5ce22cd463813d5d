/**
 * JPEG colour on CMU-1-Small-Region.svs (RGB-coded JPEG tiles with JPEGTables, Photometric 2):
 * readTile == sharp's decode of readEncodedTile's bytes, the APP14 marker is what keeps the colours right
 * (without it libjpeg applies YCbCr->RGB and the colours are far off), and a quick check against OpenSlide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { openSlide } from '../../main/engine/slide/index.js';
import { meanAbsDiffRgb, openslideRegions, skipNoOpenSlide, fmtMad } from './openslide-ref.js';

const CMU = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');

async function decode(jpeg: Uint8Array): Promise<Uint8Array> {
  const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** strips the Adobe APP14 segment (FFEE) that the engine inserted right after SOI */
function withoutApp14(jpeg: Uint8Array): Uint8Array {
  assert.deepEqual([...jpeg.subarray(2, 4)], [0xff, 0xee], 'APP14 right after SOI');
  const len = (jpeg[4] << 8) | jpeg[5];
  const out = new Uint8Array(jpeg.length - 2 - len);
  out.set(jpeg.subarray(0, 2));
  out.set(jpeg.subarray(4 + len), 2);
  return out;
}

test('jpeg colour: readTile equals sharp decoding the pass-through JPEG; no APP14 = wrong colours', { skip: SKIP_NO_SLIDES }, async (t) => {
  const s = await openSlide(CMU);
  try {
    for (const [c, r] of [[0, 0], [4, 6], [9, 12]]) {
      const tile = await s.readTile(0, c, r);
      const enc = await s.readEncodedTile(0, c, r);
      assert.ok(enc);
      assert.equal(enc.width, 240); assert.equal(enc.height, 240);
      const full = await decode(enc.bytes);
      // crop the (possibly padded) edge tile to the visible part
      const vis = new Uint8Array(tile.width * tile.height * 3);
      for (let y = 0; y < tile.height; y++) vis.set(full.subarray(y * 240 * 3, (y * 240 + tile.width) * 3), y * tile.width * 3);
      assert.deepEqual(tile.data, vis, `tile ${c},${r}`);
      const mangled = await decode(withoutApp14(enc.bytes));
      const mad = meanAbsDiffRgb(full, mangled, 240, 240);
      t.diagnostic(`tile ${c},${r}: without APP14 the mean |diff| is ${fmtMad(mad)}`);
      assert.ok(Math.max(...mad) > 20, `YCbCr-mangled decode should differ strongly, got ${fmtMad(mad)}`);
    }
  } finally { await s.close(); }
});

test('jpeg colour: regions match OpenSlide', { skip: SKIP_NO_SLIDES || skipNoOpenSlide() }, async (t) => {
  const cases = [{ slide: CMU, x: 0, y: 0, level: 0, w: 240, h: 240 }, { slide: CMU, x: 1000, y: 1500, level: 0, w: 300, h: 200 }];
  const refs = openslideRegions(cases);
  const s = await openSlide(CMU);
  try {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      const r = await s.readRegion(c.x, c.y, c.level, c.w, c.h);
      const mad = meanAbsDiffRgb(r.data, refs[i], c.w, c.h);
      t.diagnostic(`region ${c.x},${c.y} ${c.w}×${c.h}: mean |diff| vs OpenSlide ${fmtMad(mad)}`);
      assert.ok(Math.max(...mad) <= 1, fmtMad(mad));
    }
  } finally { await s.close(); }
});

test('jpeg colour: generated libvips JPEG pyramids (YCbCr and RGB-coded, JPEGTables) pass tiles through unchanged', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(join(tmpdir(), 'glassbox-jpeg-'));
  try {
    const W = 600, H = 400, px = new Uint8Array(W * H * 3);
    for (let i = 0; i < px.length; i += 3) { const x = (i / 3) % W, y = Math.floor(i / 3 / W); px[i] = x % 256; px[i + 1] = y % 256; px[i + 2] = 128; }
    const seen = new Set<string>();
    // libvips writes Q 75 as YCbCr (Photometric 6) and Q 95 as RGB-coded JPEG (Photometric 2): both paths
    for (const quality of [75, 95]) {
    const f = join(d, `jpeg-pyramid-${quality}.tif`);
    await sharp(px, { raw: { width: W, height: H, channels: 3 } }).tiff({ tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: 'jpeg', quality }).toFile(f);
    const s = await openSlide(f);
    try {
      assert.equal(s.properties.compression, 'jpeg');
      t.diagnostic(`Q ${quality}: photometric ${s.properties.pixel.photometric}`);
      seen.add(s.properties.pixel.photometric);
      for (const [l, c, r] of [[0, 0, 0], [0, 2, 1], [1, 0, 0]]) {
        const tile = await s.readTile(l, c, r);
        const enc = await s.readEncodedTile(l, c, r);
        assert.ok(enc);
        // exactly one Adobe APP14 segment: ours is not added when the tables carry one
        let app14 = 0;
        for (let i = 0; i + 1 < 600 && i + 1 < enc.bytes.length; i++) if (enc.bytes[i] === 0xff && enc.bytes[i + 1] === 0xee) app14++;
        assert.ok(app14 <= 1, `${app14} APP14 segments`);
        const full = await decode(enc.bytes);
        const vis = new Uint8Array(tile.width * tile.height * 3);
        for (let y = 0; y < tile.height; y++) vis.set(full.subarray(y * enc.width * 3, (y * enc.width + tile.width) * 3), y * tile.width * 3);
        assert.deepEqual(tile.data, vis);
      }
      // and the pixels are the generated gradient (lossy: small error)
      const r = await s.readRegion(100, 100, 0, 200, 200);
      let sum = 0;
      for (let y = 0; y < 200; y++) for (let x = 0; x < 200; x++) sum += Math.abs(r.data[(y * 200 + x) * 3] - ((100 + x) % 256));
      assert.ok(sum / 40000 < 4, `mean |R - expected| ${sum / 40000}`);
    } finally { await s.close(); }
    }
    assert.deepEqual([...seen].sort(), ['rgb', 'ycbcr']);
  } finally { rmSync(d, { recursive: true, force: true }); }
});

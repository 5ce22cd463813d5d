/**
 * JPEG 2000 tiles (Aperio 33005) decoded by main/engine/tiff/jpeg2000.ts, compared with OpenSlide's pixels
 * for the same tile; broken codestreams must fail with SlideError('CORRUPT'); the WASM heap stays flat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import {
  decodeAperioJ2k, decodeJpeg2000, parseJ2kHeader, ycbcrToRgbInPlace, aperioJ2kNeedsYcbcrConversion,
  jpeg2000HeapBytes, APERIO_J2K_RGB, APERIO_J2K_YCBCR,
} from '../../main/engine/tiff/jpeg2000.js';
import { SlideError } from '../../main/engine/slide/types.js';
import { cropRgb, fmtMad, meanAbsDiffRgb, openslideRegions, skipNoOpenSlide } from './openslide-ref.js';

const TCGA = join(SHARED_SLIDES, 'tcga-cr-7395-01a-01-ts1.svs');
const skip = SKIP_NO_SLIDES || skipNoOpenSlide();

interface RawTile { bytes: Uint8Array; compression: number; tileW: number; tileH: number; imgW: number; imgH: number }

async function rawTile(ifd: number, col: number, row: number): Promise<RawTile> {
  const tiff = await fromFile(TCGA);
  const img = await tiff.getImage(ifd);
  const tileW = img.getTileWidth(), tileH = img.getTileHeight();
  const across = Math.ceil(img.getWidth() / tileW);
  const idx = row * across + col;
  const fd = img.fileDirectory as unknown as { loadValueIndexed(tag: string, i: number): Promise<number>; getValue(tag: string): unknown };
  const off = Number(await fd.loadValueIndexed('TileOffsets', idx));
  const len = Number(await fd.loadValueIndexed('TileByteCounts', idx));
  const fh = openSync(TCGA, 'r');
  try {
    const buf = new Uint8Array(len);
    readSync(fh, buf, 0, len, off);
    return { bytes: buf, compression: Number(fd.getValue('Compression')), tileW, tileH, imgW: img.getWidth(), imgH: img.getHeight() };
  } finally {
    closeSync(fh);
  }
}

// (ifd, col, row, OpenSlide level, level-0 x, y): interior tiles, the right/bottom edge tile, and level 1.
const CASES = [
  { ifd: 0, col: 2, row: 1, level: 0 },
  { ifd: 0, col: 9, row: 7, level: 0 },
  { ifd: 0, col: 17, row: 13, level: 0 }, // last column and row: 91×239 visible
  { ifd: 2, col: 0, row: 0, level: 1 },
  { ifd: 2, col: 4, row: 3, level: 1 },
];

test('J2K tiles of tcga…svs (33005) match OpenSlide (mean |diff| ≤ 2/255 per channel)', { skip }, async (t) => {
  for (const c of CASES) {
    const raw = await rawTile(c.ifd, c.col, c.row);
    assert.equal(raw.compression, APERIO_J2K_RGB);
    assert.deepEqual([...raw.bytes.subarray(0, 4)], [0xff, 0x4f, 0xff, 0x51], 'raw tile is a J2K codestream');
    const img = await decodeAperioJ2k(raw.bytes, raw.compression);
    assert.equal(img.components, 3);
    assert.equal(img.data.length, img.width * img.height * 3);
    const vw = Math.min(raw.tileW, raw.imgW - c.col * raw.tileW);
    const vh = Math.min(raw.tileH, raw.imgH - c.row * raw.tileH);
    assert.ok(img.width >= vw && img.height >= vh, `decoded ${img.width}×${img.height} covers the visible ${vw}×${vh}`);
    // OpenSlide maps level-0 coordinates to level coordinates by dividing by its downsample (2.0005… for
    // level 1) and paints tiles at the fractional remainder (interpolated), so only a region read from (0,0)
    // is pixel-aligned with the level's tile grid: read from the origin and crop the tile out of it.
    const px = c.col * raw.tileW, py = c.row * raw.tileH;
    const [big] = openslideRegions([{ slide: TCGA, x: 0, y: 0, level: c.level, w: px + vw, h: py + vh }]);
    const ref = cropRgb(big, px + vw, 3, px, py, vw, vh);
    const ours = cropRgb(img.data, img.width, 3, 0, 0, vw, vh);
    const mad = meanAbsDiffRgb(ours, ref, vw, vh);
    t.diagnostic(`ifd ${c.ifd} tile (${c.col},${c.row}) ${vw}×${vh}: MAD R/G/B = ${fmtMad(mad)} (/255)`);
    for (const m of mad) assert.ok(m <= 2, `tile (${c.col},${c.row}) of IFD ${c.ifd}: MAD ${fmtMad(mad)} > 2/255`);
    // guard against a trivially blank comparison: the tile must have some content
    let sum = 0;
    for (let i = 0; i < ours.length; i++) sum += 255 - ours[i];
    if (c.ifd === 0 && c.col === 9) assert.ok(sum > 0, 'interior tile is not all white');
  }
});

test('33003 colour path: YCbCr → RGB conversion is applied only when the codestream has no MCT', { skip: SKIP_NO_SLIDES }, async () => {
  const raw = await rawTile(0, 9, 7);
  const header = parseJ2kHeader(raw.bytes);
  assert.equal(header.components, 3);
  assert.equal(header.mct, 1, 'Aperio 33005 codestreams apply the multi-component transform themselves');
  assert.equal(aperioJ2kNeedsYcbcrConversion(APERIO_J2K_RGB, header), false);
  assert.equal(aperioJ2kNeedsYcbcrConversion(APERIO_J2K_YCBCR, { ...header, mct: 0 }), true);
  assert.equal(aperioJ2kNeedsYcbcrConversion(APERIO_J2K_YCBCR, header), false);
  // known YCbCr values (JFIF equations): white, black, pure red-ish, mid grey
  const px = new Uint8Array([255, 128, 128, 0, 128, 128, 76, 85, 255, 128, 128, 128]);
  ycbcrToRgbInPlace(px);
  assert.deepEqual([...px.subarray(0, 6)], [255, 255, 255, 0, 0, 0]);
  assert.ok(px[6] >= 253 && px[7] <= 2 && px[8] <= 2, `Y=76 Cb=85 Cr=255 is red, got ${[...px.subarray(6, 9)]}`);
  assert.deepEqual([...px.subarray(9, 12)], [128, 128, 128]);
  // a YCbCr codestream: the same tile with the COD multi-component-transform flag cleared decodes to the ICT
  // components (= JFIF YCbCr, DC-shifted); the 33003 path must turn them back into the RGB the 33005 path gives.
  const rgb = await decodeAperioJ2k(raw.bytes, APERIO_J2K_RGB);
  const ycc = raw.bytes.slice();
  const cod = findMarker(ycc, 0x52);
  assert.ok(cod > 0 && ycc[cod + 8] === 1, 'COD found with MCT = 1');
  ycc[cod + 8] = 0;
  const asYcc = await decodeJpeg2000(ycc);
  assert.ok(meanAbsDiffRgb(asYcc.data, rgb.data, 256, 256).some((m) => m > 5), 'without MCT the components are not RGB');
  const via33003 = await decodeAperioJ2k(ycc, APERIO_J2K_YCBCR);
  const m1 = meanAbsDiffRgb(via33003.data, rgb.data, 256, 256);
  assert.ok(m1.every((m) => m <= 1), `33003 path vs RGB decode: MAD ${fmtMad(m1)}`);
  ycbcrToRgbInPlace(asYcc.data); // the conversion the 33003 path applies when the codestream has no MCT
  assert.deepEqual(asYcc.data, via33003.data);
  assert.equal(aperioJ2kNeedsYcbcrConversion(APERIO_J2K_YCBCR, parseJ2kHeader(raw.bytes)), false, 'MCT = 1: already RGB, left alone');
  // decodeAperioJ2k refuses non-J2K compression numbers
  await assert.rejects(decodeAperioJ2k(raw.bytes, 7), (e: unknown) => e instanceof SlideError && e.code === 'UNSUPPORTED');
});

test('broken J2K codestreams fail with SlideError CORRUPT naming the problem', { skip: SKIP_NO_SLIDES }, async () => {
  const raw = await rawTile(0, 9, 7);
  const isCorrupt = (re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof SlideError, `SlideError expected, got ${e}`);
    assert.equal(e.code, 'CORRUPT');
    assert.match(e.message, re);
    return true;
  };
  // not a codestream at all
  await assert.rejects(decodeJpeg2000(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16])), isCorrupt(/JPEG 2000.*SOC/));
  await assert.rejects(decodeJpeg2000(new Uint8Array(0)), isCorrupt(/JPEG 2000/));
  // header cut short
  await assert.rejects(decodeJpeg2000(raw.bytes.subarray(0, 30)), isCorrupt(/JPEG 2000/));
  // main header intact, tile-part data garbled (SOT marker destroyed)
  const sot = findMarker(raw.bytes, 0x90);
  assert.ok(sot > 0, 'codestream has an SOT marker');
  const garbled = raw.bytes.slice();
  garbled.fill(0x12, sot, Math.min(garbled.length, sot + 64));
  await assert.rejects(decodeJpeg2000(garbled), isCorrupt(/JPEG 2000.*(broken|OpenJPEG)/));
  // truncated in the middle of the tile header
  await assert.rejects(decodeJpeg2000(raw.bytes.subarray(0, sot + 6)), isCorrupt(/JPEG 2000/));
  // absurd size in SIZ: refused before OpenJPEG allocates anything
  const huge = raw.bytes.slice();
  new DataView(huge.buffer).setUint32(8, 50000); // Xsiz
  new DataView(huge.buffer).setUint32(12, 50000); // Ysiz
  await assert.rejects(decodeJpeg2000(huge), (e: unknown) => e instanceof SlideError && e.code === 'LIMIT' && /50000×50000/.test(e.message));
  // the decoder still works afterwards
  const ok = await decodeJpeg2000(raw.bytes);
  assert.equal(ok.width * ok.height * 3, ok.data.length);
});

test('decoding many J2K tiles does not grow the WASM heap (decoders are freed)', { skip: SKIP_NO_SLIDES }, async () => {
  const raw = await rawTile(0, 9, 7);
  await decodeJpeg2000(raw.bytes);
  const before = await jpeg2000HeapBytes();
  assert.ok(before && before > 0);
  // 400 × (256×256×3 decoded + codestream) ≈ 80 MB: more than the heap would hold if decoders leaked
  for (let i = 0; i < 400; i++) await decodeJpeg2000(raw.bytes);
  const after = await jpeg2000HeapBytes();
  assert.equal(after, before, `WASM heap grew from ${before} to ${after} bytes`);
});

function findMarker(b: Uint8Array, marker: number): number {
  for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === marker) return i;
  return -1;
}

test('mutated J2K codestreams either decode or fail with a SlideError (never crash the WASM decoder)', { skip: SKIP_NO_SLIDES }, async () => {
  const raw = await rawTile(0, 9, 7);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const outcomes: Record<string, number> = {};
  for (let it = 0; it < 80; it++) {
    let b = raw.bytes.slice();
    if (it % 3 === 0) for (let k = 0; k < 4; k++) b[Math.floor(rnd() * Math.min(b.length, 300))] = Math.floor(rnd() * 256); // header bytes
    else if (it % 3 === 1) for (let k = 0; k < 12; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256); // anywhere
    else b = b.subarray(0, Math.floor(rnd() * b.length)); // truncated
    try {
      const img = await decodeJpeg2000(b);
      assert.equal(img.data.length, img.width * img.height * img.components);
      outcomes.decoded = (outcomes.decoded ?? 0) + 1;
    } catch (e) {
      assert.ok(e instanceof SlideError, `iteration ${it}: expected a SlideError, got ${e}`);
      outcomes[e.code] = (outcomes[e.code] ?? 0) + 1;
    }
  }
  assert.ok((outcomes.CORRUPT ?? 0) > 0, `some mutations are reported as CORRUPT: ${JSON.stringify(outcomes)}`);
  const ok = await decodeJpeg2000(raw.bytes); // the decoder survived
  assert.deepEqual([ok.width, ok.height], [256, 256]);
});

/**
 * Decompression bombs: a JPEG tile whose SOF claims far more pixels than the tile, and Deflate / LZW /
 * PackBits chunks that expand far beyond one tile. Each must be refused (SlideError CORRUPT naming the file,
 * level and tile) with bounded memory, never decoded or passed through. Fixtures are generated here
 * (tmp dir; the 512 MB Deflate bomb is streamed so generating it stays small in memory).
 * Run in its own process by the test runner, so process peak RSS (maxRSS) measures these reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeflate } from 'node:zlib';
import sharp from 'sharp';
import { openSlide, SlideError, type Slide } from '../../main/engine/slide/index.js';
import { parseJpegHeader, patchSofDims } from '../../main/engine/tiff/jpeg-markers.js';
import { lzwBounded } from '../../main/engine/tiff/raw-codecs.mjs';
import { writeTiff, type ImageSpec } from '../fixtures/tiff-writer.js';
import { lzwEncode } from '../fixtures/lzw-encode.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-bomb-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const MB = 1024 * 1024;
const peakMb = () => process.resourceUsage().maxRSS / 1024;

function tiffFile(name: string, im: ImageSpec): string {
  const p = join(dir, name);
  writeFileSync(p, writeTiff([im]).bytes);
  return p;
}

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<SlideError> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  assert.ok(err instanceof SlideError, `expected a SlideError, got ${err === undefined ? 'success' : String(err)}`);
  assert.equal(err.code, 'CORRUPT', err.message);
  assert.match(err.message, pattern);
  return err;
}

async function withSlide(path: string, f: (s: Slide) => Promise<void>): Promise<void> {
  const s = await openSlide(path);
  try { await f(s); } finally { await s.close(); }
}

async function jpegTile(w: number, h: number): Promise<Uint8Array> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 13) & 255;
  return new Uint8Array(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 80 }).toBuffer());
}

function withSof(jpeg: Uint8Array, w: number, h: number): Uint8Array {
  const hdr = parseJpegHeader(jpeg, 'fixture')!;
  const head = patchSofDims(jpeg.subarray(0, hdr.headerLength), hdr.sofDimsAt, w, h);
  const out = jpeg.slice(); out.set(head, 0);
  return out;
}

test('JPEG tile whose SOF claims 16000×16000 in a 256×256 tile is refused, memory bounded', async () => {
  const good = await jpegTile(256, 256);
  const spec = (chunk: Uint8Array): ImageSpec => ({ width: 256, height: 256, tile: [256, 256], compression: 7, photometric: 6, spp: 3, rawChunks: [chunk] });
  // control: the honest tile decodes and passes through
  await withSlide(tiffFile('jpeg-ok.tif', spec(good)), async (s) => {
    const r = await s.readRegion(0, 0, 0, 256, 256);
    assert.equal(r.data.length, 256 * 256 * 3);
    const e = await s.readEncodedTile(0, 0, 0);
    assert.ok(e && e.mime === 'image/jpeg');
  });
  const before = peakMb();
  const bomb = tiffFile('jpeg-bomb.tif', spec(withSof(good, 16000, 16000)));
  const want = /level 0 \(IFD 0\) tile \(0,0\).*JPEG frame is 16000×16000 but the tile is 256×256/;
  await withSlide(bomb, async (s) => {
    const e1 = await refused(s.readRegion(0, 0, 0, 256, 256), want);
    assert.ok(e1.message.includes(bomb), e1.message);
    await refused(s.readTile(0, 0, 0), want);
    await refused(s.readEncodedTile(0, 0, 0), want); // never passed through to clients
  });
  // a frame 1 px too large (beyond MCU padding) and one too small are refused as well
  for (const [w, h] of [[256, 272], [255, 256]] as const) {
    await withSlide(tiffFile(`jpeg-${w}x${h}.tif`, spec(withSof(good, w, h))), async (s) => {
      await refused(s.readRegion(0, 0, 0, 64, 64), new RegExp(`JPEG frame is ${w}×${h} but the tile is 256×256`));
    });
  }
  const growth = peakMb() - before;
  assert.ok(growth < 200, `peak RSS grew ${growth.toFixed(0)} MB reading the JPEG bomb (limit 200 MB)`);
});

test('JPEG: an edge tile written at its MCU-padded visible size is accepted', async () => {
  // 200×120 image in one 256×128 tile whose JPEG frame is 208×128 (200 px rounded up to the 16-px MCU)
  const t = await jpegTile(208, 128);
  await withSlide(tiffFile('jpeg-edge.tif', { width: 200, height: 120, tile: [256, 128], compression: 7, photometric: 6, spp: 3, rawChunks: [t] }), async (s) => {
    const r = await s.readRegion(0, 0, 0, 200, 120);
    assert.equal(r.width, 200);
    assert.ok(await s.readEncodedTile(0, 0, 0));
  });
});

test('JPEG: an associated image (stripped) with a bogus SOF is refused; its expected size comes from the IFD', async () => {
  const lvl = await jpegTile(256, 256);
  const thumb = await jpegTile(64, 48);
  const make = (strip: Uint8Array) => {
    const p = join(dir, `assoc-${strip.length}-${Math.random().toString(36).slice(2)}.svs`);
    writeFileSync(p, writeTiff([
      { width: 256, height: 256, tile: [256, 256], compression: 7, photometric: 6, spp: 3, rawChunks: [lvl], tags: [{ tag: 270, type: 'ASCII', values: 'Aperio Image Library Glassbox test|AppMag = 20' }] },
      { width: 64, height: 48, rowsPerStrip: 48, compression: 7, photometric: 6, spp: 3, rawChunks: [strip], tags: [{ tag: 270, type: 'ASCII', values: 'Aperio Image Library\n64x48 thumbnail' }] },
    ]).bytes);
    return p;
  };
  await withSlide(make(thumb), async (s) => {
    assert.deepEqual(s.properties.associatedImages, ['thumbnail']);
    const a = await s.readAssociated('thumbnail');
    assert.deepEqual([a.width, a.height], [64, 48]);
  });
  const before = peakMb();
  await withSlide(make(withSof(thumb, 16000, 16000)), async (s) => {
    await refused(s.readAssociated('thumbnail'), /associated image 'thumbnail' \(IFD 1\) tile \(0,0\).*JPEG frame is 16000×16000 but the tile is 64×48/);
  });
  assert.ok(peakMb() - before < 200, 'bounded memory');
});

async function deflateZeros(bytes: number): Promise<Uint8Array> {
  const d = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  d.on('data', (c: Buffer) => parts.push(c));
  const z = Buffer.alloc(4 * MB);
  for (let left = bytes; left > 0; left -= z.length) d.write(left >= z.length ? z : z.subarray(0, left));
  d.end();
  await new Promise((r) => d.on('end', r));
  return new Uint8Array(Buffer.concat(parts));
}

test('Deflate bomb (small tile inflating to 512 MB) is refused with bounded memory', async () => {
  const bombData = await deflateZeros(512 * MB);
  assert.ok(bombData.length < 1 * MB);
  const before = peakMb();
  const p = tiffFile('zbomb.tif', { width: 256, height: 256, tile: [256, 256], compression: 8, spp: 3, photometric: 2, rawChunks: [bombData] });
  await withSlide(p, async (s) => {
    await refused(s.readRegion(0, 0, 0, 256, 256), /level 0 \(IFD 0\) tile \(0,0\).*Deflate data decompresses to more than the 196608 bytes/);
  });
  const growth = peakMb() - before;
  assert.ok(growth < 200, `peak RSS grew ${growth.toFixed(0)} MB reading the Deflate bomb (limit 200 MB)`);
  // control: the same stream cut to exactly one tile of zeros reads as black
  const ok = tiffFile('zok.tif', { width: 256, height: 256, tile: [256, 256], compression: 8, spp: 3, photometric: 2, rawChunks: [await deflateZeros(256 * 256 * 3)] });
  await withSlide(ok, async (s) => { const r = await s.readRegion(0, 0, 0, 256, 256); assert.ok(r.data.every((v) => v === 0)); });
});

test('LZW: bounded decoder round-trips; an LZW bomb is refused with bounded memory', async () => {
  const rnd = new Uint8Array(50_000);
  let x = 12345;
  for (let i = 0; i < rnd.length; i++) { x = (x * 1103515245 + 12345) >>> 0; rnd[i] = (x >>> 16) % 7 === 0 ? x & 255 : 65 + ((x >>> 8) & 3); }
  assert.deepEqual(lzwBounded(lzwEncode(rnd), rnd.length), rnd);
  const zeros = new Uint8Array(64 * MB);
  const bomb = lzwEncode(zeros);
  const before = peakMb();
  const p = tiffFile('lzwbomb.tif', { width: 64, height: 64, tile: [64, 64], compression: 5, spp: 1, photometric: 1, rawChunks: [bomb] });
  await withSlide(p, async (s) => {
    await refused(s.readRegion(0, 0, 0, 64, 64), /tile \(0,0\).*LZW data decompresses to more than the 4096 bytes/);
  });
  const growth = peakMb() - before;
  assert.ok(growth < 200, `peak RSS grew ${growth.toFixed(0)} MB reading the LZW bomb (limit 200 MB)`);
  // control: an honest LZW tile decodes to its pixels
  const px = rnd.subarray(0, 64 * 64);
  await withSlide(tiffFile('lzwok.tif', { width: 64, height: 64, tile: [64, 64], compression: 5, spp: 1, photometric: 1, rawChunks: [lzwEncode(px)] }), async (s) => {
    const r = await s.readRegion(0, 0, 0, 64, 64);
    for (let i = 0; i < px.length; i++) assert.equal(r.data[i * 3], px[i]);
  });
});

test('PackBits chunk expanding past its tile is refused', async () => {
  const runs = new Uint8Array(2 * 1000); // 1000 × (repeat 128 times) = 128,000 bytes for a 4,096-byte tile
  for (let i = 0; i < runs.length; i += 2) { runs[i] = 0x81; runs[i + 1] = 7; }
  const p = tiffFile('pbbomb.tif', { width: 64, height: 64, tile: [64, 64], compression: 32773, spp: 1, photometric: 1, rawChunks: [runs] });
  await withSlide(p, async (s) => {
    await refused(s.readRegion(0, 0, 0, 64, 64), /PackBits data decompresses to more than the 4096 bytes/);
  });
  const fit = runs.subarray(0, 2 * 32); // exactly 4096 bytes of 7
  await withSlide(tiffFile('pbok.tif', { width: 64, height: 64, tile: [64, 64], compression: 32773, spp: 1, photometric: 1, rawChunks: [fit] }), async (s) => {
    const r = await s.readRegion(0, 0, 0, 64, 64);
    assert.ok(r.data.every((v) => v === 7));
  });
});

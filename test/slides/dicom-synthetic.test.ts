/**
 * DICOM WSI reading on generated files (./dicom-writer.ts): series discovery, level order, mpp axes, associated
 * images, offset tables and fragments, TILED_SPARSE, JPEG 2000 and native frames, RGB JPEG without markers,
 * and bad input (truncated, unsupported transfer syntax, a CT image, inconsistent frame counts, bogus frames).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openSlide, SlideError, type Slide } from '../../main/engine/slide/index.js';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { CT, encapsulated, native, part10, TS, WSM, wsmDataset, type WsmOpts } from './dicom-writer.js';

const TMP = mkdtempSync(join(tmpdir(), 'gbx-dicom-'));
process.on('exit', () => rmSync(TMP, { recursive: true, force: true }));
let n = 0;
const dir = () => { const d = join(TMP, `d${n++}`); mkdirSync(d); return d; };

/** a smooth colour pattern, w×h RGB */
function pattern(w: number, h: number, seed = 0): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    out[i] = (x * 3 + seed) & 255; out[i + 1] = (y * 5 + 40) & 255; out[i + 2] = ((x + y) * 2 + 90) & 255;
  }
  return out;
}

function crop(img: Uint8Array, w: number, x: number, y: number, cw: number, ch: number): Uint8Array {
  const out = new Uint8Array(cw * ch * 3);
  for (let r = 0; r < ch; r++) out.set(img.subarray(((y + r) * w + x) * 3, ((y + r) * w + x + cw) * 3), r * cw * 3);
  return out;
}

/** Cuts an image into TILED_FULL frames of fw×fh (edge frames padded by repeating nothing: zero) */
function frames(img: Uint8Array, w: number, h: number, fw: number, fh: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let y = 0; y < h; y += fh) for (let x = 0; x < w; x += fw) {
    const f = new Uint8Array(fw * fh * 3);
    const cw = Math.min(fw, w - x), ch = Math.min(fh, h - y);
    for (let r = 0; r < ch; r++) f.set(img.subarray(((y + r) * w + x) * 3, ((y + r) * w + x + cw) * 3), r * fw * 3);
    out.push(f);
  }
  return out;
}

const jpeg = (f: Uint8Array, fw: number, fh: number) => sharp(f, { raw: { width: fw, height: fh, channels: 3 } }).jpeg({ quality: 95 }).toBuffer().then((b) => new Uint8Array(b));
const decode = async (j: Uint8Array) => new Uint8Array(await sharp(j).raw().toBuffer());

interface Inst { o: WsmOpts; frames: Uint8Array[][] | Uint8Array; bot?: boolean }
let uid = 0;
function write(path: string, { o, frames: fr, bot }: Inst, ts = o.ts ?? (fr instanceof Uint8Array ? TS.explicitLE : TS.jpegBaseline), sop = WSM): string {
  const px = fr instanceof Uint8Array ? native(fr, ts === TS.implicitLE) : encapsulated(fr, bot);
  writeFileSync(path, part10(ts, sop, `1.2.3.9.${++uid}`, wsmDataset(o), px));
  return path;
}

/** A JPEG VOLUME instance of `img` (w×h) in fw×fh frames; returns the instance and each frame's decoded pixels. */
async function jpegVolume(img: Uint8Array, w: number, h: number, fw: number, fh: number, o: Partial<WsmOpts> = {}): Promise<{ inst: Inst; decoded: Uint8Array[] }> {
  const fs = frames(img, w, h, fw, fh);
  const js = await Promise.all(fs.map((f) => jpeg(f, fw, fh)));
  // sharp writes YCbCr JPEG without a JFIF marker: YBR_FULL_422 says so (RGB would mean "no colour transform")
  return { inst: { o: { total: [w, h], frame: [fw, fh], frames: fs.length, photometric: 'YBR_FULL_422', ...o }, frames: js.map((j) => [j]) }, decoded: await Promise.all(js.map(decode)) };
}

/** The expected level image: decoded frames placed on the grid, cropped to w×h. */
function assemble(decoded: Uint8Array[], w: number, h: number, fw: number, fh: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const across = Math.ceil(w / fw);
  decoded.forEach((d, k) => {
    const x = (k % across) * fw, y = Math.floor(k / across) * fh;
    const cw = Math.min(fw, w - x), ch = Math.min(fh, h - y);
    for (let r = 0; r < ch; r++) out.set(d.subarray(r * fw * 3, (r * fw + cw) * 3), ((y + r) * w + x) * 3);
  });
  return out;
}

async function withSlide<T>(path: string, f: (s: Slide) => Promise<T>): Promise<T> {
  const s = await openSlide(path);
  try { return await f(s); } finally { await s.close(); }
}

async function expectError(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SlideError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

test('synthetic series: opens from the folder or any file; levels by size; mpp x from the column spacing; label/macro/thumbnail; other files ignored', async () => {
  const d = dir();
  const img = pattern(300, 200);
  const l0 = await jpegVolume(img, 300, 200, 128, 128, { spacingMm: [0.0005, 0.00025], objective: 40 });
  const small = await sharp(img, { raw: { width: 300, height: 200, channels: 3 } }).resize(150, 100).raw().toBuffer();
  const l1 = await jpegVolume(new Uint8Array(small), 150, 100, 128, 128, { imageType: 'DERIVED\\PRIMARY\\VOLUME\\RESAMPLED', spacingMm: [0.001, 0.0005] });
  const label = pattern(64, 32, 77);
  write(join(d, 'b-level1.dcm'), l1.inst);
  write(join(d, 'a-level0.dcm'), l0.inst);
  write(join(d, 'label.dcm'), { o: { total: [64, 32], frame: [64, 32], frames: 1, imageType: 'ORIGINAL\\PRIMARY\\LABEL\\NONE' }, frames: label });
  const ov = await jpegVolume(pattern(96, 40, 5), 96, 40, 96, 40, { imageType: 'ORIGINAL\\PRIMARY\\OVERVIEW\\NONE' });
  write(join(d, 'overview.dcm'), ov.inst);
  writeFileSync(join(d, 'notes.txt'), 'not DICOM');
  write(join(d, 'ct.dcm'), { o: { total: [8, 8], frame: [8, 8], frames: 1 }, frames: new Uint8Array(8 * 8 * 3) }, TS.explicitLE, CT);
  for (const p of [d, join(d, 'label.dcm'), join(d, 'b-level1.dcm')]) {
    await withSlide(p, async (s) => {
      const pr = s.properties;
      assert.deepEqual(pr.levels.map((l) => [l.width, l.height, l.tileWidth, l.tileHeight]), [[300, 200, 128, 128], [150, 100, 128, 128]], p);
      assert.deepEqual(pr.mpp, { x: 0.25, y: 0.5, source: 'vendor' }, 'PixelSpacing is rows (y) then columns (x), in mm');
      assert.equal(pr.objectivePower, 40);
      assert.deepEqual(pr.associatedImages, ['label', 'macro']);
      assert.equal(pr.raw['dicom.Manufacturer'], 'Glassbox Test Writer');
      assert.deepEqual(Buffer.from((await s.readRegion(0, 0, 0, 300, 200)).data), Buffer.from(assemble(l0.decoded, 300, 200, 128, 128)));
      assert.deepEqual(Buffer.from((await s.readRegion(0, 0, 1, 150, 100)).data), Buffer.from(assemble(l1.decoded, 150, 100, 128, 128)));
      assert.deepEqual(Buffer.from((await s.readAssociated('label')).data), Buffer.from(label));
      assert.deepEqual(Buffer.from((await s.readAssociated('macro')).data), Buffer.from(ov.decoded[0]));
    });
  }
  const other = await jpegVolume(pattern(40, 40), 40, 40, 40, 40, { series: '9.9.9' });
  write(join(d, 'other-series.dcm'), other.inst);
  await expectError(openSlide(d), 'UNSUPPORTED_FORMAT', /holds 2 DICOM whole-slide series .*open one file/);
  await withSlide(join(d, 'other-series.dcm'), async (s) => assert.deepEqual(s.properties.levels.map((l) => l.width), [40]));
  await withSlide(join(d, 'a-level0.dcm'), async (s) => assert.deepEqual(s.properties.levels.map((l) => l.width), [300, 150]));
});

test('synthetic: frames split into fragments, with a Basic Offset Table or grouped by their SOI, read the same', async () => {
  const img = pattern(200, 150, 9);
  const v = await jpegVolume(img, 200, 150, 64, 64);
  const split = (v.inst.frames as Uint8Array[][]).map(([j]) => [j.subarray(0, 100), j.subarray(100)]);
  const expected = Buffer.from(assemble(v.decoded, 200, 150, 64, 64));
  for (const bot of [true, false]) {
    const p = write(join(dir(), 'frag.dcm'), { o: v.inst.o, frames: split, bot });
    await withSlide(p, async (s) => {
      assert.deepEqual(Buffer.from((await s.readRegion(0, 0, 0, 200, 150)).data), expected, `bot=${bot}`);
      const e = await s.readEncodedTile(0, 2, 1);
      assert.deepEqual(Buffer.from(e!.bytes), Buffer.concat([split[6][0], split[6][1]]), 'tile (2,1) is frame 7');
    });
  }
});

test('synthetic: TILED_SPARSE frames placed by their plane positions; absent tiles white; off-grid refused', async () => {
  const tiles = [pattern(32, 32, 1), pattern(32, 32, 50), pattern(32, 32, 99)];
  const js = await Promise.all(tiles.map((t) => jpeg(t, 32, 32)));
  const dec = await Promise.all(js.map(decode));
  const o: WsmOpts = { total: [96, 64], frame: [32, 32], frames: 3, photometric: 'YBR_FULL_422', organization: 'TILED_SPARSE', positions: [[65, 33], [1, 1], [33, 33]] };
  const p = write(join(dir(), 'sparse.dcm'), { o, frames: js.map((j) => [j]) });
  await withSlide(p, async (s) => {
    assert.deepEqual(Buffer.from((await s.readTile(0, 2, 1)).data), Buffer.from(dec[0]));
    assert.deepEqual(Buffer.from((await s.readTile(0, 0, 0)).data), Buffer.from(dec[1]));
    assert.deepEqual(Buffer.from((await s.readTile(0, 1, 1)).data), Buffer.from(dec[2]));
    const empty = await s.readTile(0, 1, 0);
    assert.ok(empty.data.every((v) => v === 255), 'absent tile is white');
    assert.equal(await s.readEncodedTile(0, 1, 0), null);
  });
  const off = write(join(dir(), 'offgrid.dcm'), { o: { ...o, positions: [[65, 33], [2, 1], [33, 33]] }, frames: js.map((j) => [j]) });
  await expectError(openSlide(off), 'UNSUPPORTED', /frame 2 lies at column 2, row 1, off the 32×32 tile grid/);
  const none = write(join(dir(), 'nopos.dcm'), { o: { ...o, positions: undefined }, frames: js.map((j) => [j]) });
  await expectError(openSlide(none), 'CORRUPT', /TILED_SPARSE instance without a Plane Position/);  // 3600 frames: the per-frame functional groups (~200 KB) outgrow the first 64 KiB header read
  const n = 3600, grid = 60;
  const big: WsmOpts = { total: [grid * 8, grid * 8], frame: [8, 8], frames: n, organization: 'TILED_SPARSE', positions: Array.from({ length: n }, (_, k) => [(n - 1 - k) % grid * 8 + 1, Math.floor((n - 1 - k) / grid) * 8 + 1] as [number, number]) };
  const px = new Uint8Array(n * 64 * 3);
  for (let k = 0; k < n; k++) px.fill(k % 251, k * 192, (k + 1) * 192);
  const pb = write(join(dir(), 'many.dcm'), { o: big, frames: px });
  assert.ok(readFileSync(pb).length > 600_000);
  await withSlide(pb, async (s) => {
    // frame k sits at tile n-1-k (stored in reverse)
    for (const k of [0, 1, 1234, n - 1]) {
      const t = n - 1 - k;
      assert.ok((await s.readTile(0, t % grid, Math.floor(t / grid))).data.every((v) => v === k % 251), `frame ${k}`);
    }
  });
});

test('synthetic: JPEG 2000 frames (a JP2 file and a raw codestream) decode losslessly', async () => {
  const img = pattern(80, 48, 33);
  const png = join(dir(), 'src.png');
  await sharp(img, { raw: { width: 80, height: 48, channels: 3 } }).png().toFile(png);
  const jp2 = join(TMP, 'f.jp2');
  execFileSync('vips', ['jp2ksave', png, jp2, '--lossless'], { stdio: 'pipe' });
  const box = new Uint8Array(readFileSync(jp2));
  // the codestream is the 'jp2c' box's payload
  let at = 0;
  while (String.fromCharCode(...box.subarray(at + 4, at + 8)) !== 'jp2c') at += new DataView(box.buffer, box.byteOffset + at).getUint32(0);
  const cs = box.subarray(at + 8);
  for (const frame of [box, cs]) {
    const p = write(join(dir(), 'j2k.dcm'), { o: { total: [80, 48], frame: [80, 48], frames: 1, photometric: 'YBR_RCT' }, frames: [[frame]] }, TS.jpeg2000);
    await withSlide(p, async (s) => {
      assert.equal(s.properties.compression, 'jpeg2000');
      assert.equal(await s.readEncodedTile(0, 0, 0), null);
      assert.deepEqual(Buffer.from((await s.readTile(0, 0, 0)).data), Buffer.from(img));
    });
  }  // two frames, each in two fragments, no offset table: grouped by the codestream start (SOC + SIZ)
  const half = (cs.length >> 2) * 2; // even: fragments are padded to even lengths
  const two = write(join(dir(), 'j2k2.dcm'), { o: { total: [160, 48], frame: [80, 48], frames: 2, photometric: 'YBR_RCT' }, frames: [[cs.subarray(0, half), cs.subarray(half)], [cs.subarray(0, half), cs.subarray(half)]] }, TS.jpeg2000);
  await withSlide(two, async (s) => {
    for (const c of [0, 1]) assert.deepEqual(Buffer.from((await s.readTile(0, c, 0)).data), Buffer.from(img), `frame ${c + 1}`);
  });
});

test('synthetic: native MONOCHROME2, MONOCHROME1, YBR_FULL and planar RGB frames', async () => {
  const grey = Uint8Array.from({ length: 12 * 8 }, (_, i) => (i * 7) & 255);
  const expand = (g: Uint8Array, inv = false) => Uint8Array.from({ length: g.length * 3 }, (_, i) => (inv ? 255 - g[Math.floor(i / 3)] : g[Math.floor(i / 3)]));
  const base = { total: [12, 8] as [number, number], frame: [12, 8] as [number, number], frames: 1 };
  for (const [ph, inv] of [['MONOCHROME2', false], ['MONOCHROME1', true]] as const) {
    const p = write(join(dir(), 'mono.dcm'), { o: { ...base, samples: 1, photometric: ph }, frames: grey });
    await withSlide(p, async (s) => assert.deepEqual(Buffer.from((await s.readTile(0, 0, 0)).data), Buffer.from(expand(grey, inv)), ph));
  }
  const rgb = pattern(12, 8, 3);
  const planar = new Uint8Array(rgb.length);
  for (let i = 0; i < 96; i++) for (let c = 0; c < 3; c++) planar[c * 96 + i] = rgb[i * 3 + c];
  // also: no ImageType (non-conformant) still opens, as the series' only image
  const pp = write(join(dir(), 'planar.dcm'), { o: { ...base, imageType: '', extra: [[0x00280006, 'US', 1]] }, frames: planar });
  await withSlide(pp, async (s) => assert.deepEqual(Buffer.from((await s.readTile(0, 0, 0)).data), Buffer.from(rgb)));
  // YBR_FULL: Y = 0.299R + 0.587G + 0.114B etc.; grey (Cb = Cr = 128) stays grey, pure Cr shifts red
  const ybr = Uint8Array.of(128, 128, 128, 100, 128, 228, 200, 128, 128, 50, 128, 128);
  const py = write(join(dir(), 'ybr.dcm'), { o: { total: [2, 2], frame: [2, 2], frames: 1, photometric: 'YBR_FULL' }, frames: ybr });
  await withSlide(py, async (s) => {
    const t = (await s.readTile(0, 0, 0)).data;
    assert.deepEqual(Array.from(t.subarray(0, 3)), [128, 128, 128]);
    assert.deepEqual(Array.from(t.subarray(3, 6)), [240, 29, 100]); // Y 100, Cr +100: R = 100 + 140.2, G = 100 - 71.4, B = 100
  });
});

test('synthetic: an RGB JPEG frame without JFIF or Adobe markers is decoded without a colour transform', { skip: SKIP_NO_SLIDES }, async () => {
  // Aperio's RGB tile (no colour transform), made standalone by the TIFF reader, which inserts an Adobe APP14
  const svs = await openSlide(join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'));
  let enc, ref;
  try {
    enc = (await svs.readEncodedTile(0, 3, 4))!;
    ref = await svs.readTile(0, 3, 4);
  } finally {
    await svs.close();
  }
  const app14 = enc.bytes.indexOf(0xee, 2);
  assert.equal(enc.bytes[app14 - 1], 0xff);
  const len = (enc.bytes[app14 + 1] << 8) | enc.bytes[app14 + 2];
  const bare = new Uint8Array([...enc.bytes.subarray(0, app14 - 1), ...enc.bytes.subarray(app14 + 1 + len)]);
  const p = write(join(dir(), 'rgb.dcm'), { o: { total: [240, 240], frame: [240, 240], frames: 1 }, frames: [[bare]] });
  await withSlide(p, async (s) => {
    assert.deepEqual(Buffer.from((await s.readTile(0, 0, 0)).data), Buffer.from(ref.data));
    const e = await s.readEncodedTile(0, 0, 0);
    const passed = new Uint8Array(await sharp(e!.bytes).raw().toBuffer());
    assert.deepEqual(Buffer.from(passed), Buffer.from(ref.data), 'the pass-through JPEG decodes to the same RGB');
  });
});

test('synthetic: Implicit VR Little Endian: sequences (pixel spacing, TILED_SPARSE positions) found by their item tags', async () => {
  const img = pattern(20, 10, 7);
  const tiles = frames(img, 20, 10, 10, 10);
  // frames stored right tile first: only the plane positions put them in place
  const o: WsmOpts = { total: [20, 10], frame: [10, 10], frames: 2, organization: 'TILED_SPARSE', positions: [[11, 1], [1, 1]], spacingMm: [0.002, 0.001] };
  const p = write(join(dir(), 'implicit.dcm'), { o, frames: new Uint8Array([...tiles[1], ...tiles[0]]) }, TS.implicitLE);
  await withSlide(p, async (s) => {
    assert.deepEqual(s.properties.mpp, { x: 1, y: 2, source: 'vendor' });
    assert.deepEqual(Buffer.from((await s.readRegion(0, 0, 0, 20, 10)).data), Buffer.from(img));
  });
});

test('synthetic: a second focal plane in TILED_FULL order is left out with a warning; the first plane is shown', async () => {
  const a = await jpegVolume(pattern(64, 64, 1), 64, 64, 32, 32);
  const b = await jpegVolume(pattern(64, 64, 200), 64, 64, 32, 32);
  const fr = [...(a.inst.frames as Uint8Array[][]), ...(b.inst.frames as Uint8Array[][])];
  const p = write(join(dir(), 'z.dcm'), { o: { ...a.inst.o, frames: 8, extra: [[0x00480303, 'UL', 2]] }, frames: fr });
  await withSlide(p, async (s) => {
    assert.deepEqual(Buffer.from((await s.readRegion(0, 0, 0, 64, 64)).data), Buffer.from(assemble(a.decoded, 64, 64, 32, 32)));
    assert.match(s.properties.warnings.join('\n'), /z\.dcm holds 2 focal plane\(s\) and 1 optical path\(s\): only the first of each is shown/);
  });
});

test('synthetic: a 1.2 GB instance opens and reads a frame without loading the file (sparse file, memory bounded)', async () => {
  // native RGB 20000×20000 in 1000×1000 frames: 400 frames of 3 MB; only the header bytes are written, the rest is a hole
  const o: WsmOpts = { total: [20000, 20000], frame: [1000, 1000], frames: 400 };
  const total = 20000 * 20000 * 3;
  const head = part10(TS.explicitLE, WSM, '1.2.3.9.999', wsmDataset(o), new Uint8Array(0));
  const pxHeader = Uint8Array.of(0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, ...new Uint8Array(new Uint32Array([total]).buffer));
  const p = join(dir(), 'big.dcm');
  writeFileSync(p, new Uint8Array([...head, ...pxHeader]));
  truncateSync(p, head.length + pxHeader.length + total);
  const before = process.memoryUsage().rss;
  await withSlide(p, async (s) => {
    assert.deepEqual([s.properties.width, s.properties.height, s.properties.levels[0].tileWidth], [20000, 20000, 1000]);
    const t = await s.readTile(0, 19, 19);
    assert.deepEqual([t.width, t.height], [1000, 1000]);
    assert.ok(t.data.every((v) => v === 0));
  });
  const grew = process.memoryUsage().rss - before;
  assert.ok(grew < 200 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(0)} MiB for a ${(total / 2 ** 30).toFixed(1)} GiB file`);
});

test('bad input: truncated files, unsupported transfer syntaxes, a CT image, inconsistent frames', async () => {
  const v = await jpegVolume(pattern(200, 150), 200, 150, 64, 64);
  const good = readFileSync(write(join(dir(), 'good.dcm'), v.inst));
  const d = dir();
  const cut = join(d, 'cut.dcm');
  writeFileSync(cut, good.subarray(0, good.length - 3000));
  await expectError(openSlide(cut), 'CORRUPT', /truncated/);
  const head = join(dir(), 'head.dcm');
  writeFileSync(head, good.subarray(0, 400));
  await expectError(openSlide(head), 'CORRUPT', /DICOM header|truncated/);
  const tiny = new Uint8Array(300); tiny.set([0x44, 0x49, 0x43, 0x4d], 128);
  const pt = join(dir(), 'tiny.dcm'); writeFileSync(pt, tiny);
  await expectError(openSlide(pt), 'CORRUPT', /DICOM header cannot be parsed/);
  // a reduced level past the end: dropped with a warning, level 0 stays
  const d2 = dir();
  write(join(d2, 'l0.dcm'), v.inst);
  const small = await jpegVolume(pattern(100, 75), 100, 75, 64, 64);
  const l1 = readFileSync(write(join(d2, 'l1.dcm'), small.inst));
  writeFileSync(join(d2, 'l1.dcm'), l1.subarray(0, l1.length - 500));
  await withSlide(d2, async (s) => {
    assert.deepEqual(s.properties.levels.map((l) => l.width), [200]);
    assert.match(s.properties.warnings.join('\n'), /l1\.dcm \(100×75\) was skipped because .*truncated/);
  });
  for (const [ts, re] of [[TS.rle, /RLE Lossless \(1\.2\.840\.10008\.1\.2\.5\) is not supported/], [TS.jpegLossless, /JPEG Lossless SV1/], ['1.2.3.4.99', /'1\.2\.3\.4\.99' is not supported/]] as const) {
    await expectError(openSlide(write(join(dir(), 'ts.dcm'), v.inst, ts)), 'UNSUPPORTED', re);
  }
  const ct = write(join(dir(), 'ct.dcm'), { o: { total: [16, 16], frame: [16, 16], frames: 1, samples: 1, photometric: 'MONOCHROME2' }, frames: new Uint8Array(256) }, TS.explicitLE, CT);
  await expectError(openSlide(ct), 'UNSUPPORTED_FORMAT', /CT Image Storage \(1\.2\.840\.10008\.5\.1\.4\.1\.1\.2\) image, not a VL Whole Slide Microscopy image/);
  await expectError(openSlide(join(ct, '..')), 'UNSUPPORTED_FORMAT', /is a directory whose DICOM files are not VL Whole Slide Microscopy images \(ct\.dcm: CT Image Storage/);
  await expectError(openSlide(write(join(dir(), 'few.dcm'), { ...v.inst, o: { ...v.inst.o, frames: 5 }, frames: (v.inst.frames as Uint8Array[][]).slice(0, 5) })), 'CORRUPT', /5 frame\(s\) cannot tile a 200×150 matrix/);
  await expectError(openSlide(write(join(dir(), 'short.dcm'), { o: { total: [10, 10], frame: [10, 10], frames: 1 }, frames: new Uint8Array(200) })), 'CORRUPT', /pixel data holds 200 bytes but .* need 300/);
  await expectError(openSlide(write(join(dir(), 'b16.dcm'), { o: { total: [4, 4], frame: [4, 4], frames: 1, extra: [[0x00280100, 'US', 16], [0x00280101, 'US', 16]] }, frames: new Uint8Array(96) })), 'UNSUPPORTED', /16-bit samples are not supported/);
  const onlyLabel = write(join(dir(), 'label.dcm'), { o: { total: [8, 8], frame: [8, 8], frames: 1, imageType: 'ORIGINAL\\PRIMARY\\LABEL\\NONE' }, frames: new Uint8Array(192) });
  await expectError(openSlide(onlyLabel), 'UNSUPPORTED_FORMAT', /no VOLUME instance \(image types: LABEL\)/);
  await expectError(openSlide(dir()), 'NOT_FOUND', /is a directory, not a slide file/);
  // a frame whose JPEG is not the frame size: refused when read, the slide stays usable
  const wrong = await jpeg(pattern(32, 32), 32, 32);
  const bogus = write(join(dir(), 'bogus.dcm'), { o: { total: [128, 64], frame: [64, 64], frames: 2, photometric: 'YBR_FULL_422' }, frames: [[wrong], [(v.inst.frames as Uint8Array[][])[0][0]]] });
  await withSlide(bogus, async (s) => {
    await expectError(s.readTile(0, 0, 0), 'CORRUPT', /JPEG frame is 32×32 but the tile is 64×64/);
    await expectError(s.readEncodedTile(0, 0, 0), 'CORRUPT', /bogus\.dcm: level 0 tile \(0,0\) \(frame 1\)/);
    assert.equal((await s.readTile(0, 1, 0)).width, 64);
  });
});

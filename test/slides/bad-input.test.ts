/**
 * Corrupt and hostile inputs: each must end in a SlideError with the right code and a message naming the
 * problem and the file, without crashing the process or allocating from untrusted sizes.
 * Fixtures are generated with test/fixtures/tiff-writer.ts into a tmp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlide, SlideError, type SlideErrorCode, type Slide } from '../../main/engine/slide/index.js';
import { writeTiff, type ImageSpec, type WrittenTiff } from '../fixtures/tiff-writer.js';
import { AbortError } from '../../main/base/abort.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-bad-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(bytes: Uint8Array, name = `f${n++}.tif`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const W = 96, H = 80;
function pixels(w = W, h = H): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7) & 255;
  return px;
}
function valid(extra: Partial<ImageSpec> = {}, opts: { bigTiff?: boolean; littleEndian?: boolean } = {}): WrittenTiff {
  return writeTiff([
    { width: W, height: H, pixels: pixels(), tile: [32, 32], compression: 8, ...extra },
    { width: 48, height: 40, pixels: pixels(48, 40), tile: [32, 32], compression: 8, newSubfileType: 1 },
  ], opts);
}
function put32(t: WrittenTiff, at: number, v: number, le = true): Uint8Array {
  const b = t.bytes.slice();
  new DataView(b.buffer).setUint32(at, v, le);
  return b;
}

async function expectError(p: Promise<unknown>, code: SlideErrorCode, pattern: RegExp, path?: string): Promise<SlideError> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  assert.ok(err instanceof SlideError, `expected SlideError ${code}, got ${err === undefined ? 'success' : String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
  if (path) assert.ok(err.message.includes(path), `message names the file: ${err.message}`);
  return err;
}

async function openAndReadAll(path: string): Promise<void> {
  const s = await openSlide(path);
  try {
    for (let l = 0; l < s.properties.levels.length; l++) {
      const lv = s.properties.levels[l];
      await s.readRegion(0, 0, l, lv.width, lv.height);
    }
  } finally { await s.close(); }
}

test('bad input: a valid generated file opens (control for the cases below)', async () => {
  for (const o of [{}, { bigTiff: true }, { littleEndian: false }, { bigTiff: true, littleEndian: false }]) {
    const p = file(valid({}, o).bytes);
    await openAndReadAll(p);
  }
});

test('bad input: empty file, missing file, directory', async () => {
  const empty = file(new Uint8Array(0));
  await expectError(openSlide(empty), 'CORRUPT', /empty file/, empty);
  const missing = join(dir, 'does-not-exist.svs');
  await expectError(openSlide(missing), 'NOT_FOUND', /no such file/, missing);
  const d = join(dir, 'a-directory.tif');
  mkdirSync(d);
  await expectError(openSlide(d), 'NOT_FOUND', /directory/, d);
});

test('bad input: wrong magic', async () => {
  const t = valid();
  const b = t.bytes.slice(); b[0] = 0x58; b[1] = 0x58;
  const p1 = file(b);
  await expectError(openSlide(p1), 'UNSUPPORTED_FORMAT', /not a TIFF file \(no TIFF\/BigTIFF header\)/, p1);
  const b2 = t.bytes.slice(); b2[2] = 99;
  const p2 = file(b2);
  await expectError(openSlide(p2), 'UNSUPPORTED_FORMAT', /not a TIFF file \(no TIFF\/BigTIFF header/, p2);
  // no file content in the message (it reaches API clients): a text file starting "root:x:0:0"
  const passwd = file(new TextEncoder().encode('root:x:0:0:root:/root:/bin/bash\n'), 'passwd');
  const e = await openSlide(passwd).then(() => null, (x: unknown) => x);
  assert.ok(e instanceof SlideError && e.code === 'UNSUPPORTED_FORMAT', String(e));
  assert.match(e.message, /not a TIFF file \(no TIFF\/BigTIFF header\)/);
  for (const leak of ['root', '726f6f74', '726f', 'bash']) assert.ok(!e.message.replace(passwd, '').includes(leak), `message leaks '${leak}': ${e.message}`);
  const gz = file(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0, 0));
  await expectError(openSlide(gz), 'UNSUPPORTED_FORMAT', /gzip file is not supported/, gz);
  const zip = file(Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0));
  await expectError(openSlide(zip), 'UNSUPPORTED_FORMAT', /ZIP archive/, zip);
  const png = file(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0));
  await expectError(openSlide(png), 'UNSUPPORTED_FORMAT', /PNG image is not supported/, png);
  const dcm = new Uint8Array(300); dcm.set([0x44, 0x49, 0x43, 0x4d], 128);
  const pd = file(dcm, 'x.dcm');
  // DICM magic: read as DICOM (test/slides/dicom-synthetic.test.ts), whose header here is cut short
  await expectError(openSlide(pd), 'CORRUPT', /DICOM header cannot be parsed/, pd);
});

test('bad input: truncated files', async () => {
  const t = valid();
  // cut inside the second IFD (the writer puts IFDs after the pixel data): level 0 is intact, so the slide
  // opens without the reduced level and says so in properties.warnings (not among the vendor properties)
  const p1 = file(t.bytes.subarray(0, t.ifdOffsets[1] + 6));
  const s1 = await openSlide(p1);
  try {
    assert.equal(s1.properties.levels.length, 1);
    assert.equal(s1.properties.warnings.length, 1, s1.properties.warnings.join(' | '));
    assert.match(s1.properties.warnings[0], /^IFD 1 and any after it were skipped \(.*(truncated|past the end)/);
    assert.ok(!s1.properties.warnings[0].includes(p1), 'the warning does not repeat the path');
    assert.deepEqual(Object.keys(s1.properties.raw).filter((k) => /^glassbox\.(warning|skipped)/.test(k)), []);
  } finally { await s1.close(); }
  // the intact file has no warning (control)
  const s0 = await openSlide(file(t.bytes));
  try { assert.deepEqual(s0.properties.warnings, []); assert.equal(s0.properties.levels.length, 2); } finally { await s0.close(); }
  // cut inside the first IFD: nothing to open
  const p0 = file(t.bytes.subarray(0, t.ifdOffsets[0] + 6));
  await expectError(openSlide(p0), 'CORRUPT', /truncated|past the end/, p0);
  const p2 = file(t.bytes.subarray(0, 5));
  await expectError(openSlide(p2), 'CORRUPT', /too short for a TIFF header/, p2);
  // header points past the end
  const p3 = file(put32(t, 4, t.bytes.length + 100));
  await expectError(openSlide(p3), 'CORRUPT', /outside the file/, p3);
  // a file whose tile data is cut off but whose IFDs survive: IFDs first, then pixel data, then cut
  const moved = valid({ tags: [{ tag: 324, type: 'LONG', values: new Array(9).fill(t.bytes.length - 3) }] });
  const p4 = file(moved.bytes);
  await expectError(openAndReadAll(p4), 'CORRUPT', /past the end of the file|decode failed|truncated/, p4);
});

test('bad input: IFD loops', async () => {
  const t = valid();
  const p1 = file(put32(t, t.nextPointers[1], t.ifdOffsets[0]));
  await expectError(openSlide(p1), 'CORRUPT', /IFD loop/, p1);
  const p2 = file(put32(t, t.nextPointers[0], t.ifdOffsets[0]));
  await expectError(openSlide(p2), 'CORRUPT', /IFD loop/, p2);
  // SubIFD pointing back at a top-level IFD
  const s = writeTiff([{ width: W, height: H, tile: [32, 32], subIfds: [{ width: 48, height: 40, tile: [32, 32], newSubfileType: 1 }] }]);
  const subVal = s.entryValueAt[0].get(330)!;
  const p3 = file(put32(s, subVal, s.ifdOffsets[0]));
  await expectError(openSlide(p3), 'CORRUPT', /IFD loop/, p3);
});

test('bad input: absurd dimensions, tile counts, IFD entry counts', async () => {
  const p1 = file(valid({ tags: [{ tag: 256, type: 'LONG', values: [2 ** 31] }] }).bytes);
  await expectError(openSlide(p1), 'LIMIT', /absurd dimensions 2147483648×80/, p1);
  const p2 = file(writeTiff([{ width: 1_000_000, height: 1_000_000, tile: [16, 16], rawChunks: [Uint8Array.of(1)] }]).bytes);
  await expectError(openSlide(p2), 'LIMIT', /absurd tile count 3906250000/, p2);
  const p3 = file(writeTiff([{ width: 1 << 16, height: 1 << 16, tile: [1 << 16, 1 << 16], rawChunks: [Uint8Array.of(1)] }]).bytes);
  await expectError(openSlide(p3), 'LIMIT', /exceeds the \d+-pixel limit/, p3);
  // IFD claims 60000 entries
  const t = valid();
  const b = t.bytes.slice(); new DataView(b.buffer).setUint16(t.ifdOffsets[0], 60000, true);
  const p4 = file(b);
  await expectError(openSlide(p4), 'LIMIT', /60000 entries/, p4);
  // BigTIFF tag count of 2^40 (a naive reader would allocate terabytes)
  const bt = valid({}, { bigTiff: true });
  const bb = bt.bytes.slice();
  new DataView(bb.buffer).setBigUint64(bt.entryCountAt[0].get(324)!, 2n ** 40n, true);
  const p5 = file(bb);
  await expectError(openSlide(p5), 'CORRUPT', /past the end of the file/, p5);
  // a region larger than the pixel limit
  const s = await openSlide(file(valid().bytes));
  try {
    await expectError(s.readRegion(0, 0, 0, 100_000, 100_000), 'LIMIT', /region 100000×100000 px exceeds/);
  } finally { await s.close(); }
});

test('bad input: offsets and byte counts past the end of the file', async () => {
  const t = valid();
  const at = t.entryValueAt[0].get(324)!; // out-of-line TileOffsets array
  const dv = new DataView(t.bytes.buffer);
  const b = t.bytes.slice();
  new DataView(b.buffer).setUint32(dv.getUint32(at, true), t.bytes.length + 4096, true); // tile 0 offset
  // level 0 with tile data past EOF fails the open (it is the slide); a reduced level is dropped with a warning
  const p1 = file(b);
  await expectError(openSlide(p1), 'CORRUPT', /level 0 96×80 \(IFD 0\) is incomplete: 1 of 9 tiles lie past the end of the file/, p1);
  const cAt = t.entryValueAt[0].get(325)!;
  const b2 = t.bytes.slice();
  new DataView(b2.buffer).setUint32(dv.getUint32(cAt, true), 0x7fffffff, true); // tile 0 byte count
  const p2 = file(b2);
  await expectError(openSlide(p2), 'CORRUPT', /level 0 .*is incomplete: 1 of 9 tiles lie past the end of the file/, p2);
  const at1 = t.entryValueAt[1].get(324)!;
  const b5 = t.bytes.slice();
  new DataView(b5.buffer).setUint32(dv.getUint32(at1, true), t.bytes.length + 4096, true); // level 1, tile 0
  const s5 = await openSlide(file(b5));
  try {
    assert.equal(s5.properties.levels.length, 1);
    assert.equal(s5.properties.warnings.length, 1);
    assert.match(s5.properties.warnings[0], /^pyramid level 48×40 \(IFD 1\) was skipped because 1 of 4 tiles lie past the end of the file/);
    await s5.readRegion(0, 0, 0, W, H); // level 0 still reads
  } finally { await s5.close(); }
  // a tag value (ImageDescription) pointing past EOF fails at open
  const d = valid({ tags: [{ tag: 270, type: 'ASCII', values: 'x'.repeat(64) }] });
  const p3 = file(put32(d, d.entryValueAt[0].get(270)!, d.bytes.length + 1));
  await expectError(openSlide(p3), 'CORRUPT', /tag 270 .*past the end of the file/, p3);
});

test('bad input: unsupported compression names number and name', async () => {
  for (const [c, name] of [[34712, 'JPEG 2000'], [34887, 'LERC'], [6, 'old-style JPEG'], [50002, 'JPEG XL'], [4242, 'unknown compression 4242']] as const) {
    const p = file(valid({ compression: c }).bytes);
    await expectError(openSlide(p), 'UNSUPPORTED', new RegExp(`unsupported compression ${c} \\(${name}`), p);
  }
});

test('bad input: corrupt compressed tile data', async () => {
  const t = valid({ compression: 8 });
  const b = t.bytes.slice();
  b.fill(0x55, 16, 200); // garble the first Deflate tile
  const p = file(b);
  const s = await openSlide(p);
  try { await expectError(s.readTile(0, 0, 0), 'CORRUPT', /deflate decode failed|decoded \d+ bytes, expected/, p); } finally { await s.close(); }
  // JPEG-labelled tiles that are not JPEG
  const j = file(valid({ compression: 7 }).bytes);
  const sj = await openSlide(j);
  try { await expectError(sj.readTile(0, 0, 0), 'CORRUPT', /JPEG tile does not start with SOI|JPEG decode failed/, j); } finally { await sj.close(); }
});

test('bad input: out-of-range requests and aborts', async () => {
  const p = file(valid().bytes);
  const s: Slide = await openSlide(p);
  try {
    for (const level of [-1, 2, 1.5, NaN]) await expectError(s.readTile(level, 0, 0), 'OUT_OF_RANGE', /level .* out of range/, p);
    await expectError(s.readTile(0, 3, 0), 'OUT_OF_RANGE', /tile \(3,0\) out of range for level 0 \(3×3 tiles\)/, p);
    await expectError(s.readTile(0, 0, -1), 'OUT_OF_RANGE', /out of range/, p);
    await expectError(s.readEncodedTile(1, 2, 0), 'OUT_OF_RANGE', /out of range/, p);
    await expectError(s.readRegion(0, 0, 5, 10, 10), 'OUT_OF_RANGE', /level 5 out of range/, p);
    await expectError(s.readRegion(0, 0, 0, -1, 10), 'OUT_OF_RANGE', /invalid region/, p);
    await expectError(s.readRegion(NaN, 0, 0, 1, 1), 'OUT_OF_RANGE', /invalid region/, p);
    await expectError(s.readAssociated('label'), 'OUT_OF_RANGE', /no associated image 'label'/, p);
    const ac = new AbortController(); ac.abort();
    // a cancelled read is the app's one AbortError (code ABORTED), naming the file
    for (const read of [s.readRegion(0, 0, 0, 50, 50, ac.signal), s.readTile(0, 0, 0, ac.signal)]) {
      await assert.rejects(read, (e: Error) => e instanceof AbortError && e.code === 'ABORTED' && /aborted/.test(e.message) && e.message.includes(p));
    }
  } finally { await s.close(); }
  await expectError(s.readTile(0, 0, 0), 'OUT_OF_RANGE', /closed/, p);
});

test('bad input: the process survives many corrupt opens with bounded memory', async () => {
  const t = valid();
  const cases = [
    put32(t, t.nextPointers[1], t.ifdOffsets[0]),
    t.bytes.subarray(0, t.ifdOffsets[1] + 6),
    valid({ tags: [{ tag: 256, type: 'LONG', values: [2 ** 31] }] }).bytes,
    valid({ compression: 34712 }).bytes,
  ].map((b) => file(b));
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 200; i++) {
    for (const p of cases) await openSlide(p).then((s) => s.close(), () => {});
  }
  global.gc?.();
  const delta = (process.memoryUsage().rss - before) / 1048576;
  assert.ok(delta < 150, `rss grew ${delta.toFixed(1)} MiB over 800 failed opens`);
});

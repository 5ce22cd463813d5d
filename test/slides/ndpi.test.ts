/**
 * NDPI random access (main/engine/tiff/ndpi.ts): virtual tiles built from restart intervals decode to the same
 * pixels as decoding the whole level strip once; random access reads few bytes; broken strips fail clearly.
 * Real file: test3-DAPI-2-(387).ndpi (4 levels, McuStarts). Synthetic JPEGs (vips --restart-interval) cover
 * intervals narrower than a row, intervals spanning several rows, 2×2 chroma subsampling and no restart markers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { fromFile } from 'geotiff';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { SlideError } from '../../main/engine/slide/types.js';
import { combineNdpiMcuStarts, decodeNdpiTile, indexNdpiStrip, ndpiTileSize, readNdpiTileJpeg, type NdpiLevelIndex, type NdpiRead } from '../../main/engine/tiff/ndpi.js';

const NDPI = join(SHARED_SLIDES, 'test3-DAPI-2-(387).ndpi');

interface Strip { offset: number; byteCount: number; mcuStarts: number[] | null; width: number; height: number }

async function strips(): Promise<Strip[]> {
  const tiff = await fromFile(NDPI);
  const out: Strip[] = [];
  for (let i = 0; i < 5; i++) {
    const img = await tiff.getImage(i);
    const fd = img.fileDirectory as unknown as { loadValue(tag: string | number): Promise<ArrayLike<number> | undefined>; hasTag?(t: number): boolean };
    const so = await fd.loadValue('StripOffsets');
    const sb = await fd.loadValue('StripByteCounts');
    let mcu: ArrayLike<number> | undefined;
    try { mcu = await fd.loadValue(65426); } catch { mcu = undefined; }
    out.push({ offset: Number(so![0]), byteCount: Number(sb![0]), mcuStarts: mcu ? Array.from(mcu, Number) : null, width: img.getWidth(), height: img.getHeight() });
  }
  return out;
}

/** A `read` over a file (or a byte array) that counts the bytes it returns. */
function fileReader(path: string) {
  const fh = openSync(path, 'r');
  const r = {
    bytes: 0, calls: 0,
    read: (async (offset: number, length: number) => {
      const b = new Uint8Array(length);
      const n = readSync(fh, b, 0, length, offset);
      r.bytes += n; r.calls++;
      return b.subarray(0, n);
    }) as NdpiRead,
    close: () => closeSync(fh),
  };
  return r;
}
function bufferReader(buf: Uint8Array) {
  const r = {
    bytes: 0,
    read: (async (offset: number, length: number) => {
      const b = buf.subarray(offset, Math.min(buf.length, offset + length));
      r.bytes += b.length;
      return b.slice();
    }) as NdpiRead,
  };
  return r;
}

async function decodeWhole(jpeg: Uint8Array) {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data, width: info.width, height: info.height };
}

/** Mean |diff| (0..255) between a decoded tile and the same rectangle of the whole decoded level. */
function madAgainstWhole(tile: { data: Uint8Array; width: number; height: number }, whole: { data: Uint8Array; width: number }, x0: number, y0: number): number {
  let s = 0;
  for (let y = 0; y < tile.height; y++) {
    const tRow = y * tile.width * 3, wRow = ((y0 + y) * whole.width + x0) * 3;
    for (let x = 0; x < tile.width * 3; x++) s += Math.abs(tile.data[tRow + x] - whole.data[wRow + x]);
  }
  return s / (tile.width * tile.height * 3);
}

async function checkAllTiles(index: NdpiLevelIndex, read: NdpiRead, whole: { data: Uint8Array; width: number; height: number }): Promise<number> {
  let worst = 0;
  for (let row = 0; row < index.tilesDown; row++) {
    for (let col = 0; col < index.tilesAcross; col++) {
      const tile = await decodeNdpiTile(index, read, col, row);
      const size = ndpiTileSize(index, col, row);
      assert.deepEqual([tile.width, tile.height], [size.width, size.height], `tile (${col},${row}) decodes to its visible size`);
      worst = Math.max(worst, madAgainstWhole(tile, whole, col * index.tileWidth, row * index.tileHeight));
    }
  }
  // the tiles cover the level exactly
  assert.equal(index.tilesAcross * index.tileWidth >= index.width && (index.tilesAcross - 1) * index.tileWidth < index.width, true);
  assert.equal(index.tilesDown * index.tileHeight >= index.height && (index.tilesDown - 1) * index.tileHeight < index.height, true);
  return worst;
}

test('NDPI levels: every virtual tile equals the whole-strip decode (mean |diff| ≤ 1/255)', { skip: SKIP_NO_SLIDES }, async (t) => {
  const all = await strips();
  const f = fileReader(NDPI);
  try {
    for (let lv = 0; lv < 4; lv++) {
      const s = all[lv];
      assert.ok(s.mcuStarts && s.mcuStarts.length > 1, `level ${lv} has McuStarts`);
      const index = await indexNdpiStrip(f.read, s.offset, s.byteCount, s.mcuStarts, { name: `level ${lv}` });
      assert.equal(index.mode, 'intervals');
      assert.equal(index.source, 'McuStarts');
      assert.deepEqual([index.width, index.height], [s.width, s.height]);
      assert.equal(index.intervalStarts.length, s.mcuStarts!.length);
      const whole = await decodeWhole(await f.read(s.offset, s.byteCount));
      assert.deepEqual([whole.width, whole.height], [s.width, s.height]);
      const worst = await checkAllTiles(index, f.read, whole);
      t.diagnostic(`level ${lv} ${s.width}×${s.height}: ${index.tilesAcross}×${index.tilesDown} tiles of ${index.tileWidth}×${index.tileHeight}, worst tile MAD ${worst.toFixed(4)}/255`);
      assert.ok(worst <= 1, `level ${lv}: worst tile MAD ${worst} > 1/255`);
    }
  } finally { f.close(); }
});

test('NDPI random access reads only the bytes a tile needs', { skip: SKIP_NO_SLIDES }, async (t) => {
  const [s0] = await strips();
  const f = fileReader(NDPI);
  try {
    const index = await indexNdpiStrip(f.read, s0.offset, s0.byteCount, s0.mcuStarts);
    const indexBytes = f.bytes;
    assert.ok(indexBytes < 16 * 1024, `indexing read ${indexBytes} bytes (header + tail only)`);
    const row = Math.floor(index.tilesDown / 2);
    f.bytes = 0; f.calls = 0;
    const jpeg = await readNdpiTileJpeg(index, f.read, 0, row);
    const first = row * index.unitsPerTile, last = first + index.unitsPerTile; // intervals [first, last)
    const needed = index.intervalStarts[last] - index.intervalStarts[first];
    t.diagnostic(`level 0 strip ${s0.byteCount} B; index read ${indexBytes} B; tile (0,${row}) read ${f.bytes} B in ${f.calls} call(s) (its intervals: ${needed} B)`);
    assert.equal(f.bytes, needed, 'a tile reads exactly its restart intervals');
    assert.equal(f.calls, 1, 'contiguous intervals are read in one call');
    assert.ok(f.bytes * 20 < s0.byteCount, `tile read ${f.bytes} B of a ${s0.byteCount} B strip`);
    // the tile JPEG is standalone and the right size
    const meta = await sharp(jpeg).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [index.tileWidth, index.tileHeight, 'jpeg']);
  } finally { f.close(); }
});

test('NDPI without McuStarts: one scan finds the same intervals and tiles', { skip: SKIP_NO_SLIDES }, async () => {
  const all = await strips();
  const f = fileReader(NDPI);
  try {
    const s = all[2];
    const withTag = await indexNdpiStrip(f.read, s.offset, s.byteCount, s.mcuStarts);
    const scanned = await indexNdpiStrip(f.read, s.offset, s.byteCount, null);
    assert.equal(scanned.source, 'scan');
    assert.deepEqual(Array.from(scanned.intervalStarts), Array.from(withTag.intervalStarts));
    // a McuStarts tag with the wrong number of entries is not trusted either
    const bad = await indexNdpiStrip(f.read, s.offset, s.byteCount, s.mcuStarts!.slice(0, 10));
    assert.equal(bad.source, 'scan');
    const a = await readNdpiTileJpeg(withTag, f.read, 0, 1);
    const b = await readNdpiTileJpeg(scanned, f.read, 0, 1);
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
    // the macro (IFD 4) has no restart markers: one whole tile, same pixels as sharp
    const m = all[4];
    const macro = await indexNdpiStrip(f.read, m.offset, m.byteCount, null);
    assert.equal(macro.mode, 'whole');
    const tile = await decodeNdpiTile(macro, f.read, 0, 0);
    const whole = await decodeWhole(await f.read(m.offset, m.byteCount));
    assert.deepEqual([tile.width, tile.height], [1188, 406]);
    assert.equal(madAgainstWhole(tile, whole, 0, 0), 0);
  } finally { f.close(); }
});

test('NDPI: truncated or garbled strips fail with SlideError naming the problem', { skip: SKIP_NO_SLIDES }, async () => {
  const all = await strips();
  const s = all[3];
  const file = new Uint8Array(readFileSync(NDPI));
  const corrupt = (code: string, re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof SlideError, `SlideError expected, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  };
  // file cut in the middle of the strip
  const cut = bufferReader(file.subarray(0, s.offset + Math.floor(s.byteCount / 2)));
  await assert.rejects(indexNdpiStrip(cut.read, s.offset, s.byteCount, s.mcuStarts), corrupt('CORRUPT', /truncated/));
  // strip without its end (EOI missing): byte count too short
  const f = bufferReader(file);
  await assert.rejects(indexNdpiStrip(f.read, s.offset, s.byteCount - 100, s.mcuStarts), corrupt('CORRUPT', /EOI/));
  // header garbled
  const g1 = file.slice();
  g1[s.offset] = 0x00;
  await assert.rejects(indexNdpiStrip(bufferReader(g1).read, s.offset, s.byteCount, s.mcuStarts), corrupt('CORRUPT', /not a JPEG/));
  // McuStarts that do not point at restart boundaries: caught when the tile is built
  const shifted = s.mcuStarts!.map((v, i) => (i === 5 ? v + 7 : v));
  const idx = await indexNdpiStrip(f.read, s.offset, s.byteCount, shifted);
  await assert.rejects(readNdpiTileJpeg(idx, f.read, 0, 0), corrupt('CORRUPT', /RST|restart/));
  // entropy-coded data garbled with bogus markers: the decoder rejects the tile
  const g2 = file.slice();
  const good = await indexNdpiStrip(bufferReader(file).read, s.offset, s.byteCount, s.mcuStarts);
  const mid = good.intervalStarts[3] + 20;
  for (let i = 0; i < 40; i += 2) { g2[mid + i] = 0xff; g2[mid + i + 1] = 0xc4; }
  await assert.rejects(decodeNdpiTile(good, bufferReader(g2).read, 0, 0), corrupt('CORRUPT', /NDPI tile \(0,0\).*JPEG decode failed/));
  // out-of-range tiles
  await assert.rejects(readNdpiTileJpeg(good, f.read, 0, good.tilesDown), corrupt('OUT_OF_RANGE', /outside/));
  await assert.rejects(readNdpiTileJpeg(good, f.read, 1, 0), corrupt('OUT_OF_RANGE', /outside/));
});

// ---- synthetic strips made with vips (restart interval / subsampling layouts the real file does not have) ----
const HAVE_VIPS = spawnSync('vips', ['--version'], { encoding: 'utf8' }).status === 0;

async function synthJpeg(dir: string, w: number, h: number, restart: number, subsample: boolean): Promise<Uint8Array> {
  // smooth colour gradients plus a little texture so every interval carries data
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    raw[i] = (x * 255) / w; raw[i + 1] = (y * 255) / h; raw[i + 2] = ((x ^ y) & 63) * 3;
  }
  const png = join(dir, `in-${w}x${h}.png`), out = join(dir, `out-${restart}-${subsample}.jpg`);
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toFile(png);
  const r = spawnSync('vips', ['jpegsave', png, out, '--Q', '90', '--restart-interval', String(restart), '--subsample-mode', subsample ? 'on' : 'off'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `vips jpegsave failed: ${r.stderr}`);
  return new Uint8Array(readFileSync(out));
}

test('synthetic strips: narrow intervals, multi-row intervals, 2×2 subsampling, no restart markers', { skip: HAVE_VIPS ? false : 'vips CLI not found: synthetic restart-interval tests skipped' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'glassbox-ndpi-'));
  try {
    // 1000×300, 4:2:0 → MCU 16×16, 63 MCUs per row, 19 MCU rows
    const cases = [
      { restart: 21, sub: true, mode: 'intervals', across: 3, tileW: 336 },   // 3 intervals per row
      { restart: 126, sub: true, mode: 'intervals', across: 1, tileW: 1000 }, // 2 rows per interval (last one partial)
      { restart: 125, sub: false, mode: 'intervals', across: 1, tileW: 1000 }, // 4:4:4 → MCU 8×8, 125 per row
      { restart: 25, sub: false, mode: 'intervals', across: 5, tileW: 200 },
      { restart: 10, sub: true, mode: 'whole', across: 1, tileW: 1000 },     // does not divide the row
      { restart: 0, sub: true, mode: 'whole', across: 1, tileW: 1000 },      // no restart markers
    ] as const;
    for (const c of cases) {
      const jpeg = await synthJpeg(dir, 1000, 300, c.restart, c.sub);
      const r = bufferReader(jpeg);
      const index = await indexNdpiStrip(r.read, 0, jpeg.length, null, { targetTilePixels: 64 * 1024 });
      assert.equal(index.mode, c.mode, `restart ${c.restart}`);
      assert.equal(index.tilesAcross, c.across);
      assert.equal(index.tileWidth, c.tileW);
      assert.equal(index.mcuWidth, c.sub ? 16 : 8);
      const whole = await decodeWhole(jpeg);
      const worst = await checkAllTiles(index, r.read, whole);
      t.diagnostic(`restart ${c.restart}${c.sub ? ' 4:2:0' : ' 4:4:4'}: ${index.mode}, ${index.tilesAcross}×${index.tilesDown} tiles of ${index.tileWidth}×${index.tileHeight}, worst MAD ${worst.toFixed(4)}/255`);
      assert.ok(worst <= 1, `restart ${c.restart}: worst tile MAD ${worst} > 1/255`);
      if (c.mode === 'intervals' && c.across > 1) {
        // a tile of a narrow-interval strip reads much less than the strip
        r.bytes = 0;
        await readNdpiTileJpeg(index, r.read, 1, 1);
        assert.ok(r.bytes * 4 < jpeg.length, `tile read ${r.bytes} of ${jpeg.length} bytes`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('McuStarts high words (tag 65432) combine into 64-bit offsets', () => {
  assert.deepEqual(combineNdpiMcuStarts([660, 2752], null), [660, 2752]);
  assert.deepEqual(combineNdpiMcuStarts([660, 0xfffffff0], [1, 1]), [4294967296 + 660, 4294967296 + 0xfffffff0]);
  assert.throws(() => combineNdpiMcuStarts([1, 2], [0]), (e: unknown) => e instanceof SlideError && e.code === 'CORRUPT');
});

test('mutated NDPI strips / McuStarts either decode or fail with a SlideError', { skip: SKIP_NO_SLIDES }, async () => {
  const s = (await strips())[3];
  const file = new Uint8Array(readFileSync(NDPI));
  let seed = 999;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const outcomes: Record<string, number> = {};
  for (let it = 0; it < 60; it++) {
    const b = file.slice();
    const m = s.mcuStarts!.slice();
    if (it % 3 === 0) for (let k = 0; k < 4; k++) b[s.offset + Math.floor(rnd() * 660)] = Math.floor(rnd() * 256);
    else if (it % 3 === 1) for (let k = 0; k < 20; k++) b[s.offset + 660 + Math.floor(rnd() * (s.byteCount - 660))] = Math.floor(rnd() * 256);
    else for (let k = 0; k < 3; k++) m[Math.floor(rnd() * m.length)] += Math.floor(rnd() * 200) - 100;
    const r = bufferReader(b);
    try {
      const idx = await indexNdpiStrip(r.read, s.offset, s.byteCount, m);
      for (let row = 0; row < idx.tilesDown; row++) for (let col = 0; col < idx.tilesAcross; col++) await decodeNdpiTile(idx, r.read, col, row);
      outcomes.decoded = (outcomes.decoded ?? 0) + 1;
    } catch (e) {
      assert.ok(e instanceof SlideError, `iteration ${it}: expected a SlideError, got ${e}`);
      outcomes[e.code] = (outcomes[e.code] ?? 0) + 1;
    }
  }
  assert.ok((outcomes.CORRUPT ?? 0) > 10, `garbled strips are reported as CORRUPT: ${JSON.stringify(outcomes)}`);
});

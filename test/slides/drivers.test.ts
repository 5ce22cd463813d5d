/**
 * Data-driven driver cases over every TIFF-family slide in ../shared/slides. Expected values come from
 * SOURCES.md and OpenSlide 3.4.1's property dumps (info/*.openslide-properties.txt), written here as a
 * table; raw vendor properties are compared key by key with the dumps at run time.
 * DICOM files open through the DICOM driver (test/slides/dicom.test.ts); every other non-TIFF file is UNSUPPORTED_FORMAT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { openSlide, SlideError } from '../../main/engine/slide/index.js';

interface Case {
  file: string;
  format: string;
  vendor: string;
  levels: Array<{ w: number; h: number; ds: number; tw: number; th: number | 'mcu-multiple' }>;
  mpp: { x: number; source: string } | null;
  objective: number | null;
  associated: string[];
  compression: string;
  icc: boolean;
  /** raw property prefixes to compare against OpenSlide's dump (null: OpenSlide cannot open the file) */
  rawPrefixes: string[] | null;
  channels: number;
  bits: number;
}

const CASES: Case[] = [
  {
    file: 'CMU-1-Small-Region.svs', format: 'aperio-svs', vendor: 'aperio',
    levels: [{ w: 2220, h: 2967, ds: 1, tw: 240, th: 240 }],
    mpp: { x: 0.499, source: 'vendor' }, objective: 20, associated: ['label', 'macro', 'thumbnail'],
    compression: 'jpeg', icc: false, rawPrefixes: ['aperio.', 'tiff.'], channels: 3, bits: 8,
  },
  {
    file: 'tcga-cr-7395-01a-01-ts1.svs', format: 'aperio-svs', vendor: 'aperio',
    levels: [{ w: 4443, h: 3567, ds: 1, tw: 256, th: 256 }, { w: 2221, h: 1783, ds: 2.0005055500659967, tw: 256, th: 256 }],
    mpp: null, objective: null, associated: ['thumbnail'],
    compression: 'jpeg2000', icc: true, rawPrefixes: ['aperio.', 'tiff.'], channels: 3, bits: 8,
  },
  {
    // OpenSlide lists 7 levels; 4–6 are virtual (JPEG-scaled) and not stored in the file: we serve the 4 real ones.
    // Virtual tile width = the restart interval's width (OpenSlide's tile-width); height = a multiple of the MCU height (8).
    file: 'test3-DAPI-2-(387).ndpi', format: 'hamamatsu-ndpi', vendor: 'hamamatsu',
    levels: [
      { w: 3968, h: 4864, ds: 1, tw: 3968, th: 'mcu-multiple' }, { w: 1984, h: 2432, ds: 2, tw: 1984, th: 'mcu-multiple' },
      { w: 992, h: 1216, ds: 4, tw: 992, th: 'mcu-multiple' }, { w: 496, h: 608, ds: 8, tw: 496, th: 'mcu-multiple' },
    ],
    mpp: { x: 0.2281750559028887, source: 'tiff-resolution' }, objective: 40, associated: ['macro'],
    compression: 'jpeg', icc: false, rawPrefixes: ['hamamatsu.', 'tiff.'], channels: 3, bits: 8,
  },
  {
    // OpenSlide 3.4.1 cannot open it; values from SOURCES.md / tiffinfo (PhysicalSize is 1 "pixel", XResolution 0/1000)
    file: '2048x2048_ome6_tiled.ome.tif', format: 'ome-tiff', vendor: 'ome',
    levels: [{ w: 2048, h: 2048, ds: 1, tw: 1024, th: 1024 }, { w: 1024, h: 1024, ds: 2, tw: 1024, th: 1024 }],
    mpp: null, objective: null, associated: [], compression: 'deflate', icc: false, rawPrefixes: null, channels: 3, bits: 16,
  },
  {
    file: 'boxes.tiff', format: 'generic-tiff', vendor: 'generic-tiff',
    levels: [
      { w: 300, h: 250, ds: 1, tw: 64, th: 64 }, { w: 150, h: 125, ds: 2, tw: 64, th: 64 },
      { w: 75, h: 62, ds: 4.0161290322580641, tw: 64, th: 64 }, { w: 37, h: 31, ds: 8.0863121185701843, tw: 64, th: 64 },
    ],
    mpp: null, objective: null, associated: [], compression: 'deflate', icc: true, rawPrefixes: ['tiff.'], channels: 3, bits: 8,
  },
];

/** Parses an `openslide-show-properties` dump: key: 'value' (values may span lines). */
function openslideDump(file: string): Map<string, string> {
  const text = readFileSync(join(SHARED_SLIDES, 'info', `${file}.openslide-properties.txt`), 'utf8');
  const out = new Map<string, string>();
  const re = /^([^\n']+?): '([\s\S]*?)'\n(?=[^\n']+?: '|$)/gm;
  for (const m of text.matchAll(re)) out.set(m[1], m[2]);
  return out;
}

const norm = (s: string) => s.replace(/\r\n?/g, '\n').trim();

for (const c of CASES) {
  test(`driver: ${c.file}`, { skip: SKIP_NO_SLIDES }, async (t) => {
    const path = join(SHARED_SLIDES, c.file);
    const t0 = performance.now();
    const s = await openSlide(path);
    t.diagnostic(`open ${(performance.now() - t0).toFixed(1)} ms`);
    try {
      const p = s.properties;
      assert.equal(p.format, c.format);
      assert.equal(p.vendor, c.vendor);
      assert.equal(p.width, c.levels[0].w);
      assert.equal(p.height, c.levels[0].h);
      assert.equal(p.levels.length, c.levels.length, 'level count');
      c.levels.forEach((e, i) => {
        const l = p.levels[i];
        assert.equal(l.width, e.w, `level ${i} width`);
        assert.equal(l.height, e.h, `level ${i} height`);
        assert.ok(Math.abs(l.downsample - e.ds) < 1e-3, `level ${i} downsample ${l.downsample} vs ${e.ds}`);
        assert.equal(l.tileWidth, e.tw, `level ${i} tile width`);
        if (e.th === 'mcu-multiple') assert.ok(l.tileHeight >= 8 && l.tileHeight % 8 === 0, `level ${i} tile height ${l.tileHeight}`);
        else assert.equal(l.tileHeight, e.th, `level ${i} tile height`);
      });
      if (c.mpp === null) assert.equal(p.mpp, null);
      else {
        assert.ok(p.mpp, 'mpp expected');
        assert.ok(Math.abs(p.mpp.x - c.mpp.x) < 1e-9 && Math.abs(p.mpp.y - c.mpp.x) < 1e-9, `mpp ${p.mpp.x}`);
        assert.equal(p.mpp.source, c.mpp.source);
      }
      assert.equal(p.objectivePower, c.objective);
      assert.deepEqual(p.associatedImages, c.associated);
      assert.equal(p.compression, c.compression);
      assert.equal(p.hasIccProfile, c.icc);
      assert.equal(p.pixel.channels, c.channels);
      assert.equal(p.pixel.bitsPerSample, c.bits);
      assert.deepEqual(p.warnings, [], 'an intact file opens without skipping anything');

      if (c.rawPrefixes) {
        const dump = openslideDump(c.file);
        assert.equal(Number(dump.get('openslide.level-count')) >= c.levels.length, true);
        let compared = 0;
        for (const [k, v] of dump) {
          if (!c.rawPrefixes.some((pre) => k.startsWith(pre))) continue;
          compared++;
          const ours = p.raw[k];
          assert.ok(ours !== undefined, `raw property ${k} missing`);
          const a = Number(ours), b = Number(v);
          if (Number.isFinite(a) && Number.isFinite(b) && /^[\d.eE+-]+$/.test(v)) assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${k}: ${ours} vs ${v}`);
          else assert.equal(norm(ours), norm(v), k);
        }
        assert.ok(compared > 0, 'no OpenSlide properties compared');
        t.diagnostic(`${compared} raw properties equal to OpenSlide's`);
        // level geometry against OpenSlide's own numbers, for the levels it stores
        c.levels.forEach((_, i) => {
          assert.equal(Number(dump.get(`openslide.level[${i}].width`)), p.levels[i].width);
          assert.ok(Math.abs(Number(dump.get(`openslide.level[${i}].downsample`)) - p.levels[i].downsample) < 1e-3);
        });
      }

      // every level's first and last tile decode to the cropped size
      for (let i = 0; i < p.levels.length; i++) {
        const l = p.levels[i];
        const cols = Math.ceil(l.width / l.tileWidth), rows = Math.ceil(l.height / l.tileHeight);
        for (const [col, row] of [[0, 0], [cols - 1, rows - 1]]) {
          const tile = await s.readTile(i, col, row);
          assert.equal(tile.width, Math.min(l.tileWidth, l.width - col * l.tileWidth));
          assert.equal(tile.height, Math.min(l.tileHeight, l.height - row * l.tileHeight));
          assert.equal(tile.data.length, tile.width * tile.height * 3);
        }
        const enc = await s.readEncodedTile(i, 0, 0);
        if (c.compression === 'jpeg') {
          assert.ok(enc, 'JPEG levels pass tiles through');
          assert.equal(enc.mime, 'image/jpeg');
          assert.deepEqual([enc.bytes[0], enc.bytes[1], enc.bytes[enc.bytes.length - 2], enc.bytes[enc.bytes.length - 1]], [0xff, 0xd8, 0xff, 0xd9]);
        } else assert.equal(enc, null, 'non-JPEG tiles are not passed through');
      }
      for (const name of c.associated) {
        const a = await s.readAssociated(name);
        assert.ok(a.width > 0 && a.height > 0 && a.data.length === a.width * a.height * 3, name);
      }
    } finally {
      await s.close();
    }
  });
}

test('driver: the info directory (not a slide) is NOT_FOUND', { skip: SKIP_NO_SLIDES }, async () => {
  await assert.rejects(openSlide(join(SHARED_SLIDES, 'info')), (e: unknown) => e instanceof SlideError && e.code === 'NOT_FOUND' && /directory/.test(e.message));
});

/** Every file under ../shared/slides (recursively), relative paths. */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

function hasDicmMagic(path: string): boolean {
  const b = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try { readSync(fd, b, 0, 4, 128); } finally { closeSync(fd); }
  return b.toString('latin1') === 'DICM';
}

function hasTiffMagic(path: string): boolean {
  const b = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try { readSync(fd, b, 0, 4, 0); } finally { closeSync(fd); }
  const bo = b.toString('latin1', 0, 2);
  const v = bo === 'II' ? b.readUInt16LE(2) : bo === 'MM' ? b.readUInt16BE(2) : 0;
  return v === 42 || v === 43;
}

test('driver: every TIFF/BigTIFF file in ../shared/slides has a case; every other file is UNSUPPORTED_FORMAT', { skip: SKIP_NO_SLIDES }, async () => {
  const files = allFiles(SHARED_SLIDES);
  const tiffs = files.filter(hasTiffMagic).map((f) => relative(SHARED_SLIDES, f)).sort();
  const covered = new Set(CASES.map((c) => c.file));
  const missing = tiffs.filter((f) => !covered.has(f));
  assert.deepEqual(missing, [], `TIFF-family files without a driver case in test/slides/drivers.test.ts: ${missing.join(', ')}`);
  const stale = [...covered].filter((f) => !tiffs.includes(f));
  assert.deepEqual(stale, [], `driver cases whose file is missing or not a TIFF: ${stale.join(', ')}`);
  const others = files.filter((f) => !hasTiffMagic(f) && !hasDicmMagic(f));
  assert.ok(others.length >= 5, `expected the shared non-TIFF, non-DICOM files (SOURCES.md, info dumps), found ${others.length}`);
  for (const f of others) {
    let err: unknown;
    try { await (await openSlide(f)).close(); } catch (e) { err = e; }
    assert.ok(err instanceof SlideError, `${f}: expected UNSUPPORTED_FORMAT, got ${err === undefined ? 'success' : String(err)}`);
    assert.equal(err.code, 'UNSUPPORTED_FORMAT', `${f}: ${err.message}`);
    assert.ok(err.message.includes(f), `message names the file: ${err.message}`);
  }
});

/**
 * The heatmap TIFF exports (main/engine/export/heatmap-tiff.ts), read back by independent readers:
 * - float32 pyramid: PIL (libtiff), the vips CLI (rawsave of each page) and geotiff.js give back level 0 bit for
 *   bit (NaN stays NaN, denormals and ±1e30 survive) and the reduced levels equal the NaN-aware 2×2 means; our
 *   own TIFF layer (main/engine/tiff, which parses float TIFFs but does not decode them) sees the geometry, and its
 *   raw chunks inflate to the same tiles; the sidecar carries the geometry.
 * - RGBA pyramid: OpenSlide opens it as a generic tiled TIFF with the slide-aligned size, levels and µm/px, and its
 *   pixels are the viewer's colours where the map is and transparent elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import { writeHeatmapFloatTiff, writeHeatmapRgbaTiff, reduceNanMean, rgbaDownsample, sidecarPath } from '../../main/engine/export/index.js';
import { TiffFile } from '../../main/engine/tiff/index.js';
import { colormapLut } from '../../main/contract/colormap.js';
import { firstFloatMismatch, hasVips, makeGrid, pyRef, skipNoPython, viewerPaint, vips, vipsheader } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-export-tiff-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// 600 rows × 700 cols: three levels (700×600, 350×300, 175×150) with 256² tiles, odd edges on level 2
const SPECIAL = [1e-42, -1e30, 1e30, 0, -0, 3.4028234663852886e38];
const grid = makeGrid(600, 700, [1000, 2000], [224, 224], (r, c) => {
  if (r >= 100 && r < 180 && c >= 50 && c < 300) return NaN; // not analysed
  if (r === 599 && c < SPECIAL.length) return SPECIAL[c];
  return Math.sin(r * 0.05) * Math.cos(c * 0.031) * 3.7 + ((r * 7 + c * 13) % 11) * 1e-3;
});
grid.meta = { dir, method: 'gradcam', layer: 'layer4', model: 'probe', signed: false, displayScale: 3.5 };
// an analysis sidecar beside the map, as `glassbox analyze` writes it
writeFileSync(join(dir, 'heatmap.json'), JSON.stringify({ format: 'glassbox-heatmap', class: 'tumor', class_index: 1, stride: 32, cell_size_um: [112, 112], model: { name: 'probe' }, layer: 'layer4', display_scale: 3.5 }));

const floatOut = join(dir, 'map.tif');
let written: Awaited<ReturnType<typeof writeHeatmapFloatTiff>>;

test('float TIFF: three levels, sidecar with the geometry, written atomically', async () => {
  written = await writeHeatmapFloatTiff(grid, floatOut);
  assert.deepEqual(written.levels.map((l) => [l.width, l.height, l.downsample]), [[700, 600, 1], [350, 300, 2], [175, 150, 4]]);
  const side = JSON.parse(readFileSync(sidecarPath(floatOut), 'utf8'));
  assert.equal(side.format, 'glassbox-heatmap-tiff');
  assert.deepEqual(side.origin_px, [1000, 2000]);
  assert.deepEqual(side.cell_size_px, [224, 224]);
  assert.deepEqual(side.cell_size_um, [112, 112]);
  assert.equal(side.stride, 32);
  assert.equal(side.layer, 'layer4');
  assert.equal(side.class, 'tumor');
  assert.deepEqual(side.model, { name: 'probe' });
  assert.deepEqual(side.value_range, [Math.fround(-1e30), 3.4028234663852886e38]);
  assert.equal(side.analysis.format, 'glassbox-heatmap', 'the analysis sidecar is kept verbatim');
});

test('float TIFF: our TIFF layer parses it; raw chunks inflate to the values', async () => {
  const tf = await TiffFile.open(floatOut);
  try {
    assert.equal(tf.ifds.length, 3);
    const ims = tf.ifds.map((i) => tf.image(i));
    assert.deepEqual(ims.map((i) => [i.width, i.height, i.isReduced]), [[700, 600, false], [350, 300, true], [175, 150, true]]);
    const im = ims[0];
    assert.equal(im.sampleFormat, 'float');
    assert.equal(im.bitsPerSample, 32);
    assert.equal(im.samplesPerPixel, 1);
    assert.ok(im.tiled && im.chunkWidth === 256 && im.chunksAcross === 3 && im.chunksDown === 3);
    // the sidecar again in ImageDescription, 7-bit ASCII (× · … as JSON \u escapes)
    assert.ok(/^[\x20-\x7e\n]*$/.test(im.description), 'ASCII only');
    assert.deepEqual(JSON.parse(im.description), JSON.parse(readFileSync(sidecarPath(floatOut), 'utf8')));
    // the bottom-right tile (partial: 188 × 88 of 256²), row 599 holds the special values at cols 512+…
    const t = inflateSync(await im.readChunk(im.chunkIndex(2, 2)));
    const f = new Float32Array(t.buffer, t.byteOffset, 256 * 256);
    for (let y = 0; y < 88; y++) for (let x = 0; x < 188; x++) {
      const want = grid.values[(512 + y) * 700 + 512 + x];
      assert.ok(Object.is(f[y * 256 + x], want) || (Number.isNaN(want) && Number.isNaN(f[y * 256 + x])), `tile (2,2) [${y},${x}]`);
    }
  } finally {
    await tf.close();
  }
});

test('an aborted TIFF write leaves nothing behind', async () => {
  const out = join(dir, 'aborted.tif');
  const ac = new AbortController();
  await assert.rejects(
    writeHeatmapFloatTiff(grid, out, { signal: ac.signal, onProgress: (done) => { if (done === 3) ac.abort(); } }),
    (e: unknown) => (e as { code?: string }).code === 'ABORTED' && /writing .*aborted\.tif: aborted/.test((e as Error).message),
  );
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('aborted')), []);
});

test('reduceNanMean: mean of the finite values of each 2×2 block, odd edges, all-NaN stays NaN', () => {
  const v = new Float32Array([1, 3, NaN, 5, 7, NaN, NaN, NaN, NaN, 2, 4, 6, 8, 10, 12]); // 3 rows × 5 cols
  const r = reduceNanMean(v, 3, 5);
  assert.equal(r.rows, 2);
  assert.equal(r.cols, 3);
  assert.deepEqual([...r.values], [2, 5, 4.5, 5, 9, 12]);
  const allNan = reduceNanMean(new Float32Array([NaN, NaN, NaN, NaN]), 2, 2);
  assert.ok(Number.isNaN(allNan.values[0]));
});

test('float TIFF: PIL (libtiff) reads every level back bit for bit', { skip: skipNoPython() }, () => {
  const pages = pyRef<Array<{ width: number; height: number; mode: string }>>('pil-float', floatOut, dir);
  assert.deepEqual(pages.map((p) => [p.width, p.height, p.mode]), [[700, 600, 'F'], [350, 300, 'F'], [175, 150, 'F']]);
  let level = { values: grid.values, rows: 600, cols: 700 };
  for (let i = 0; i < 3; i++) {
    const b = readFileSync(join(dir, `page${i}.f32`));
    const got = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    assert.equal(firstFloatMismatch(got, level.values), -1, `level ${i} differs`);
    level = reduceNanMean(level.values, level.rows, level.cols);
  }
});

test('float TIFF: vips sees a float pyramid with cell-sized resolution and the same values', { skip: hasVips() ? false : 'vips CLI not installed: the PIL and geotiff.js checks stand' }, () => {
  const h = vipsheader(floatOut)!;
  assert.equal(h.format, 'float');
  assert.equal(h['n-pages'], '3');
  // vips reports pixels per mm: one cell is 112 µm
  assert.ok(Math.abs(Number(h.xres) / (1000 / 112) - 1) < 1e-5, `xres ${h.xres}`);
  const raw = join(dir, 'vips0.raw');
  vips(['rawsave', `${floatOut}[page=0]`, raw]);
  const b = readFileSync(raw);
  assert.equal(firstFloatMismatch(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)), grid.values), -1);
});

test('float TIFF: geotiff.js reads level 0 bit for bit', async () => {
  const tiff = await fromFile(floatOut);
  try {
    assert.equal(await tiff.getImageCount(), 3);
    const img = await tiff.getImage(0);
    const [band] = (await img.readRasters()) as unknown as Float32Array[];
    assert.equal(firstFloatMismatch(band, grid.values), -1);
  } finally {
    await (tiff as unknown as { close?: () => Promise<void> }).close?.();
  }
});

test('RGBA TIFF: the downsample is the largest power of two ≤ the cell, coarser past the pixel limit', () => {
  assert.equal(rgbaDownsample(100_000, 80_000, [224, 224]), 128);
  assert.equal(rgbaDownsample(100_000, 80_000, [16, 32]), 16);
  assert.equal(rgbaDownsample(100_000, 80_000, [0.5, 0.5]), 8, '2²⁸ px at most: 12,500 × 10,000 at 8');
  assert.equal(rgbaDownsample(1000, 1000, [0.5, 0.5]), 1);
});

test('RGBA TIFF: OpenSlide opens it slide-aligned, with the viewer colours where the map is', { skip: skipNoPython() }, async () => {
  const out = join(dir, 'map-rgba.tif');
  const paint = viewerPaint(3.5, 0.2, { opacity: 0.8 });
  const slide = { width: 100_000, height: 80_000, mpp: { x: 0.5, y: 0.5 } };
  const r = await writeHeatmapRgbaTiff(grid, out, paint, slide);
  assert.deepEqual([r.downsample, r.width, r.height, r.levels], [128, 782, 625, 3]);
  // a window over the grid's top-left corner: (1000, 2000) level-0 → (7.8, 15.6) px; cells are 1.75 px wide
  const os = pyRef<{ vendor: string; dimensions: number[]; levels: number[][]; mpp: Array<string | null>; resolution: string[]; rgba: string }>('openslide', out, '0', '0', '40', '40');
  assert.equal(os.vendor, 'generic-tiff');
  assert.deepEqual(os.dimensions, [782, 625]);
  assert.deepEqual(os.levels, [[782, 625], [391, 313], [196, 157]]);
  // 64 µm/px = 156.25 px/cm (OpenSlide 4 also reports it as openslide.mpp-x; 3.4 only shows the tags)
  assert.deepEqual(os.resolution.map(Number).slice(0, 2), [156.25, 156.25]);
  assert.equal(os.resolution[2], 'centimeter');
  if (os.mpp[0] !== null) assert.ok(Math.abs(Number(os.mpp[0]) - 64) < 1e-6, `mpp ${os.mpp}`);
  const px = Buffer.from(os.rgba, 'hex');
  const lut = colormapLut('viridis');
  let checked = 0;
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) {
    const cx = (x + 0.5) * 128, cy = (y + 0.5) * 128;
    const col = Math.floor((cx - 1000) / 224), row = Math.floor((cy - 2000) / 224);
    const p = (y * 40 + x) * 4;
    const v = row >= 0 && col >= 0 ? grid.values[row * 700 + col] : NaN;
    const pos = paint.position(v);
    if (pos === null) { assert.equal(px[p + 3], 0, `(${x},${y}) transparent`); continue; }
    const o = Math.round(pos * 255) * 4;
    // OpenSlide hands out premultiplied ARGB that openslide-python un-premultiplies: ±255/alpha rounding (≤ 2 at 204)
    assert.equal(px[p + 3], 204, `(${x},${y}) alpha`);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(px[p + k] - lut[o + k]) <= Math.ceil(255 / 204), `(${x},${y}) value ${v}: ${[...px.subarray(p, p + 3)]} vs ${[...lut.subarray(o, o + 3)]}`);
    checked++;
  }
  assert.ok(checked > 300, `${checked} coloured pixels checked`);
});

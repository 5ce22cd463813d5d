/**
 * Region crops (main/engine/export/crop.ts) on a synthetic slide (levels 1, 4, 16, 64; 0.5 µm/px):
 * - at a level's own downsample on its pixel grid the crop IS slide.readRegion at that level (bit for bit);
 * - at an in-between resolution (3 µm/px: read from level 1, resampled 1.5×) it matches a direct level-0 read
 *   shrunk 6× by sharp: both are band-limited resamplings of the same pixels, so they agree to JPEG error (the
 *   two levels are separately JPEG-coded, q90: ±3 each) wherever the 6-px neighbourhood is flat; at edges the
 *   two filters differ, so there only the overall mean |diff| is bounded;
 * - the burned-in scale bar is found in the pixels and has the chosen length (e.g. 200 µm = 67 px at 3 µm/px),
 *   in level-0 px when the slide's µm/px is unknown;
 * - the overlay changes pixels only where the map shows (finite, above threshold) and there by the viewer's blend;
 * - the outline is drawn on the geometry's edges only; PNG/TIFF carry the output resolution;
 * - bad requests (outside the slide, absurd µm/px, unknown µm/px, too large) fail with a clear message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeSyntheticSlide, type SyntheticSpec } from '../fixtures/synthetic-slide.js';
import { openSlide } from '../../main/engine/slide/index.js';
import type { Slide } from '../../main/engine/slide/types.js';
import { renderCrop, sampleGrid, ExportError, type CropOptions } from '../../main/engine/export/index.js';
import { chooseScaleBar } from '../../main/contract/scalebar.js';
import type { Geometry } from '../../main/engine/annotations/types.js';
import { makeGrid, viewerPaint, vipsheader, hasVips } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-export-crop-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const RED: [number, number, number] = [220, 30, 30];
const CROP_SPEC: SyntheticSpec = {
  width: 6000, height: 4000, mpp: 0.5, shareIdenticalTiles: true,
  regions: [
    { x: 1000, y: 800, w: 1600, h: 1200, shape: 'rect', fill: RED },
    { x: 3000, y: 500, w: 2000, h: 1500, shape: 'ellipse', fill: 'he-cellular' },
    { x: 500, y: 2400, w: 5000, h: 1200, shape: 'rect', fill: 'he-stroma' },
  ],
};
let slide: Slide;
const ready = (async () => {
  await writeSyntheticSlide(join(dir, 's.tif'), CROP_SPEC);
  slide = await openSlide(join(dir, 's.tif'));
})();
process.on('exit', () => void slide?.close());

const rect = (x: number, y: number, w: number, h: number): Geometry => ({ type: 'Polygon', coordinates: [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]] });
const decode = async (bytes: Uint8Array) => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
};
const crop = async (g: Geometry, o: Partial<CropOptions>) => renderCrop(slide, g, { format: 'png', ...o } as CropOptions);

test('at a level\'s downsample on its grid the crop is that level\'s region read, bit for bit', async () => {
  await ready;
  const r = await crop(rect(800, 600, 2400, 1800), { mpp: 2 }); // s = 4 = level 1
  assert.deepEqual([r.level, r.levelDownsample, r.resampled, r.width, r.height], [1, 4, false, 600, 450]);
  const got = await decode(r.bytes);
  const ref = await slide.readRegion(800, 600, 1, 600, 450);
  assert.ok(Buffer.from(got.data).equals(Buffer.from(ref.data)), 'crop ≠ readRegion(level 1)');
});

test('at 3 µm/px (level 1 resampled 1.5×) the crop matches a level-0 read shrunk 6×', async () => {
  await ready;
  const [x, y, w, h] = [900, 600, 3000, 2400];
  const r = await crop(rect(x, y, w, h), { mpp: 3 });
  assert.deepEqual([r.level, r.resampled, r.width, r.height], [1, true, 500, 400]);
  const got = await decode(r.bytes);
  const l0 = await slide.readRegion(x, y, 0, w, h);
  const ref = new Uint8Array(await sharp(l0.data, { raw: { width: w, height: h, channels: 3 } }).resize(500, 400, { kernel: 'lanczos3' }).raw().toBuffer());
  // flat neighbourhoods: everything within reach of either resampling chain in one fill (crop: level 1's 4-px box
  // means + Lanczos-3 over 1.5 level-1 px ≈ 22 level-0 px; reference: vips' box pre-shrink + Lanczos-3 ≈ 24 px)
  const M = 30;
  const flat = (i: number, j: number) => {
    const cx = x + (i + 0.5) * 6, cy = y + (j + 0.5) * 6;
    const nearRect = cx >= 1000 - M && cx < 2600 + M && cy >= 800 - M && cy < 2000 + M;
    const inside = cx >= 1000 + M && cx < 2600 - M && cy >= 800 + M && cy < 2000 - M;
    const outside = !nearRect && cy < 2400 - M && ((cx - 4000) / (1000 + M)) ** 2 + ((cy - 1250) / (750 + M)) ** 2 > 1;
    return inside || outside;
  };
  let flatN = 0, flatMax = 0, sum = 0;
  for (let j = 0; j < 400; j++) for (let i = 0; i < 500; i++) {
    for (let k = 0; k < 3; k++) {
      const d = Math.abs(got.data[(j * 500 + i) * 3 + k] - ref[(j * 500 + i) * 3 + k]);
      sum += d;
      if (flat(i, j)) flatMax = Math.max(flatMax, d);
    }
    if (flat(i, j)) flatN++;
  }
  const mad = sum / (500 * 400 * 3);
  assert.ok(flatN > 50_000, `${flatN} flat pixels`);
  assert.ok(flatMax <= 6, `flat max |diff| ${flatMax} (two JPEG codings of ±3)`);
  assert.ok(mad <= 2, `mean |diff| ${mad.toFixed(3)} (1.14 here; a crop misplaced by one output px gives 2.6)`);
});

/** The longest run of near-black pixels in any row of the bottom quarter, and the row holding it. */
function findBar(img: { data: Uint8Array; width: number; height: number }): { length: number; row: number; x: number } {
  let best = { length: 0, row: -1, x: -1 };
  for (let y = Math.floor(img.height * 0.75); y < img.height; y++) {
    let run = 0;
    for (let x = 0; x <= img.width; x++) {
      const p = (y * img.width + x) * 3;
      const black = x < img.width && img.data[p] < 40 && img.data[p + 1] < 40 && img.data[p + 2] < 40;
      if (black) run++;
      else { if (run > best.length) best = { length: run, row: y, x: x - run }; run = 0; }
    }
  }
  return best;
}

test('the scale bar is burned in with the chosen length, its label above it', async () => {
  await ready;
  const r = await crop(rect(900, 600, 3000, 2400), { mpp: 3, scaleBar: chooseScaleBar });
  assert.deepEqual(r.scaleBar, { length: 200, unit: 'um', widthPx: 67, label: '200 µm' }); // 0.3 × 500 px = 150 px → 450 µm → 200 µm
  const img = await decode(r.bytes);
  const bar = findBar(img);
  assert.equal(bar.length, Math.round(200 / 3), 'bar pixels = 200 µm ÷ 3 µm/px');
  // the label: dark text pixels in the rows just above the bar, over its left part
  let dark = 0;
  for (let y = Math.max(0, bar.row - 30); y < bar.row - 3; y++) for (let x = bar.x; x < bar.x + 60; x++) if (img.data[(y * img.width + x) * 3] < 80) dark++;
  assert.ok(dark > 30, `label pixels: ${dark} (librsvg text rendering)`);
  // the built-in stroke font (for systems where librsvg finds no font): the same bar, a label drawn with paths
  const stroked = await decode((await crop(rect(900, 600, 3000, 2400), { mpp: 3, scaleBar: chooseScaleBar, labelFont: 'paths' })).bytes);
  const sbar = findBar(stroked);
  assert.deepEqual([sbar.length, sbar.row, sbar.x], [bar.length, bar.row, bar.x]);
  let strokes = 0;
  for (let y = Math.max(0, bar.row - 30); y < bar.row - 3; y++) for (let x = bar.x; x < bar.x + 60; x++) if (stroked.data[(y * stroked.width + x) * 3] < 80) strokes++;
  assert.ok(strokes > 30, `stroke-font label pixels: ${strokes}`);
  assert.ok(Buffer.compare(Buffer.from(stroked.data), Buffer.from(img.data)) !== 0, 'the stroke font differs from the SVG text');
  // without a bar nothing is black there
  assert.equal(findBar(await decode((await crop(rect(900, 600, 3000, 2400), { mpp: 3 })).bytes)).length, 0);
});

test('without the slide\'s µm/px: a downsample, and the bar in level-0 px', async () => {
  await ready;
  const noMpp = Object.create(slide, { properties: { value: { ...slide.properties, mpp: null } } }) as Slide;
  await assert.rejects(renderCrop(noMpp, rect(900, 600, 3000, 2400), { mpp: 3, format: 'png' }), /µm\/px is unknown.*downsample/);
  const r = await renderCrop(noMpp, rect(900, 600, 3000, 2400), { downsample: 6, format: 'png', scaleBar: chooseScaleBar });
  assert.equal(r.mpp, null);
  assert.deepEqual(r.scaleBar, { length: 500, unit: 'px', widthPx: 83, label: '500 px' });
  assert.equal(findBar(await decode(r.bytes)).length, 83);
});

test('the overlay changes pixels only where the map shows, by the viewer\'s blend', async () => {
  await ready;
  // 100-px cells over (500, 500)…(3500, 2500); NaN in a diagonal pattern, values ≤ 0.1 hidden by the threshold
  const grid = makeGrid(20, 30, [500, 500], [100, 100], (r, c) => ((r + c) % 5 === 0 ? NaN : Math.sin(r / 3) * Math.cos(c / 4)));
  const paint = viewerPaint(1, 0.1, { opacity: 0.6, smooth: false });
  const g = rect(400, 400, 3200, 2400);
  const plain = await decode((await crop(g, { mpp: 4 })).bytes);
  const r = await crop(g, { mpp: 4, overlay: { grid, paint } });
  const over = await decode(r.bytes);
  let shown = 0, changedOutside = 0, wrongBlend = 0;
  for (let j = 0; j < over.height; j++) for (let i = 0; i < over.width; i++) {
    const x = 400 + (i + 0.5) * 8, y = 400 + (j + 0.5) * 8;
    const col = Math.floor((x - 500) / 100), row = Math.floor((y - 500) / 100);
    const v = col >= 0 && row >= 0 && col < 30 && row < 20 ? grid.values[row * 30 + col] : NaN;
    const pos = paint.position(v);
    const p = (j * over.width + i) * 3;
    if (pos === null) { if (over.data[p] !== plain.data[p] || over.data[p + 1] !== plain.data[p + 1] || over.data[p + 2] !== plain.data[p + 2]) changedOutside++; continue; }
    shown++;
    const o = Math.round(pos * 255) * 4;
    for (let k = 0; k < 3; k++) if (over.data[p + k] !== Math.round(paint.lut[o + k] * 0.6 + plain.data[p + k] * 0.4)) wrongBlend++;
  }
  assert.equal(changedOutside, 0, 'pixels changed where the map is NaN, hidden or absent');
  assert.equal(wrongBlend, 0, 'colour·0.6 + slide·0.4');
  assert.equal(r.overlayPixels, shown);
  assert.ok(shown > 20_000, `${shown} pixels coloured`);
});

test('smooth sampling: bilinear between cell centres, NaN neighbours left out, nothing where the nearest cell is NaN', () => {
  const g = makeGrid(2, 3, [0, 0], [10, 10], (r, c) => [[0, 4, NaN], [8, 12, 20]][r][c]);
  assert.equal(sampleGrid(g, 0.5, 0.5, true), 0, 'a cell centre is its value');
  assert.equal(sampleGrid(g, 1, 1, true), (0 + 4 + 8 + 12) / 4, 'the corner of four cells is their mean');
  assert.equal(sampleGrid(g, 1, 0.5, true), 2, 'halfway between two centres');
  assert.equal(sampleGrid(g, 1.9, 0.9, false), 4, 'nearest: the cell under the point');
  assert.equal(sampleGrid(g, 2, 1, true), (4 + 12 + 20) / 3, 'the NaN neighbour is left out of the weights');
  assert.ok(Number.isNaN(sampleGrid(g, 2.5, 0.5, true)), 'a NaN cell stays NaN');
  assert.ok(Number.isNaN(sampleGrid(g, 3.1, 0.5, true)), 'outside the grid');
});

test('the outline is drawn along the geometry only', async () => {
  await ready;
  const g = rect(1200, 1000, 1200, 800); // inside the red rectangle: red all around
  const opts: Partial<CropOptions> = { mpp: 4, margin: 20 };
  const plain = await decode((await crop(g, opts)).bytes);
  const lined = await decode((await crop(g, { ...opts, outline: { color: [0, 255, 255], width: 2 } })).bytes);
  assert.deepEqual([lined.width, lined.height], [190, 140]); // 1200/8 + 2·20 wide
  let onEdge = 0, offEdge = 0;
  for (let j = 0; j < lined.height; j++) for (let i = 0; i < lined.width; i++) {
    const p = (j * lined.width + i) * 3;
    const changed = Math.abs(lined.data[p + 1] - plain.data[p + 1]) > 20;
    const dx = Math.min(Math.abs(i + 0.5 - 20), Math.abs(i + 0.5 - 170)), dy = Math.min(Math.abs(j + 0.5 - 20), Math.abs(j + 0.5 - 120));
    const nearEdge = (dx <= 2 && j >= 18 && j <= 122) || (dy <= 2 && i >= 18 && i <= 172);
    if (changed && nearEdge) onEdge++;
    if (changed && !nearEdge) offEdge++;
  }
  assert.ok(onEdge > 2 * (150 + 100) * 1.5, `${onEdge} outline pixels`);
  assert.equal(offEdge, 0);
});

test('PNG and TIFF carry the output resolution; TIFF pixels equal PNG pixels', async () => {
  await ready;
  const g = rect(800, 600, 2400, 1800);
  const png = await crop(g, { mpp: 2 });
  const tif = await crop(g, { mpp: 2, format: 'tiff' });
  const m = await sharp(png.bytes).metadata();
  assert.ok(Math.abs((m.density ?? 0) - 25400 / 2) < 1, `PNG density ${m.density} dpi`);
  assert.equal((await sharp(tif.bytes).metadata()).format, 'tiff');
  assert.ok(Buffer.from((await decode(tif.bytes)).data).equals(Buffer.from((await decode(png.bytes)).data)));
  if (hasVips()) {
    const p = join(dir, 'c.tif');
    writeFileSync(p, tif.bytes);
    const h = vipsheader(p)!;
    assert.ok(Math.abs(Number(h.xres) - 500) < 1e-6, `TIFF xres ${h.xres} px/mm (2 µm/px = 500 px/mm)`);
  }
});

test('clear errors: outside the slide, absurd µm/px, too large, both or neither resolution', async () => {
  await ready;
  await assert.rejects(crop(rect(7000, 100, 500, 500), { mpp: 2 }), (e: unknown) => e instanceof ExportError && e.code === 'OUT_OF_SLIDE' && /outside the slide \(6000×4000/.test(e.message));
  await assert.rejects(crop(rect(100, 100, 500, 500), { mpp: 0.01 }), /enlarge the slide's finest level more than 4×; the finest allowed is 0\.125 µm\/px/);
  await assert.rejects(crop(rect(100, 100, 500, 500), { mpp: -1 }), /positive number/);
  await assert.rejects(crop(rect(0, 0, 6000, 4000), { mpp: 0.125 }), /24000×16000 px crop is too large/);
  await assert.rejects(crop(rect(0, 0, 10, 10), {}), /exactly one/);
  const r = await crop(rect(5800, 3900, 400, 400), { mpp: 2 });
  assert.ok(r.clipped);
  assert.deepEqual([r.width, r.height], [50, 25]);
});

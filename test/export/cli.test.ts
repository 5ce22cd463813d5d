/**
 * `glassbox export` end to end on a synthetic slide (6000×4000, 0.5 µm/px) with a QuPath GeoJSON (written by the
 * annotations engine) and a heatmap folder as `glassbox analyze` writes it: crops (+ crops.csv), CSV, ASAP XML, the float32 and RGBA heatmap TIFFs,
 * progress on stderr; then the errors, each one line naming the problem, with nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { encodeNpy } from '../../main/engine/explain/npy.js';
import { newAnnotation, stringifyGeoJSON } from '../../main/engine/annotations/index.js';
import { main } from '../../app/cli/main.js';
import { cli, oneLineError } from '../cli/run-cli.js';
import { firstFloatMismatch } from './helpers.js';
import { colormapLut } from '../../main/contract/colormap.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-export-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const SLIDE = join(dir, 'slide.tif');
const HM = join(dir, 'analysis');
const GJ = join(dir, 'regions.geojson');
const OTHER = join(dir, 'other.tif');

// the map: 40×60 cells of 100 px from (0, 0); NaN over the left quarter
const ROWS = 40, COLS = 60;
const values = new Float32Array(ROWS * COLS).map((_, i) => (i % COLS < 15 ? NaN : Math.sin(i / 37) * 2));
// probabilities [rows, cols, 2] (normal, tumor): tumor rises left to right
const probs = new Float32Array(ROWS * COLS * 2).map((_, j) => { const c = Math.floor(j / 2) % COLS; const t = c / (COLS - 1); return j % 2 ? t : 1 - t; });

const ready = (async () => {
  await writeSyntheticSlide(SLIDE, {
    width: 6000, height: 4000, mpp: 0.5, shareIdenticalTiles: true,
    regions: [{ x: 1000, y: 800, w: 1600, h: 1200, shape: 'rect', fill: [220, 30, 30] }, { x: 3000, y: 500, w: 2000, h: 1500, shape: 'ellipse', fill: 'he-cellular' }],
  });
  await writeSyntheticSlide(OTHER, { width: 1000, height: 800, mpp: 0.5, shareIdenticalTiles: true, regions: [] });
  mkdirSync(HM);
  writeFileSync(join(HM, 'heatmap.npy'), encodeNpy({ data: values, dims: [ROWS, COLS] }));
  writeFileSync(join(HM, 'probabilities.npy'), encodeNpy({ data: probs, dims: [ROWS, COLS, 2] }));
  writeFileSync(join(HM, 'heatmap.json'), JSON.stringify({
    format: 'glassbox-heatmap', format_version: 1, class: 'tumor', class_index: 1, classes: ['normal', 'tumor'], method: 'gradcam', layer: 'layer4',
    stride: 32, signed: false, origin_px: [0, 0], cell_size_px: [100, 100], cell_size_um: [50, 50], shape: [ROWS, COLS], display_scale: 1.9,
    slide: { path: SLIDE, sha256: 'x', width: 6000, height: 4000, mpp: [0.5, 0.5] }, model: { name: 'probe', sha256: 'y' },
  }));
  // QuPath GeoJSON written by the annotations engine (level-0 px): a rectangle, a polygon with a hole, a point
  const tumor = { name: 'Tumor', color: [200, 0, 0] as [number, number, number] };
  writeFileSync(GJ, stringifyGeoJSON([
    newAnnotation({ id: '6d5e1c1a-0000-4000-8000-000000000001', name: 'Tumour A', classification: tumor, shape: { kind: 'rectangle', x: 1200, y: 1000, width: 1200, height: 800 } }),
    newAnnotation({
      id: '6d5e1c1a-0000-4000-8000-000000000002', name: 'Ring', classification: { name: 'Stroma', color: [0, 150, 0] }, shape: { kind: 'polygon' },
      geometry: { type: 'Polygon', coordinates: [[[3200, 800], [4800, 800], [4800, 1800], [3200, 1800], [3200, 800]], [[3600, 1100], [3600, 1500], [4400, 1500], [4400, 1100], [3600, 1100]]] },
    }),
    newAnnotation({ id: '6d5e1c1a-0000-4000-8000-000000000003', name: 'Spot', classification: tumor, shape: { kind: 'point' }, geometry: { type: 'Point', coordinates: [5000, 3000] } }),
  ]));
})();

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(['export', ...args], { out: (s) => { out += s + '\n'; }, err: (s) => { err += s + '\n'; } });
  return { code, out, err };
}

test('export end to end: crops with overlay and scale bar, crops.csv, CSV, ASAP, float and RGBA TIFFs', async () => {
  await ready;
  const out = join(dir, 'out');
  mkdirSync(out);
  const r = await cli(['export', SLIDE, '--annotations', GJ, '--crops', join(out, 'crops'), '--mpp', '2', '--overlay', HM, '--no-smooth',
    '--csv', join(out, 'm.csv'), '--asap', join(out, 'a.xml'), '--heatmap-tiff', join(out, 'map.tif'), '--rgba', join(out, 'map-rgba.tif')]);
  assert.equal(r.code, 0, r.stderr);
  // progress and results on stderr, one line per crop
  assert.match(r.stderr, /crop 1\/3 annotation 1 'Tumour A' \(Tumor\) → 001_Tumour_A_6d5e1c1a\.png \(300×200 px at 2 µm\/px, bar 100 µm\)/);
  assert.match(r.stderr, /crop 3\/3 annotation 3 'Spot'/);
  assert.match(r.stderr, /heatmap TIFF: 100% \(\d+\/\d+ tiles\)/);
  const crops = readdirSync(join(out, 'crops')).sort();
  assert.deepEqual(crops, ['001_Tumour_A_6d5e1c1a.png', '002_Ring_6d5e1c1a.png', '003_Spot_6d5e1c1a.png', 'crops.csv']);
  const index = readFileSync(join(out, 'crops', 'crops.csv'), 'utf8').trim().split('\n');
  assert.equal(index.length, 4);
  assert.match(index[1], /^001_Tumour_A_6d5e1c1a\.png,6d5e1c1a-0000-4000-8000-000000000001,Tumour A,Tumor,1200,1000,1200,800,2,4,300,200,100 µm,false$/);
  // crop 1: 1200×800 level-0 px at 2 µm/px (4 level-0 px per px) = 300×200; inside the red rect; map values there
  const { data, info } = await sharp(join(out, 'crops', '001_Tumour_A_6d5e1c1a.png')).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [300, 200, 3]);
  const px = (x: number, y: number) => [...data.subarray((y * 300 + x) * 3, (y * 300 + x) * 3 + 3)];
  // the viewer's defaults: mode 'for', range 0…display_scale (1.9), threshold 5% of it, opacity 0.6
  let tinted = 0, wrong = 0;
  for (let y = 5; y < 140; y++) for (let x = 5; x < 295; x++) {
    const v = values[Math.floor((1000 + (y + 0.5) * 4) / 100) * COLS + Math.floor((1200 + (x + 0.5) * 4) / 100)];
    const shown = Number.isFinite(v) && v >= 0.05 * 1.9;
    const [a, b, c] = px(x, y);
    const isRed = Math.abs(a - 220) <= 4 && Math.abs(b - 30) <= 4 && Math.abs(c - 30) <= 4;
    if (shown === isRed) wrong++;
    if (shown) tinted++;
  }
  assert.equal(wrong, 0, 'tinted exactly where the map shows');
  assert.ok(tinted > 5000, `${tinted} tinted pixels`);
  // the 100 µm bar: 50 px of black in the bottom quarter
  let longest = 0;
  for (let y = 150; y < 200; y++) { let run = 0; for (let x = 0; x < 300; x++) { const [a, b, c] = px(x, y); run = a < 40 && b < 40 && c < 40 ? run + 1 : 0; longest = Math.max(longest, run); } }
  assert.equal(longest, 50);
  // the point got 64 px of context
  assert.deepEqual(((await sharp(join(out, 'crops', '003_Spot_6d5e1c1a.png')).metadata())).width, 64);
  // CSV and ASAP from the annotations engine
  const csv = readFileSync(join(out, 'm.csv'), 'utf8');
  assert.equal(csv.trim().split('\n').length, 4, csv);
  assert.match(csv, /Tumour A/);
  const xml = readFileSync(join(out, 'a.xml'), 'utf8');
  assert.match(xml, /<ASAP_Annotations>/);
  assert.match(xml, /Tumour A/);
  // the float TIFF's level 0 holds the raw values (read back by geotiff.js), its sidecar the geometry
  const { fromFile } = await import('geotiff');
  const tiff = await fromFile(join(out, 'map.tif'));
  const [band] = (await (await tiff.getImage(0)).readRasters()) as unknown as Float32Array[];
  assert.equal(firstFloatMismatch(band, values), -1);
  const side = JSON.parse(readFileSync(join(out, 'map.json'), 'utf8'));
  assert.deepEqual([side.cell_size_um, side.stride, side.layer, side.class], [[50, 50], 32, 'layer4', 'tumor']);
  // the RGBA TIFF: the slide at downsample 64 (cells are 100 px): 94×63
  const m = await sharp(join(out, 'map-rgba.tif')).metadata();
  assert.deepEqual([m.width, m.height, m.channels], [94, 63, 4]);
  assert.match(r.stderr, /map-rgba\.tif: 94×63 px RGBA \(the slide at downsample 64, 32 µm\/px\)/);
});

test('--mode probability colours the class probability (0…1) in the RGBA TIFF', async () => {
  await ready;
  const out = join(dir, 'prob.tif');
  const r = await run([SLIDE, '--heatmap', HM, '--rgba', out, '--mode', 'probability', '--colormap', 'magma', '--opacity', '1', '--rgba-downsample', '64']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /magma, mode probability, range 0…1\.00, threshold 0\.0500, opacity 1/);
  const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  const lut = colormapLut('magma');
  let checked = 0;
  for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) {
    const col = Math.floor(((x + 0.5) * 64) / 100), row = Math.floor(((y + 0.5) * 64) / 100);
    if (row >= ROWS || col >= COLS) continue;
    const t = probs[(row * COLS + col) * 2 + 1];
    const p = (y * info.width + x) * 4;
    if (t < 0.05) { assert.equal(data[p + 3], 0); continue; }
    const o = Math.round(Math.fround(t) * 255) * 4;
    assert.deepEqual([...data.subarray(p, p + 4)], [lut[o], lut[o + 1], lut[o + 2], 255], `(${x}, ${y}) p=${t}`);
    checked++;
  }
  assert.ok(checked > 4000, `${checked}`);
});

test('export --help lists the flags; errors are one line, name the problem, and write nothing', async () => {
  await ready;
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--crops', '--mpp', '--overlay', '--heatmap-tiff', '--rgba', '--csv', '--asap', '--format']) assert.ok(help.out.includes(flag), flag);
  const out = join(dir, 'err');
  mkdirSync(out);
  const cases: Array<[string[], RegExp]> = [
    [[SLIDE], /nothing to export/],
    [[SLIDE, '--crops', join(out, 'c'), '--mpp', '2'], /--annotations FILE\.geojson is required/],
    [[SLIDE, '--annotations', join(dir, 'nope.geojson'), '--csv', join(out, 'x.csv')], /nope\.geojson: file not found/],
    [[SLIDE, '--annotations', GJ, '--crops', join(out, 'no', 'such', 'c'), '--mpp', '2'], /folder .*no\/such does not exist/],
    [[SLIDE, '--annotations', GJ, '--crops', join(out, 'c')], /needs --mpp R .* or --downsample D/],
    [[SLIDE, '--annotations', GJ, '--crops', join(out, 'c'), '--mpp', '-3'], /--mpp must be an output resolution in µm\/px/],
    [[SLIDE, '--annotations', GJ, '--crops', join(out, 'c'), '--mpp', '0.01'], /0\.01 µm\/px would enlarge .* finest allowed is 0\.125 µm\/px/],
    [[SLIDE, '--annotations', GJ, '--crops', join(out, 'c'), '--mpp', '2', '--overlay', join(dir, 'nowhere')], /--overlay .*nowhere: no such folder/],
    [[SLIDE, '--annotations', GJ, '--crops', join(out, 'c'), '--mpp', '2', '--format', 'jpeg'], /--format must be png or tiff/],
    [[SLIDE, '--heatmap-tiff', join(out, 'h.tif')], /need --heatmap DIR/],
    [[join(dir, 'missing.tif'), '--heatmap', HM, '--heatmap-tiff', join(out, 'h.tif')], /missing\.tif/],
    [[OTHER, '--heatmap', HM, '--heatmap-tiff', join(out, 'h.tif')], /heatmap in .*analysis was made on a 6000×4000 px slide \(slide\.tif\), but other\.tif is 1000×800 px/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    oneLineError({ code: r.code, stderr: r.err.split('\n').filter((l) => l.startsWith('glassbox export:')).join('\n') + '\n' }, 'export', re);
    assert.notEqual(r.code, 0);
  }
  assert.deepEqual(readdirSync(out), [], 'nothing written by a failed export');
});

test('an annotation outside the slide fails before anything is written; existing outputs need --force', async () => {
  await ready;
  const gj = join(dir, 'outside.geojson');
  const doc = JSON.parse(readFileSync(GJ, 'utf8'));
  doc.features[1].geometry = { type: 'Polygon', coordinates: [[[7000, 100], [7500, 100], [7500, 600], [7000, 100]]] };
  writeFileSync(gj, JSON.stringify(doc));
  const out = join(dir, 'outside');
  const r = await run([SLIDE, '--annotations', gj, '--crops', out, '--mpp', '4']);
  assert.equal(r.code, 1);
  assert.match(r.err, /glassbox export: annotation 2 'Ring' \(Stroma\) lies outside the slide: \(7000, 100\)–\(7500, 600\) vs the slide \(6000×4000 px at level 0\) \(is it from another slide\?\)/);
  assert.equal(existsSync(out), false);
  // a CSV that exists is kept without --force
  const csv = join(dir, 'keep.csv');
  writeFileSync(csv, 'mine');
  const again = await run([SLIDE, '--annotations', GJ, '--csv', csv]);
  assert.match(again.err, /keep\.csv already exists: pass --force/);
  assert.equal(readFileSync(csv, 'utf8'), 'mine');
  assert.equal((await run([SLIDE, '--annotations', GJ, '--csv', csv, '--force'])).code, 0);
  assert.ok(statSync(csv).size > 4);
  // --only picks annotations by name, class or id
  const some = join(dir, 'some');
  const only = await run([SLIDE, '--annotations', GJ, '--only', 'Ring,6d5e1c1a-0000-4000-8000-000000000003', '--crops', some, '--downsample', '16', '--no-scale-bar', '--format', 'tiff']);
  assert.equal(only.code, 0, only.err);
  assert.deepEqual(readdirSync(some).sort(), ['001_Ring_6d5e1c1a.tif', '002_Spot_6d5e1c1a.tif', 'crops.csv']);
  assert.match((await run([SLIDE, '--annotations', GJ, '--only', 'Nope', '--csv', join(dir, 'n.csv')])).err, /--only: no annotation has the id, name or class 'Nope'/);
});

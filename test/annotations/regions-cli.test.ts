/**
 * `glassbox regions` end to end: `glassbox analyze` runs the geometry probe (a model whose map is the red / blue
 * fraction of each cell, test/analysis/probe.ts) over a synthetic slide with red and blue shapes at known level-0
 * places (a rectangle, an elliptic ring whose hole is glass, a blue rectangle); `glassbox regions` turns the map into
 * GeoJSON polygons that must overlap each shape with IoU ≥ 0.9 (the shapes are 25–40 cells wide; a one-cell shift
 * of every edge gives IoU ≈ 0.85–0.9 and fails), keep the ring's hole, and lie exactly on the cells ≥ the threshold.
 * Clear one-line errors for bad usage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { writeProbePackage } from '../analysis/probe.js';
import { cli, oneLineError } from '../cli/run-cli.js';
import { main } from '../../app/cli/main.js';
import { decodeNpy } from '../../main/engine/explain/npy.js';
import { fromGeoJSON, type Position } from '../../main/engine/annotations/index.js';
import { inside } from './heatmap-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-regions-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const PATCH = 64, STRIDE = 8; // model 64 px at 1 µm/px on a 1 µm/px slide: cells of 8 px
const FULL = (200 - 30) / 255 / ((PATCH / STRIDE) ** 2); // map value of an all-red cell
const RED: [number, number, number] = [200, 30, 30], BLUE: [number, number, number] = [30, 30, 200], GLASS: [number, number, number] = [255, 255, 255];

interface Shape { test: (x: number, y: number) => boolean; box: [number, number, number, number] }
const rectShape = (x: number, y: number, w: number, h: number): Shape => ({ test: (px, py) => px >= x && px < x + w && py >= y && py < y + h, box: [x, y, x + w, y + h] });
const inEllipse = (x: number, y: number, w: number, h: number) => (px: number, py: number) => ((px - x - w / 2) / (w / 2)) ** 2 + ((py - y - h / 2) / (h / 2)) ** 2 <= 1;
const ringShape: Shape = { test: (px, py) => inEllipse(600, 150, 261, 203)(px, py) && !inEllipse(680, 210, 101, 83)(px, py), box: [600, 150, 861, 353] };
const SHAPES = { red: [rectShape(101, 93, 321, 243), ringShape], blue: [rectShape(203, 509, 197, 151)] };

const slide = join(dir, 'probe.tif');
const heat = join(dir, 'analysis');
const probe = writeProbePackage(join(dir, 'probe'), { patch: PATCH, stride: STRIDE, spacing: 1 });
let analysed: Promise<void> | null = null;
function analyse(): Promise<void> {
  analysed ??= (async () => {
    await writeSyntheticSlide(slide, {
      width: 1200, height: 800, mpp: 1, tileSize: 256, quality: 95, levels: [1, 4],
      regions: [
        { x: 101, y: 93, w: 321, h: 243, shape: 'rect', fill: RED },
        { x: 600, y: 150, w: 261, h: 203, shape: 'ellipse', fill: RED },
        { x: 680, y: 210, w: 101, h: 83, shape: 'ellipse', fill: GLASS },
        { x: 203, y: 509, w: 197, h: 151, shape: 'rect', fill: BLUE },
      ],
    });
    const r = await cli(['analyze', slide, '--model', probe, '--out', heat, '--no-cache', '--min-tissue', '0', '--ep', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
  })();
  return analysed;
}

/** IoU of the region polygons with a shape, sampled every 2 px over the shape's box grown by 3 cells */
function iou(polys: Position[][][], s: Shape): number {
  let inter = 0, union = 0;
  const [x0, y0, x1, y1] = s.box;
  for (let y = y0 - 24 + 1; y < y1 + 24; y += 2) {
    for (let x = x0 - 24 + 1; x < x1 + 24; x += 2) {
      const a = s.test(x, y), b = inside(polys, x, y);
      if (a && b) inter++;
      if (a || b) union++;
    }
  }
  return inter / union;
}

test('glassbox regions on a probe heatmap: polygons on the shapes (IoU ≥ 0.9), the ring keeps its hole, exactly the cells ≥ T', async () => {
  await analyse();
  const T = FULL / 2;
  for (const colour of ['red', 'blue'] as const) {
    const out = join(dir, `${colour}.geojson`);
    const r = await cli(['regions', '--heatmap', heat, '--class', colour, '--threshold', String(T), '--min-area-um2', '500', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`map: heatmap-${colour}\\.npy \\(class '${colour}', 104×152 cells of 8\\.000×8\\.000 px\\)`));
    assert.match(r.stdout, new RegExp(`${SHAPES[colour].length} regions? ≥ ${T}, each ≥ 500 µm²: [\\d.,]+ (µm²|mm²) in all`));
    const text = readFileSync(out, 'utf8');
    const { annotations } = fromGeoJSON(text);
    assert.equal(annotations.length, SHAPES[colour].length, `${colour}: one region per shape`);
    const polys = annotations.map((a) => (a.geometry as { coordinates: Position[][] }).coordinates);
    for (const [i, s] of SHAPES[colour].entries()) {
      const v = iou(polys, s);
      console.log(`# ${colour} shape ${i}: IoU ${v.toFixed(3)}`);
      assert.ok(v >= 0.9, `${colour} shape ${i}: IoU ${v.toFixed(3)} < 0.9`);
    }
    if (colour === 'red') {
      const ring = annotations.find((a) => (a.geometry as { coordinates: Position[][] }).coordinates.length > 1);
      assert.ok(ring, 'the elliptic ring has a hole');
      assert.ok(!inside(polys, 730, 251), 'the glass inside the ring is not in a region');
    }
    // exactly on the cells: each cell centre is inside ⇔ the map value ≥ T
    const map = decodeNpy(new Uint8Array(readFileSync(join(heat, `heatmap-${colour}.npy`))));
    const [rows, cols] = map.dims;
    let cellsIn = 0;
    for (let r0 = 0; r0 < rows; r0++) for (let c = 0; c < cols; c++) {
      const want = (map.data as Float32Array)[r0 * cols + c] >= T;
      cellsIn += want ? 1 : 0;
      if (want !== inside(polys, c * 8 + 4, r0 * 8 + 4)) {
        assert.fail(`${colour}: cell ${r0},${c} (value ${(map.data as Float32Array)[r0 * cols + c]}) ${want ? 'missing from' : 'wrongly in'} the regions`);
      }
    }
    assert.ok(cellsIn > 100);
    // QuPath dialect on disk, with measurements and the map it came from
    const f = JSON.parse(text).features[0];
    assert.equal(f.properties.objectType, 'annotation');
    assert.deepEqual(f.properties.classification.name, colour);
    assert.ok(f.properties.measurements['Area µm^2'] > 500);
    assert.ok(f.properties.measurements['Heatmap mean'] > T);
    assert.equal(f.properties.glassbox.provenance.heatmap.file, `heatmap-${colour}.npy`);
    assert.equal(f.properties.glassbox.provenance.heatmap.model, 'probe');
  }
});

test('glassbox regions: --percentile, --smooth and --simplify', async () => {
  await analyse();
  const out = join(dir, 'p.geojson');
  const r = await cli(['regions', '--heatmap', heat, '--class', 'blue', '--threshold', '99', '--percentile', '--smooth', '1', '--simplify', '0.5', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /≥ [\d.e-]+ \(the 99th percentile\)/);
  const a = fromGeoJSON(readFileSync(out, 'utf8')).annotations;
  assert.ok(a.length >= 1);
  const p = a[0].provenance;
  assert.ok(p.source === 'heatmap' && p.percentile === 99 && p.smoothCells === 1 && p.simplifyCells === 0.5);
});

test('glassbox regions: --help and clear one-line errors', async () => {
  await analyse();
  const h = await cli(['regions', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: glassbox regions --heatmap DIR --threshold T/);
  const out = join(dir, 'e.geojson');
  const cases: Array<[string[], RegExp]> = [
    [['--threshold', '0.5', '--out', out], /--heatmap DIR is required/],
    [['--heatmap', heat, '--class', 'red', '--out', out], /--threshold T is required/],
    [['--heatmap', heat, '--class', 'red', '--threshold', '0.5'], /--out FILE\.geojson is required/],
    [['--heatmap', join(dir, 'missing'), '--threshold', '0.5', '--out', out], /heatmap folder .*missing: no such folder/],
    [['--heatmap', dir, '--threshold', '0.5', '--out', out], /no heatmap\.json \(expected what 'glassbox analyze' writes\)/],
    [['--heatmap', heat, '--threshold', '0.5', '--out', out], /has 2 maps; choose a class: blue \(heatmap-blue\.json\), red \(heatmap-red\.json\)/],
    [['--heatmap', heat, '--class', 'red', '--threshold', '0.5', '--out', join(dir, 'no', 'such', 'x.geojson')], /--out '.*x\.geojson': folder '.*such' does not exist/],
    [['--heatmap', heat, '--class', 'red', '--threshold', 'high', '--out', out], /--threshold must be a number \(got 'high'\)/],
    [['--heatmap', heat, '--class', 'red', '--threshold', '120', '--percentile', '--out', out], /--threshold must be a percentile 0\.\.100/],
    [['--heatmap', heat, '--class', 'red', '--threshold', '0.5', '--simplify', '0.7', '--out', out], /at most half a cell/],
    [['--heatmap', heat, '--class', 'red', '--threshold', '0.5', '--min-area-um2', '-5', '--out', out], /--min-area-um2 must be an area ≥ 0/],
    [['--heatmap', heat, '--class', 'red', '--threshold', '0.5', '--bogus', '--out', out], /Unknown option '--bogus'/],
  ];
  // a few through the real binary (one line on stderr, exit code), the rest in-process through the same main()
  for (const [k, [args, re]] of cases.entries()) {
    if (k % 4 === 3) oneLineError(await cli(['regions', ...args]), 'regions', re);
    else {
      const err: string[] = [];
      const code = await main(['regions', ...args], { out: () => {}, err: (s) => err.push(s) });
      oneLineError({ code, stderr: err.join('\n') }, 'regions', re);
    }
  }
});

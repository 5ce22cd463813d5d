/**
 * `glassbox analyze` and analyzeSlide: the files and their geometry, the result cache (hit, corrupt and partial
 * entries), cancel → resume equal to an uninterrupted run, ROI-first order, pause, and one clear line for bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { cli, oneLineError } from '../cli/run-cli.js';
import { readNpy } from '../../main/engine/explain/npy.js';
import { openSlide } from '../../main/engine/slide/index.js';
import { loadModelPackage } from '../../main/engine/model/index.js';
import { analyzeSlide, ResultCache, type AnalysisJob, type AnalyzeSlideOptions } from '../../main/engine/analysis/index.js';
import { writeProbePackage } from './probe.js';
import { buildModel } from '../explain/onnx-build.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-analyze-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const probe = writeProbePackage(join(dir, 'probe'), { patch: 64, stride: 8, spacing: 1 });
const SLIDE = join(dir, 'shapes.tif');
const BLANK = join(dir, 'blank.tif');
const ready = (async () => {
  await writeSyntheticSlide(SLIDE, {
    width: 1600, height: 1000, mpp: 0.5, levels: [1, 4],
    regions: [
      { x: 100, y: 100, w: 500, h: 300, shape: 'rect', fill: [200, 30, 30] },
      { x: 900, y: 500, w: 600, h: 400, shape: 'ellipse', fill: [30, 30, 200] },
    ],
  });
  await writeSyntheticSlide(BLANK, { width: 600, height: 400, mpp: 0.5, regions: [] });
})();

test('analyze: writes heatmap.npy/.json, probabilities.npy and patches.csv whose geometry agrees', async () => {
  await ready;
  const out = join(dir, 'out1');
  const r = await cli(['analyze', SLIDE, '--model', probe, '--out', out, '--class', 'red', '--cache-dir', join(dir, 'cache1')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^slide: shapes\.tif 1600×1000 px, 0\.5000 µm\/px \(tiff-resolution\)/m);
  assert.match(r.stdout, /layer: features \(stride 8\): cell 8\.00×8\.00 µm, smallest resolvable structure 16\.0 µm/);
  assert.match(r.stdout, /done: \d+ patches of 104 in the grid/);
  assert.deepEqual(readdirSync(out).sort(), ['heatmap.json', 'heatmap.npy', 'patches.csv', 'probabilities.npy']);
  const meta = JSON.parse(readFileSync(join(out, 'heatmap.json'), 'utf8'));
  const hm = await readNpy(join(out, 'heatmap.npy'));
  const probs = await readNpy(join(out, 'probabilities.npy'));
  // 1600×1000 px at 0.5 µm/px, patches of 64 px at 1 µm/px = 128 px: 13 × 8 patches of 8 × 8 cells of 16 px
  assert.deepEqual(meta.shape, [64, 104]);
  assert.deepEqual(hm.dims, meta.shape);
  assert.deepEqual(probs.dims, [64, 104, 2]);
  assert.deepEqual(meta.cell_size_px, [16, 16]);
  assert.deepEqual(meta.cell_size_um, [8, 8]);
  assert.deepEqual(meta.origin_px, [0, 0]);
  assert.equal(meta.class, 'red');
  assert.equal(meta.method, 'gradcam');
  assert.equal(meta.layer, 'features');
  assert.equal(meta.stride, 8);
  assert.equal(meta.signed, false);
  assert.equal(meta.provider, 'cpu');
  assert.equal(meta.slide.width, 1600);
  assert.match(meta.slide.sha256, /^[0-9a-f]{64}$/);
  assert.equal(meta.slide.mpp_source, 'tiff-resolution');
  assert.equal(meta.model.spacing_um_px, 1);
  assert.equal(meta.model.patch_size_pixels, 64);
  assert.deepEqual(meta.resolution.slide_mpp, { x: 0.5, y: 0.5, source: 'tiff-resolution' });
  assert.equal(meta.resolution.smallest_resolvable_um, 16);
  // the red rectangle spans level-0 x 100..600, y 100..400: cells (col 6.25..37.5, row 6.25..25): red inside, 0 far away
  const at = (x: number, y: number) => hm.data[Math.floor(y / 16) * 104 + Math.floor(x / 16)];
  assert.ok(at(350, 250) > 0.9 * meta.value_range[1], 'the rectangle\'s centre is hot');
  assert.equal(at(350, 450), 0, 'just below the rectangle (same patch row band) is 0');
  assert.ok(Number.isNaN(at(1550, 50)), 'a glass-only patch is NaN');
  // the last patches overhang the slide (13 × 128 = 1664 > 1600 px, 8 × 128 = 1024 > 1000): cells wholly past its
  // edge are NaN in every map
  for (let r = 0; r < 64; r++) for (let c = 100; c < 104; c++) assert.ok(Number.isNaN(hm.data[r * 104 + c]) && Number.isNaN(probs.data[(r * 104 + c) * 2]), `cell ${r},${c} lies past the slide's right edge`);
  for (let c = 0; c < 104; c++) assert.ok(Number.isNaN(hm.data[63 * 104 + c]), `cell 63,${c} lies past the bottom edge`);
  assert.ok(meta.value_range[1] > 0 && meta.display_scale > 0 && meta.display_scale <= meta.value_range[1]);
  // probabilities: red rectangle's patches favour 'red'
  const pr = (x: number, y: number) => { const c = Math.floor(y / 16) * 104 + Math.floor(x / 16); return [probs.data[c * 2], probs.data[c * 2 + 1]]; };
  assert.ok(pr(350, 250)[0] > pr(350, 250)[1]);
  assert.ok(pr(1200, 700)[1] > pr(1200, 700)[0]);
  const csv = readFileSync(join(out, 'patches.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'x,y,w,h,row,col,tissue,p_red,p_blue');
  assert.equal(csv.length - 1, meta.patch.analysed);
  const first = csv[1].split(',').map(Number);
  assert.deepEqual(first.slice(2, 4), [128, 128], 'patches are 128 level-0 px');
  assert.ok(first[6] > 0 && first[6] <= 1);
  assert.ok(Math.abs(first[7] + first[8] - 1) < 1e-5, 'probabilities sum to 1');

  // a second identical run comes from the cache, byte for byte; --force is needed to write over the results
  const again = await cli(['analyze', SLIDE, '--model', probe, '--out', out, '--class', 'red', '--cache-dir', join(dir, 'cache1')]);
  oneLineError(again, 'analyze', /already holds .*heatmap\.json.*--force/);
  const out2 = join(dir, 'out2');
  const hit = await cli(['analyze', SLIDE, '--model', probe, '--out', out2, '--class', 'red', '--cache-dir', join(dir, 'cache1')]);
  assert.equal(hit.code, 0, hit.stderr);
  assert.match(hit.stdout, /^cached: /m);
  for (const f of readdirSync(out)) assert.deepEqual(readFileSync(join(out2, f)), readFileSync(join(out, f)), f);
});

test('analyze --class all: one heatmap per class; --signed and --method reach the sidecar', async () => {
  await ready;
  const out = join(dir, 'all');
  const r = await cli(['analyze', SLIDE, '--model', probe, '--out', out, '--no-cache', '--overlap', '0.25', '--batch', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['heatmap-blue.json', 'heatmap-blue.npy', 'heatmap-red.json', 'heatmap-red.npy', 'patches.csv', 'probabilities.npy']);
  const blue = JSON.parse(readFileSync(join(out, 'heatmap-blue.json'), 'utf8'));
  assert.equal(blue.class, 'blue');
  assert.deepEqual(blue.patch.step_cells, [6, 6]);
  const s = await cli(['analyze', SLIDE, '--model', probe, '--out', join(dir, 'signed'), '--no-cache', '--class', '1', '--signed', '--region', '800,400,800,600']);
  assert.equal(s.code, 0, s.stderr);
  const meta = JSON.parse(readFileSync(join(dir, 'signed', 'heatmap.json'), 'utf8'));
  assert.equal(meta.signed, true);
  assert.deepEqual(meta.origin_px, [800, 400]);
  assert.deepEqual(meta.settings.region, [800, 400, 800, 600]);
  const signed = await readNpy(join(dir, 'signed', 'heatmap.npy'));
  // the blue detector's signed map is positive on the ellipse and 0 on glass (the Relu before pooling keeps it ≥ 0)
  assert.ok(signed.data.some((v) => v > 0));
});

test('analyze: bad input gives one line naming the problem', async () => {
  await ready;
  const o = (n: number) => join(dir, `bad-${n}`);
  const cases: Array<[string[], RegExp]> = [
    [['analyze', SLIDE, '--model', probe, '--out', o(1), '--class', 'green'], /unknown class 'green'.*'red', 'blue'/],
    [['analyze', SLIDE, '--model', probe, '--out', o(2), '--region', '5000,5000,100,100', '--no-cache'], /region 5000,5000,100,100 lies outside the slide \(1600×1000/],
    [['analyze', BLANK, '--model', probe, '--out', o(3), '--no-cache'], /no tissue found in the slide/],
    [['analyze', SLIDE, '--model', join(probe, 'model.onnx'), '--out', o(4)], /bare \.onnx.*model package/],
    [['analyze', SLIDE, '--model', probe, '--out', o(5), '--overlap', '1'], /--overlap must be a fraction 0 ≤ F < 1/],
    [['analyze', SLIDE, '--model', probe, '--out', o(6), '--method', 'saliency'], /saliency is per input pixel/],
    [['analyze', join(dir, 'missing.svs'), '--model', probe, '--out', o(7)], /missing\.svs/],
    [['analyze', SLIDE, '--model', probe], /--out is required/],
    [['analyze', SLIDE, '--model', probe, '--out', o(8), '--mpp', '0'], /--mpp must be a resolution/],
    [['analyze', SLIDE, '--model', probe, '--out', o(9), '--layer', 'nope', '--no-cache'], /nope/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  results.forEach((r, i) => oneLineError(r, 'analyze', cases[i][1]));
  // model/config mismatch: the config says 3 classes, the model outputs 2
  const bad = join(dir, 'mismatch');
  writeProbePackage(bad, { patch: 64, stride: 8, spacing: 1 });
  const cfg = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8'));
  writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, num_classes: 3, class_names: ['a', 'b', 'c'] }));
  oneLineError(await cli(['analyze', SLIDE, '--model', bad, '--out', o(10), '--no-cache', '--class', 'a']), 'analyze', /num_classes is 3 but the model .* outputs 2 logits/);
  // a config whose patch size does not fit the model's input
  const wrong = join(dir, 'wrong-size');
  writeProbePackage(wrong, { patch: 64, stride: 8, spacing: 1 });
  writeFileSync(join(wrong, 'config.json'), JSON.stringify({ ...cfg, patch_size_pixels: 96 }));
  oneLineError(await cli(['analyze', SLIDE, '--model', wrong, '--out', o(11), '--no-cache']), 'analyze', /96×96 px patch becomes 3×96×96 .* model expects 3×64×64/);
});

async function withSlide<T>(fn: (o: Pick<AnalyzeSlideOptions, 'slide' | 'model'>) => Promise<T>): Promise<T> {
  await ready;
  const slide = await openSlide(SLIDE);
  try {
    return await fn({ slide, model: await loadModelPackage(probe) });
  } finally {
    await slide.close();
  }
}

const SETTINGS = { classes: [0, 1], method: 'gradcam' as const, signed: false, batch: 4, overlap: 0, minTissue: 0.1, ep: 'cpu' as const };

test('cancel keeps a partial result that the next run resumes; the result equals an uninterrupted run', async () => {
  const cache = new ResultCache(join(dir, 'cache-resume'));
  const ref = await withSlide((o) => analyzeSlide({ ...o, settings: SETTINGS, cache: null, version: 'test' }));
  assert.ok(ref.result?.complete);
  let job: AnalysisJob | undefined;
  const first = await withSlide((o) => analyzeSlide({
    ...o, settings: SETTINGS, cache, version: 'test',
    onJob: (j) => { job = j; },
    onProgress: (p) => { if (p.stage === 'analysing' && p.done >= 8) job!.cancel(); },
  }));
  assert.equal(first.result?.complete, false, 'cancelled');
  const doneFirst = first.result!.patches.length;
  assert.ok(doneFirst >= 8 && doneFirst < ref.result!.patches.length, `cancelled part-way (${doneFirst})`);
  // the partial entry is not a complete result
  assert.equal(await cache.get(first.key), null);
  assert.deepEqual(await cache.keys(), []);
  const second = await withSlide((o) => analyzeSlide({ ...o, settings: SETTINGS, cache, version: 'test' }));
  assert.equal(second.source, 'computed');
  assert.equal(second.resumed, doneFirst);
  assert.ok(second.result!.complete);
  for (const k of [0, 1]) assert.deepEqual(second.result!.heatmaps.get(k), ref.result!.heatmaps.get(k), `class ${k} map equals the uninterrupted run`);
  assert.deepEqual(second.result!.probabilities, ref.result!.probabilities);
  assert.ok(!existsSync(join(cache.root, `${second.key}.partial`)), 'the partial entry is gone once complete');
  // now a hit; then a corrupted entry is ignored and recomputed
  const hit = await withSlide((o) => analyzeSlide({ ...o, settings: SETTINGS, cache, version: 'test' }));
  assert.equal(hit.source, 'cache');
  const npy = join(cache.root, hit.key, 'heatmap-red.npy');
  const bytes = readFileSync(npy);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(npy, bytes);
  const redo = await withSlide((o) => analyzeSlide({ ...o, settings: SETTINGS, cache, version: 'test' }));
  assert.equal(redo.source, 'computed', 'a corrupt entry is not used');
  const fixed = await withSlide((o) => analyzeSlide({ ...o, settings: SETTINGS, cache, version: 'test' }));
  assert.equal(fixed.source, 'cache', 'and is replaced by a good one');
  // a truncated manifest is ignored too
  writeFileSync(join(cache.root, hit.key, 'manifest.json'), '{"key": "');
  assert.equal(await cache.get(hit.key), null);
});

test('the region of interest is analysed first; re-prioritising while running moves the next batches', async () => {
  const roi = { x: 900, y: 500, w: 600, h: 400 };
  const batches: Array<Array<{ x: number; y: number; w: number; h: number }>> = [];
  let job: AnalysisJob | undefined;
  await withSlide((o) => analyzeSlide({
    ...o, settings: { ...SETTINGS, classes: [1] }, cache: null, version: 'test', priority: roi,
    onJob: (j) => { job = j; },
    onBatch: (b) => {
      batches.push(b.patches);
      if (batches.length === 1) job!.prioritize({ x: 100, y: 100, w: 500, h: 300 });
    },
  }));
  const hits = (p: { x: number; y: number; w: number; h: number }, r: typeof roi) => p.x < r.x + r.w && p.x + p.w > r.x && p.y < r.y + r.h && p.y + p.h > r.y;
  assert.ok(batches[0].every((p) => hits(p, roi)), 'the first batch lies in the ROI');
  // batches 2 and 3 were already being read (prefetch); after them the new ROI comes first
  const after = batches.slice(3, 5).flat();
  assert.ok(after.length > 0 && after.every((p) => hits(p, { x: 100, y: 100, w: 500, h: 300 })), 'after the prefetched batches, the new ROI');
});

test('pause holds the analysis; resume finishes it', async () => {
  let job: AnalysisJob | undefined;
  let pausedAt = -1;
  const stages: string[] = [];
  const run = withSlide((o) => analyzeSlide({
    ...o, settings: SETTINGS, cache: null, version: 'test',
    onJob: (j) => { job = j; },
    onProgress: (p) => {
      stages.push(p.stage);
      if (p.stage === 'analysing' && p.done > 0 && pausedAt < 0) { pausedAt = p.done; job!.pause(); }
    },
  }));
  while (pausedAt < 0) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(job!.state.done, pausedAt, 'no progress while paused');
  assert.equal(job!.state.stage, 'paused');
  job!.resume();
  const res = await run;
  assert.ok(res.result!.complete);
  assert.ok(stages.includes('paused') && stages.at(-1) === 'done');
});

test('a model that is not a classifier of patches (wrong input rank) is refused with its reason', async () => {
  const m = join(dir, 'rank');
  writeProbePackage(m, { patch: 64, stride: 8, spacing: 1 });
  writeFileSync(join(m, 'model.onnx'), buildModel({ inputs: [{ name: 'x', dims: ['N', 4] }], outputs: ['y'], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }));
  const r = await cli(['analyze', SLIDE, '--model', m, '--out', join(dir, 'rank-out'), '--no-cache']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^glassbox analyze: .*(input|NCHW|4-D|\[N, C, H, W\])/i);
});

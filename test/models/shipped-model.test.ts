/**
 * The shipped H&E model (models/he-cellularity) behaves sensibly on tissue it never saw:
 *  - its 'cellular' Grad-CAM tracks hematoxylin density computed here by colour deconvolution (test/models/hed.ts):
 *    Spearman ≥ 0.5 on a held-out CMU-1 area; on the TCGA slide (never used for training; another stain, which the
 *    fixed Ruifrok matrix fits badly) it must at least stand clear of every randomized model (≥ 0.3);
 *  - the same check on the same architecture with randomized weights scores clearly below the bar (the test can fail);
 *  - patch predictions agree with the deconvolution rule the labels came from, glass is 'background', and the
 *    NCT-CRC-HE tiles (another lab, never used for training) get the classes their human labels imply.
 *
 * Assumption for the TCGA slide (it states no mpp): level 0 is ~1.0 µm/px, judged from its nuclei (lymphocytes,
 * ~7 µm across, span ~7 px) and its size (4443 px for a whole frozen section). A 112 × 112 px level-0 region
 * (≈ 112 µm) is upsampled 2× (PIL-style bilinear) to the model's 224 px at 0.5 µm/px.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createExplainer, type Explainer, type Tensor } from '../../main/engine/explain/index.js';
import { decodeModelBytes, encodeModel, tensorToNumbers } from '../../main/engine/explain/onnx-io.js';
import { applyTransforms, decodeRgb, loadModelPackage, resizeBilinear, stackBatch, type RgbImage } from '../../main/engine/model/index.js';
import { openSlide } from '../../main/engine/slide/index.js';
import { REPO_ROOT, SHARED_PATCHES, SHARED_SLIDES, SKIP_NO_PATCHES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { auc, blockMean, deconvolve, ruleLabel, rng, spearman, type RuleClass } from './hed.js';

const PKG = join(REPO_ROOT, 'models', 'he-cellularity');
/** the bar, fixed before measuring: cellular Grad-CAM vs hematoxylin density, Spearman over tissue cells */
const BAR = 0.5;
/** "clearly below": a randomized model must not come within 0.2 of the bar (and the trained one must exceed this everywhere) */
const RANDOM_MAX = BAR - 0.2;
/** CMU-1 rows >= this were held out of training (models/he-cellularity/train.py HELDOUT_MIN_Y) */
const CMU_HELDOUT_Y = 2350;

const pkg = await loadModelPackage(PKG);
const cfg = pkg.config!;
const PATCH = cfg.patch_size_pixels;
const CELLULAR = cfg.class_names.indexOf('cellular');

function crop(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  return { data, width: w, height: h };
}

interface Patch { source: string; where: string; img: RgbImage }

/** held-out CMU-1 patches: 224 px at 0.499 µm/px on a 112-px grid in rows >= CMU_HELDOUT_Y */
async function cmuPatches(): Promise<Patch[]> {
  const s = await openSlide(join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'));
  try {
    const { width, height } = s.properties.levels[0];
    const strip = await s.readRegion(0, CMU_HELDOUT_Y, 0, width, height - CMU_HELDOUT_Y);
    const out: Patch[] = [];
    for (let y = 0; y + PATCH <= strip.height; y += PATCH / 2) {
      for (let x = 0; x + PATCH <= width; x += PATCH / 2) out.push({ source: 'cmu', where: `CMU (${x}, ${CMU_HELDOUT_Y + y})`, img: crop(strip, x, y, PATCH, PATCH) });
    }
    return out;
  } finally { await s.close(); }
}

/** TCGA patches: 112-px level-0 regions (≈ 1 µm/px, assumed) on a 480-px grid, upsampled to 224 */
async function tcgaPatches(): Promise<Patch[]> {
  const s = await openSlide(join(SHARED_SLIDES, 'tcga-cr-7395-01a-01-ts1.svs'));
  try {
    const { width, height } = s.properties.levels[0];
    const out: Patch[] = [];
    for (let y = 250; y + 112 <= height; y += 480) {
      for (let x = 250; x + 112 <= width; x += 480) {
        const r = await s.readRegion(x, y, 0, 112, 112);
        out.push({ source: 'tcga', where: `TCGA (${x}, ${y})`, img: resizeBilinear(r, PATCH, PATCH) });
      }
    }
    return out;
  } finally { await s.close(); }
}

let patchCache: Promise<{ cmu: Patch[]; tcga: Patch[] }> | undefined;
/** held-out patches, read once for every test */
const heldOut = () => (patchCache ??= (async () => ({ cmu: await cmuPatches(), tcga: await tcgaPatches() }))());

async function cams(ex: Explainer, imgs: RgbImage[]): Promise<{ cam: Float32Array[]; signed: Float32Array[]; logits: Float32Array[] }> {
  const seed: Tensor = { data: Float32Array.from(cfg.class_names, (_, i) => (i === CELLULAR ? 1 : 0)), dims: [cfg.num_classes] };
  const cam: Float32Array[] = [], signed: Float32Array[] = [], logits: Float32Array[] = [];
  for (let i = 0; i < imgs.length; i += 16) {
    const batch = stackBatch(imgs.slice(i, i + 16).map((im) => applyTransforms(im, cfg.transform)));
    const out = await ex.explain(batch, seed);
    const [n, h, w] = out.maps.gradcam.dims;
    const K = cfg.num_classes;
    for (let b = 0; b < n; b++) {
      cam.push(out.maps.gradcam.data.slice(b * h * w, (b + 1) * h * w));
      signed.push(out.maps['gradcam-signed'].data.slice(b * h * w, (b + 1) * h * w));
      logits.push(out.logits.data.slice(b * K, (b + 1) * K));
    }
  }
  return { cam, signed, logits };
}

interface Tracking { spearman: number; auc: number; perPatchMedian: number; cells: number; patches: number }

/** cellular Grad-CAM (at the target layer's cells) against mean hematoxylin per cell, over tissue patches */
function tracking(cam: Float32Array[], patches: Patch[], stride: number): Tracking {
  const xs: number[] = [], ys: number[] = [], per: number[] = [];
  let n = 0;
  for (const [i, p] of patches.entries()) {
    const d = deconvolve(p.img);
    if (ruleLabel(d).tissue < 0.5) continue;
    const hCell = blockMean(d.h, PATCH, PATCH, stride);
    assert.equal(hCell.length, cam[i].length, 'one hematoxylin value per heatmap cell');
    for (let k = 0; k < hCell.length; k++) { xs.push(cam[i][k]); ys.push(hCell[k]); }
    per.push(spearman(cam[i], hCell));
    n++;
  }
  const sorted = [...ys].sort((a, b) => a - b);
  const q75 = sorted[Math.floor(0.75 * (sorted.length - 1))];
  per.sort((a, b) => a - b);
  return { spearman: spearman(xs, ys), auc: auc(xs, ys.map((v) => v > q75)), perPatchMedian: per[Math.floor(per.length / 2)], cells: xs.length, patches: n };
}

/**
 * The same graph with every weight re-initialised as at the start of training (Adebayo et al. 2018's full
 * randomization): conv / linear weights ~ N(0, 2 / fan_in) (He), biases 0. Deterministic for a seed.
 */
function randomized(bytes: Uint8Array, seed: number): Uint8Array {
  const m = decodeModelBytes(bytes);
  const r = rng(seed);
  let weights = 0;
  for (const t of m.graph!.initializer ?? []) {
    const v = tensorToNumbers(t);
    if (!v || v.dataType !== 1 || v.values.length < 2) continue;
    let f: Float32Array;
    if (v.dims.length >= 2) {
      const fanIn = v.dims.slice(1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / fanIn);
      f = Float32Array.from(v.values, () => std * r.normal());
      weights++;
    } else f = new Float32Array(v.values.length);
    t.rawData = new Uint8Array(f.buffer);
    t.floatData = [];
  }
  assert.equal(weights, 6, 'five convs and the linear layer re-initialised');
  return encodeModel(m);
}

test('package: WSInfer config, default target layer at stride 8 (4 µm cells at 0.5 µm/px)', { timeout: 30_000 }, async () => {
  assert.equal(cfg.spec_version, '1.0');
  assert.deepEqual(cfg.class_names, ['background', 'stroma', 'cellular']);
  assert.equal(cfg.spacing_um_px, 0.5);
  assert.ok(pkg.modelCardPath, 'MODEL_CARD.md is shipped');
  assert.ok(readFileSync(pkg.modelPath).byteLength < 2_000_000, 'model.onnx < 2 MB');
  const ex = await createExplainer(pkg.modelPath, { methods: ['gradcam'], ep: 'cpu' });
  try {
    assert.equal(ex.layer.name, cfg.target_layer, 'config.target_layer is the engine default');
    assert.equal(ex.layer.stride, cfg.stride);
    assert.equal(cfg.stride, 8);
    assert.deepEqual(ex.inputShape, [3, PATCH, PATCH]);
  } finally { await ex.dispose(); }
});

test('cellular Grad-CAM tracks hematoxylin density on held-out tissue; randomized weights do not', { skip: SKIP_NO_SLIDES, timeout: 120_000 }, async () => {
  const patches = await heldOut();
  const bytes = new Uint8Array(readFileSync(pkg.modelPath));
  const models: [string, Uint8Array][] = [['trained', bytes], ['randomized#1', randomized(bytes, 1)], ['randomized#2', randomized(bytes, 2)]];
  // key: model / source / map ('gradcam' = ReLU'd, 'signed' = Σα·A before the ReLU)
  const results: Record<string, Record<string, { gradcam: Tracking; signed: Tracking }>> = {};
  for (const [name, model] of models) {
    const ex = await createExplainer(model, { layer: cfg.target_layer, methods: ['gradcam'], ep: 'cpu' });
    try {
      results[name] = {};
      for (const [src, ps] of Object.entries(patches)) {
        const { cam, signed } = await cams(ex, ps.map((p) => p.img));
        results[name][src] = { gradcam: tracking(cam, ps, ex.layer.stride), signed: tracking(signed, ps, ex.layer.stride) };
      }
    } finally { await ex.dispose(); }
  }
  const fmt = (t: Tracking) => `Spearman ${t.spearman.toFixed(3)}, AUC(top-quartile H) ${t.auc.toFixed(3)}, per-patch median ${t.perPatchMedian.toFixed(3)} (${t.patches} patches, ${t.cells} cells)`;
  for (const [name, r] of Object.entries(results)) for (const [src, t] of Object.entries(r)) for (const [map, v] of Object.entries(t)) console.log(`# ${name} ${src} ${map}: ${fmt(v)}`);
  for (const src of ['cmu', 'tcga'] as const) {
    const t = results.trained[src];
    assert.ok(t.gradcam.patches >= 10, `${src}: ${t.gradcam.patches} tissue patches`);
    // held-out CMU (same scanner and stain as training, unseen tissue): the bar, for Grad-CAM and its signed map.
    // TCGA (other lab, magenta-shifted stain the fixed stain matrix does not fit, JPEG 2000, assumed scale): the map
    // must stand clear of every randomized model (above RANDOM_MAX); the 0.5 bar is not reached there (MODEL_CARD.md).
    const need = src === 'cmu' ? BAR : RANDOM_MAX;
    for (const map of ['gradcam', 'signed'] as const) {
      assert.ok(t[map].spearman >= need, `trained model on ${src}, ${map}: ${fmt(t[map])} — below ${need}`);
    }
    for (const name of ['randomized#1', 'randomized#2']) {
      for (const map of ['gradcam', 'signed'] as const) {
        const rt = results[name][src][map];
        assert.ok(rt.spearman < RANDOM_MAX, `${name} on ${src}, ${map}: ${fmt(rt)} — a randomized model must stay below ${RANDOM_MAX}`);
      }
    }
  }
});

test('patch predictions follow the deconvolution rule on held-out tissue; glass is background', { skip: SKIP_NO_SLIDES, timeout: 60_000 }, async () => {
  const ex = await createExplainer(pkg.modelPath, { methods: ['gradcam'], ep: 'cpu' });
  try {
    const ps = (await heldOut()).cmu;
    const { logits } = await cams(ex, ps.map((p) => p.img));
    const pred = logits.map((l) => cfg.class_names[l.indexOf(Math.max(...l))] as RuleClass);
    let labelled = 0, agree = 0;
    const perClass: Record<string, [number, number]> = { background: [0, 0], stroma: [0, 0], cellular: [0, 0] };
    for (const [i, p] of ps.entries()) {
      const { label } = ruleLabel(deconvolve(p.img));
      if (!label) continue;
      labelled++;
      perClass[label][1]++;
      if (pred[i] === label) { agree++; perClass[label][0]++; }
    }
    console.log(`# CMU held-out: ${agree}/${labelled} patches agree with the rule; per class ${JSON.stringify(perClass)}`);
    for (const [c, [, n]] of Object.entries(perClass)) assert.ok(n >= 2, `held-out CMU has ${n} '${c}' patches`);
    assert.ok(agree / labelled >= 0.8, `${agree}/${labelled} held-out CMU patches agree with the deconvolution rule`);
    // TCGA: the rule finds no hematoxylin-dense pixels with the fixed stain matrix, so its labels are background / stroma
    const tp = (await heldOut()).tcga;
    const { logits: tl } = await cams(ex, tp.map((p) => p.img));
    let tLabelled = 0, tAgree = 0;
    const confusion: Record<string, number> = {};
    for (const [i, p] of tp.entries()) {
      const { label } = ruleLabel(deconvolve(p.img));
      const pr = cfg.class_names[tl[i].indexOf(Math.max(...tl[i]))];
      confusion[`${label ?? 'none'}→${pr}`] = (confusion[`${label ?? 'none'}→${pr}`] ?? 0) + 1;
      if (!label) continue;
      tLabelled++;
      if (pr === label) tAgree++;
    }
    console.log(`# TCGA: ${tAgree}/${tLabelled} patches agree with the rule; rule→model ${JSON.stringify(confusion)}`);
    assert.ok(tAgree / tLabelled >= 0.8, `${tAgree}/${tLabelled} TCGA patches agree with the deconvolution rule`);
    // glass: the corners of both slides (outside the tissue)
    const cmu = await openSlide(join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'));
    const tcga = await openSlide(join(SHARED_SLIDES, 'tcga-cr-7395-01a-01-ts1.svs'));
    try {
      const glass = [await cmu.readRegion(0, 0, 0, PATCH, PATCH), resizeBilinear(await tcga.readRegion(0, 0, 0, 112, 112), PATCH, PATCH)];
      for (const g of glass) assert.equal(ruleLabel(deconvolve(g)).label, 'background', 'the corner is glass');
      const { logits: gl } = await cams(ex, glass);
      for (const l of gl) assert.equal(cfg.class_names[l.indexOf(Math.max(...l))], 'background');
    } finally { await cmu.close(); await tcga.close(); }
  } finally { await ex.dispose(); }
});

test('NCT-CRC-HE-100K tiles (another lab, held out): human labels and the rule agree with the model', { skip: SKIP_NO_PATCHES, timeout: 60_000 }, async () => {
  const dir = join(SHARED_PATCHES, 'nct-crc-he-100k');
  const files = readdirSync(dir).filter((f) => f.endsWith('.tif')).sort();
  const imgs = await Promise.all(files.map((f) => decodeRgb(join(dir, f))));
  for (const im of imgs) assert.deepEqual([im.width, im.height], [PATCH, PATCH], 'NCT tiles are 224 px at 0.5 µm/px');
  const ex = await createExplainer(pkg.modelPath, { methods: ['gradcam'], ep: 'cpu' });
  try {
    const { logits } = await cams(ex, imgs);
    const pred = logits.map((l) => cfg.class_names[l.indexOf(Math.max(...l))]);
    const rule = imgs.map((im) => ruleLabel(deconvolve(im)).label);
    console.log(`# NCT: ${files.map((f, i) => `${f.split('-')[0]}→${pred[i]} (rule ${rule[i] ?? 'none'})`).join(', ')}`);
    // the unambiguous human labels
    const expect: Record<string, string> = { BACK: 'background', LYM: 'cellular', STR: 'stroma' };
    for (const [i, f] of files.entries()) {
      const want = expect[f.split('-')[0]];
      if (want) assert.equal(pred[i], want, `${f}: human label implies ${want}`);
    }
    const labelled = rule.filter((r) => r !== null).length;
    const agree = rule.filter((r, i) => r !== null && r === pred[i]).length;
    assert.ok(agree / labelled >= 0.8, `${agree}/${labelled} NCT tiles agree with the deconvolution rule`);
  } finally { await ex.dispose(); }
});

test('the HED helper inverts the stain model it implements', () => {
  // a pixel made of known stain concentrations deconvolves back to them (up to 8-bit rounding)
  const M = [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]].map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });
  for (const [h, e] of [[0.2, 0.1], [1.0, 0.3], [1.5, 0.6]]) {
    const od = [0, 1, 2].map((c) => h * M[0][c] + e * M[1][c]);
    const px = od.map((o) => Math.round(256 * Math.exp(-o) - 1));
    const d = deconvolve({ data: Uint8Array.from(px), width: 1, height: 1 });
    assert.ok(Math.abs(d.h[0] - h) < 0.05 && Math.abs(d.e[0] - e) < 0.05, `H ${d.h[0]} ≈ ${h}, E ${d.e[0]} ≈ ${e}`);
  }
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.equal(spearman([1, 1, 1, 1], [1, 2, 3, 4]), 0);
  assert.equal(auc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]), 1);
  assert.equal(auc([0.5, 0.5], [false, true]), 0.5);
});

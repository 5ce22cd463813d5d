/**
 * The shipped model through the whole-slide pipeline on synthetic H&E (issue 6 §5): a generated slide with a
 * hematoxylin-dense "cellular" texture region and an eosin "stroma" region on glass. Its right answer is known by
 * construction: the stitched 'cellular' Grad-CAM must separate the cellular region's cells from the stroma's (AUC),
 * and track the hematoxylin-dense fraction of each cell measured by colour deconvolution (test/models/hed.ts,
 * the model's own labelling rule) — Spearman over every analysed cell of the slide. Patch classes against the rule
 * are printed, not asserted: on this synthetic texture the model calls many rule-'cellular' patches 'stroma' (a
 * domain shift its card names). (test/models/shipped-model.test.ts checks the same model on real held-out tissue.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { regionAt, writeSyntheticSlide, type SyntheticSpec } from '../fixtures/synthetic-slide.js';
import { openSlide } from '../../main/engine/slide/index.js';
import { loadModelPackage } from '../../main/engine/model/index.js';
import { AnalysisJob } from '../../main/engine/analysis/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { deconvolve, ruleLabel, spearman, H_DENSE } from '../models/hed.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-shipped-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** area under the ROC curve: P(a random positive scores above a random negative), ties count ½ */
function auc(pos: number[], neg: number[]): number {
  const all = [...pos.map((v) => [v, 1] as const), ...neg.map((v) => [v, 0] as const)].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const mid = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k][1]) rankSum += mid;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

test('he-cellularity on a synthetic H&E slide: cellular Grad-CAM separates the cellular region from stroma and tracks hematoxylin density', async () => {
  const spec: SyntheticSpec = {
    width: 2400, height: 1400, mpp: 0.5, levels: [1, 4],
    regions: [
      { x: 150, y: 150, w: 900, h: 1100, shape: 'rect', fill: 'he-cellular', label: 'cellular' },
      { x: 1300, y: 150, w: 950, h: 1100, shape: 'rect', fill: 'he-stroma', label: 'stroma' },
    ],
  };
  const path = join(dir, 'he.tif');
  await writeSyntheticSlide(path, spec);
  const slide = await openSlide(path);
  try {
    const model = await loadModelPackage(join(REPO_ROOT, 'models', 'he-cellularity'));
    const names = model.config!.class_names;
    const cellular = names.indexOf('cellular'), stroma = names.indexOf('stroma'), background = names.indexOf('background');
    assert.ok(cellular >= 0 && stroma >= 0 && background >= 0, `classes ${names.join(', ')}`);
    const res = await new AnalysisJob({
      slide, model, settings: { classes: [cellular], method: 'gradcam', signed: false, batch: 8, overlap: 0, minTissue: 0.1, ep: 'cpu' },
    }).run();
    const g = res.geometry;
    const [rows, cols] = g.shape;
    const map = res.heatmaps.get(cellular)!;
    const pos: number[] = [], neg: number[] = [];
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const v = map[r * cols + c];
      if (!Number.isFinite(v)) continue;
      const x = g.origin[0] + (c + 0.5) * g.cellSize[0], y = g.origin[1] + (r + 0.5) * g.cellSize[1];
      const region = regionAt(spec, Math.floor(x), Math.floor(y));
      if (region < 0) continue;
      (region === 0 ? pos : neg).push(v);
    }
    const a = auc(pos, neg);
    // per cell: the fraction of hematoxylin-dense pixels (the rule's f_h) against the map
    const whole = deconvolve(await slide.readRegion(0, 0, 0, spec.width, spec.height));
    const dense = new Float64Array(rows * cols), count = new Float64Array(rows * cols);
    for (let y = 0; y < spec.height; y++) for (let x = 0; x < spec.width; x++) {
      const cell = Math.floor(y / g.cellSize[1]) * cols + Math.floor(x / g.cellSize[0]);
      count[cell]++;
      if (whole.h[y * spec.width + x] > H_DENSE) dense[cell]++;
    }
    const cams: number[] = [], hs: number[] = [];
    for (let i = 0; i < rows * cols; i++) if (Number.isFinite(map[i]) && count[i] > 0) { cams.push(map[i]); hs.push(dense[i] / count[i]); }
    const rho = spearman(cams, hs);
    // each analysed patch against the labelling rule applied to its own pixels
    let decisive = 0, agree = 0;
    const seen = new Set<string>();
    for (const p of res.patches) {
      const rule = ruleLabel(deconvolve(await slide.readRegion(p.x, p.y, 0, p.w, p.h)));
      if (!rule.label) continue;
      decisive++;
      seen.add(rule.label);
      const best = p.probabilities.indexOf(Math.max(...p.probabilities));
      if (names[best] === rule.label) agree++;
    }
    console.log(`# cellular Grad-CAM: AUC cellular-vs-stroma cells ${a.toFixed(3)} (${pos.length} vs ${neg.length} cells); Spearman with hematoxylin-dense fraction ${rho.toFixed(3)} over ${cams.length} cells; patch classes agreeing with the rule: ${agree} of ${decisive} decisive (${[...seen].join(', ')}) of ${res.patches.length}`);
    assert.ok(pos.length > 100 && neg.length > 100, 'both regions were analysed');
    assert.ok(a >= 0.9, `AUC ${a.toFixed(3)} < 0.9`);
    assert.ok(rho >= 0.5, `Spearman ${rho.toFixed(3)} < 0.5`);
    assert.equal(res.resolution.cell_size_um[0], 4, 'stride 8 at 0.5 µm/px');
  } finally {
    await slide.close();
  }
});

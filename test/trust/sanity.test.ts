/**
 * The randomization check end to end on the engine: on the shipped model Grad-CAM's cascading Spearman falls
 * below 0.3 once the top blocks are randomized, while the edge-map control (which ignores the model) does not
 * fall — so the check can fail; the same seed gives a byte-identical report; every method and both modes run on
 * three architectures of the conformance set (BatchNorm unfused, LayerNorm/MatMul/layer scale, Linear head).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNpy } from '../../main/engine/explain/npy.js';
import { runSanity, TRUST_METHODS, THRESHOLDS, type SanityReport } from '../../main/engine/trust/index.js';
import { ensureReferences, REF_DIR } from '../explain/references.js';
import { SHIPPED_MODEL, shippedPatches } from './fixtures.js';

const CLASSES = ['background', 'stroma', 'cellular'];

test('shipped model: Grad-CAM falls below 0.3 once the top blocks are randomized; the edge-map control does not fall', async () => {
  const { input, names } = shippedPatches(3);
  const res = await runSanity({ model: SHIPPED_MODEL, modelName: 'he-cellularity', input, inputNames: names, methods: ['gradcam', 'edge'], mode: 'cascading', seed: 0, classNames: CLASSES, ep: 'cpu' });
  const [cam, edge] = res.reports;
  const sp = cam.layers.map((l) => l.spearman.mean!);
  console.log(`# he-cellularity Grad-CAM cascading Spearman: ${cam.layers.map((l, i) => `${l.name} ${sp[i].toFixed(3)}`).join(', ')}`);
  console.log(`# edge control: ${edge.layers.map((l) => l.spearman.mean!.toFixed(3)).join(', ')}`);
  assert.deepEqual(cam.layers.map((l) => l.name), res.blocks.map((b) => b.name));
  assert.ok(Math.min(sp[0], sp[1]) < THRESHOLDS.depends_below, `top two blocks: ${sp.slice(0, 2)}`);
  assert.ok(sp[sp.length - 1] < THRESHOLDS.depends_below, `all blocks: ${sp[sp.length - 1]}`);
  assert.equal(cam.outcome, 'depends');
  assert.match(cam.verdict, /^Spearman fell to -?\d\.\d\d after randomizing \d+ blocks? .*depends on the learned weights \(thresholds: mean Spearman < 0\.3/);
  for (const l of edge.layers) for (const k of ['spearman', 'spearman_abs', 'ssim', 'hog'] as const) assert.equal(l[k].mean, 1, `edge ${l.name} ${k}`);
  assert.equal(edge.outcome, 'does-not-depend');
  assert.match(edge.verdict, /does NOT depend on the learned weights/);
  assert.equal(cam.layer, '/features/features.17/Relu_output_0');
  assert.equal(edge.layer, 'input');
});

test('same seed, same report (byte-identical JSON); another seed, other numbers', async () => {
  const { input, names } = shippedPatches(2);
  const run = (seed: number) => runSanity({ model: SHIPPED_MODEL, modelName: 'he-cellularity', input, inputNames: names, methods: ['gradcam'], mode: 'independent', seed, maxBlocks: 2, classNames: CLASSES, ep: 'cpu' })
    .then((r) => JSON.stringify(r.reports[0], null, 1));
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  assert.equal(a, b);
  const r = JSON.parse(a) as SanityReport;
  assert.notDeepEqual(r.layers, (JSON.parse(c) as SanityReport).layers, 'another seed draws other weights');
  // the report's shape (issue 10): {model, layer, method, mode, seed, layers: [{name, spearman: {per_input, mean}, spearman_abs, ssim, hog}]}
  assert.equal(r.model, 'he-cellularity');
  assert.equal(r.method, 'gradcam');
  assert.equal(r.mode, 'independent');
  assert.equal(r.seed, 3);
  assert.equal(r.layers.length, 2);
  for (const l of r.layers) for (const k of ['spearman', 'spearman_abs', 'ssim', 'hog'] as const) {
    assert.equal(l[k].per_input.length, 2);
    assert.equal(typeof l[k].mean, 'number');
  }
});

const refSkip = ensureReferences();
const ARCHS = ['densenet', 'convnext', 'vgg11_bn'];

test('every method, both modes, on three conformance architectures', { skip: refSkip }, async () => {
  for (const arch of ARCHS) {
    const model = join(REF_DIR, arch, 'model.onnx');
    const full = await readNpy(join(REF_DIR, arch, 'input.npy'));
    const [, C, H, W] = full.dims;
    const input = { data: full.data.slice(0, C * H * W), dims: [1, C, H, W] };
    for (const mode of ['cascading', 'independent'] as const) {
      const res = await runSanity({ model, input, methods: [...TRUST_METHODS], mode, seed: 1, depth: 2, maxBlocks: 3, ep: 'cpu' });
      assert.equal(res.reports.length, TRUST_METHODS.length);
      assert.ok(res.blocks.length >= 2, `${arch}: blocks ${res.blocks.map((b) => b.name)}`);
      for (const r of res.reports) {
        assert.equal(r.layers.length, res.blocks.length, `${arch} ${r.method}`);
        assert.ok(['depends', 'partial', 'does-not-depend', 'undetermined'].includes(r.outcome));
        for (const l of r.layers) {
          const s = l.spearman.per_input[0];
          assert.ok(s === null || (s >= -1 && s <= 1), `${arch} ${mode} ${r.method} ${l.name}: ${s}`);
        }
      }
      const by = Object.fromEntries(res.reports.map((r) => [r.method, r]));
      assert.ok(by.edge.layers.every((l) => l.spearman.mean === 1), `${arch}: the control never changes`);
      // randomizing changes at least some CAM map
      assert.ok(res.reports.some((r) => r.method !== 'edge' && r.layers.some((l) => l.spearman.mean !== null && l.spearman.mean < 0.99)), `${arch} ${mode}: no map changed`);
      console.log(`# ${arch} ${mode}: blocks ${res.blocks.map((b) => b.name).join(', ')}; gradcam Spearman ${by.gradcam.layers.map((l) => l.spearman.mean?.toFixed(2) ?? '–').join(', ')}`);
    }
  }
});

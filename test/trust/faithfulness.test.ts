/**
 * Deletion / insertion curves: exact curves on a stand-in model whose class probability is known in closed form,
 * a faithful map beats the random order and a reversed map, the blur baseline equals scipy's gaussian_filter, the
 * real engine on the shipped model gives curves for several methods on the same patches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gaussianBlur, meanBaseline, rankCells, runFaithfulness, trapezoid, type MapProvider, type ProviderFactory } from '../../main/engine/trust/index.js';
import type { Tensor } from '../../main/engine/explain/types.js';
import { PYTHON } from '../helpers/paths.js';
import { rng } from '../helpers/rng.js';
import { SHIPPED_MODEL, shippedPatches } from './fixtures.js';

/**
 * Stand-in model on 1×8×8 inputs: logit_1 = 4 · mean of the top-left 4×4 quadrant, logit_0 = 0; maps on a 4×4 grid
 * (2×2-px cells): 'good' = the quadrant's 4 cells, 'bad' = the other 12.
 */
const fake: ProviderFactory = async () => {
  const logits = (x: Tensor): Tensor => {
    const N = x.dims[0];
    const out = new Float32Array(N * 2);
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let y = 0; y < 4; y++) for (let xx = 0; xx < 4; xx++) s += x.data[n * 64 + y * 8 + xx];
      out[n * 2 + 1] = (4 * s) / 16;
    }
    return { data: out, dims: [N, 2] };
  };
  const p: MapProvider = {
    layer: 'fake', numClasses: 2, inputShape: [1, 8, 8],
    async maps(x) {
      const N = x.dims[0];
      const good = new Float32Array(N * 16), bad = new Float32Array(N * 16);
      for (let i = 0; i < N * 16; i++) { const q = Math.floor((i % 16) / 4) < 2 && i % 4 < 2; good[i] = q ? 1 : 0; bad[i] = q ? 0 : 1; }
      return { logits: logits(x), maps: { gradcam: { data: good, dims: [N, 4, 4] }, hirescam: { data: bad, dims: [N, 4, 4] } } };
    },
    predict: async (x) => logits(x),
    dispose: async () => {},
  };
  return p;
};

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

test('curves on a stand-in model: exact values, AUCs, and a faithful map beats random and reversed orders', async () => {
  const input = { data: new Float32Array(64).fill(1), dims: [1, 1, 8, 8] };
  const r = await runFaithfulness({ model: new Uint8Array(0), input, methods: ['gradcam', 'hirescam'], steps: 4, baseline: 'mean', target: 1, provider: fake });
  // mean baseline of a constant image is the image: nothing changes, every probability is sigmoid(4)
  for (const m of r.methods) for (const v of [...m.deletion.mean, ...m.insertion.mean]) assert.ok(Math.abs(v - sigmoid(4)) < 1e-6);
  const img = new Float32Array(64);
  for (let i = 0; i < 64; i++) img[i] = (Math.floor(i / 8) < 4 && i % 8 < 4) ? 1 : 0;
  const r2 = await runFaithfulness({ model: new Uint8Array(0), input: { data: img, dims: [1, 1, 8, 8] }, methods: ['gradcam', 'hirescam'], steps: 4, baseline: 'mean', target: 1, provider: fake });
  assert.deepEqual(r2.x, [0, 0.25, 0.5, 0.75, 1]);
  const g = r2.methods.find((m) => m.method === 'gradcam')!, b = r2.methods.find((m) => m.method === 'hirescam')!;
  // mean baseline = 0.25 everywhere; the quadrant's cells go first for 'gradcam', last for 'hirescam'
  const hi = sigmoid(4), lo = sigmoid(1);
  const near = (a: number[], e: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) < 1e-6, `${a} vs ${e}`));
  near(g.deletion.mean, [hi, lo, lo, lo, lo]);
  near(g.insertion.mean, [lo, hi, hi, hi, hi]);
  near(b.deletion.mean, [hi, hi, hi, hi, lo]);
  near(b.insertion.mean, [lo, lo, lo, lo, hi]);
  assert.ok(Math.abs(g.deletion.auc.mean! - trapezoid([hi, lo, lo, lo, lo])) < 1e-6);
  assert.ok(g.deletion.auc.mean! < b.deletion.auc.mean! && g.insertion.auc.mean! > b.insertion.auc.mean!);
  assert.equal(r2.methods[2].method, 'random');
  assert.match(r2.verdict, /gradcam: deletion AUC .* — beats the random order on both curves/);
  assert.match(r2.verdict, /hirescam: .* does not beat the random order/);
  assert.equal(r2.baseline.kind, 'mean');
  await assert.rejects(runFaithfulness({ model: new Uint8Array(0), input, methods: ['gradcam'], steps: 1, provider: fake }), /steps must be an integer 2…1000/);
});

test('helpers: trapezoid, cell ranking with ties, mean baseline', () => {
  assert.equal(trapezoid([1, 1, 1]), 1);
  assert.equal(trapezoid([1, 0]), 0.5);
  assert.deepEqual([...rankCells([0.2, 0.9, 0.2, 0.5])], [1, 3, 0, 2]);
  assert.deepEqual([...meanBaseline(Float32Array.from([1, 3, 10, 20]), 2, 1, 2)], [2, 2, 15, 15]);
});

const scipy = spawnSync(PYTHON, ['-c', 'import scipy.ndimage'], { encoding: 'utf8' }).status === 0;
test('blur baseline equals scipy.ndimage.gaussian_filter (reflect borders, truncate 4σ)', { skip: scipy ? false : `${PYTHON} lacks scipy (apt: python3-scipy): skipped` }, () => {
  const r = rng(5);
  const [C, H, W, sigma] = [2, 13, 17, 1.7];
  const x = Float32Array.from({ length: C * H * W }, () => r());
  const py = `import json,sys,numpy as np\nfrom scipy.ndimage import gaussian_filter\nd=json.load(sys.stdin);a=np.array(d['x'],dtype=np.float64).reshape(${C},${H},${W})\nprint(json.dumps([gaussian_filter(c,${sigma},mode='reflect').ravel().tolist() for c in a]))`;
  const out = spawnSync(PYTHON, ['-c', py], { input: JSON.stringify({ x: Array.from(x) }), encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const ref = (JSON.parse(out.stdout) as number[][]).flat();
  const ours = gaussianBlur(x, C, H, W, sigma);
  let err = 0;
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ours[i] - ref[i]));
  assert.ok(err < 1e-6, `max error ${err}`);
});

test('shipped model: several methods on the same patches, the random order as reference', async () => {
  const { input, names } = shippedPatches(2);
  const r = await runFaithfulness({ model: SHIPPED_MODEL, modelName: 'he-cellularity', input, inputNames: names, methods: ['gradcam', 'saliency'], steps: 8, ep: 'cpu' });
  assert.deepEqual(r.methods.map((m) => m.method), ['gradcam', 'saliency', 'random']);
  assert.deepEqual(r.methods[0].cells, [28, 28]);
  assert.deepEqual(r.methods[1].cells, [224, 224]);
  for (const m of r.methods) {
    assert.equal(m.deletion.mean.length, 9);
    assert.equal(m.deletion.auc.per_input.length, 2);
    // both curves start from the same two images: the original (deletion) and the baseline (insertion)
    assert.ok(Math.abs(m.deletion.mean[0] - r.methods[0].deletion.mean[0]) < 1e-6);
    assert.ok(Math.abs(m.insertion.mean[0] - r.methods[0].insertion.mean[0]) < 1e-6);
    assert.ok(Math.abs(m.deletion.mean[8] - r.methods[0].insertion.mean[0]) < 1e-6, 'deleting every cell gives the baseline');
  }
  assert.equal(r.baseline.kind, 'blur');
  assert.equal(r.baseline.sigma_px, 5.6);
  console.log(`# he-cellularity faithfulness: ${r.verdict}`);
});

/**
 * The CAM family against independent float64 references computed in JS from the activations A and gradients
 * G the engine returns (pytorch-grad-cam's formulas), G at the default layer against its closed form, batch and
 * seed handling, raw (never normalised) values, and EigenCAM against numpy's SVD.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAM_METHODS, createExplainer, type Tensor } from '../../main/engine/explain/index.js';
import { EigenCam, firstComponentProjection, topEigenvector } from '../../main/engine/explain/methods/eigen.js';
import { tensorToNumbers, decodeModelBytes } from '../../main/engine/explain/onnx-io.js';
import { PYTHON } from '../helpers/paths.js';
import { camReference as reference } from './cam-reference.js';
import { randn, rng, tinyResNet } from './onnx-build.js';

const model = tinyResNet({ classes: 5, seed: 5 });
const r = rng(21);
const N = 2;
const input = { data: randn(N * 3 * 32 * 32, r), dims: [N, 3, 32, 32] };
const seed = { data: Float32Array.from([1, 0, 0, 0, 0, 0, 0.5, -1, 0, 0]), dims: [N, 5] };

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / Math.max(m, 1e-12);
}

for (const layer of ['features', 'block_out', 'pool']) {
  test(`every in-graph map matches its formula from A and dS/dA (layer '${layer}')`, async () => {
    const ex = await createExplainer(model, { layer, methods: [...CAM_METHODS], ep: 'cpu', keepTensors: true });
    try {
      const out = await ex.explain(input, seed);
      const A = out.activations!, G = out.gradients!;
      assert.deepEqual(A.dims, [N, ex.layer.channels, ex.layer.height, ex.layer.width]);
      assert.deepEqual(G.dims, A.dims);
      assert.ok(G.data.some((v) => v !== 0), 'gradients are all zero');
      const ref = reference(A, G);
      for (const [name, want] of Object.entries(ref)) {
        const got = out.maps[name];
        assert.ok(got, `map '${name}' missing`);
        assert.deepEqual(got.dims, [N, ex.layer.height, ex.layer.width], name);
        assert.ok(relErr(got.data, want) < 1e-5, `${name}: relative error ${relErr(got.data, want)}`);
      }
      // saliency = max over channels of |dS/dInput|
      const GI = out.inputGradients!;
      assert.deepEqual(out.maps['saliency'].dims, [N, 32, 32]);
      const sal = new Float64Array(N * 32 * 32);
      for (let b = 0; b < N; b++) for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) sal[b * 1024 + p] = Math.max(sal[b * 1024 + p], Math.abs(GI.data[(b * 3 + c) * 1024 + p]));
      assert.ok(relErr(out.maps['saliency'].data, sal) < 1e-6);
      // logits = predict()
      const logits = await ex.predict(input);
      assert.ok(relErr(out.logits.data, logits.data) < 1e-5);
    } finally { await ex.dispose(); }
  });
}

test("dS/dA at the default layer equals its closed form: Σ_c seed_c · W_fc[c, k] / (H·W)", async () => {
  const proto = decodeModelBytes(model);
  const wfc = tensorToNumbers(proto.graph!.initializer!.find((t) => t.name === 'w_fc')!)!.values; // [5, 16]
  const ex = await createExplainer(model, { methods: ['gradcam'], ep: 'cpu', keepTensors: true });
  try {
    const out = await ex.explain(input, seed);
    const G = out.gradients!;
    for (let b = 0; b < N; b++) for (let k = 0; k < 16; k++) {
      let want = 0;
      for (let c = 0; c < 5; c++) want += seed.data[b * 5 + c] * wfc[c * 16 + k] / 16;
      for (let p = 0; p < 16; p++) assert.ok(Math.abs(G.data[(b * 16 + k) * 16 + p] - want) < 1e-6, `G[${b},${k},${p}]`);
    }
  } finally { await ex.dispose(); }
});

test('batches: items are independent, a [classes] seed broadcasts, maps are raw (a 3× seed gives 3× maps)', async () => {
  const methods = ['gradcam', 'hirescam', 'xgradcam', 'layercam', 'saliency', 'eigencam'] as const;
  const ex = await createExplainer(model, { layer: 'block_out', methods: [...methods], ep: 'cpu' });
  try {
    const one = { data: Float32Array.from([0, 1, 0, 0, 0]), dims: [5] };
    const both = await ex.explain(input, one);
    const size = 3 * 32 * 32;
    for (let b = 0; b < N; b++) {
      const single = await ex.explain({ data: input.data.slice(b * size, (b + 1) * size), dims: [1, 3, 32, 32] }, one);
      for (const [name, m] of Object.entries(single.maps)) {
        const per = m.data.length;
        assert.ok(relErr(both.maps[name].data.subarray(b * per, (b + 1) * per), m.data) < 1e-5, `${name} item ${b}`);
      }
    }
    const full = await ex.explain(input, { data: Float32Array.from([0, 1, 0, 0, 0, 0, 1, 0, 0, 0]), dims: [2, 5] });
    for (const name of Object.keys(both.maps)) assert.ok(relErr(full.maps[name].data, both.maps[name].data) < 1e-6, name);
    const tripled = await ex.explain(input, { data: Float32Array.from([0, 3, 0, 0, 0]), dims: [5] });
    for (const name of ['gradcam', 'gradcam-signed', 'hirescam', 'xgradcam', 'layercam', 'saliency']) {
      assert.ok(relErr(tripled.maps[name].data, both.maps[name].data.map((v) => 3 * v)) < 1e-5, `${name} is not raw/linear in the seed`);
    }
    assert.ok(relErr(tripled.maps['eigencam'].data, both.maps['eigencam'].data) < 1e-6, 'eigencam does not depend on the seed');
  } finally { await ex.dispose(); }
});

test('topEigenvector: Jacobi (n ≤ 96) and power iteration (n > 96) recover a known eigenpair', () => {
  for (const n of [7, 120]) {
    const rr = rng(n);
    // Q: random orthonormal basis (Gram–Schmidt); M = Q diag(λ) Qᵀ with λ_0 the largest
    const q: Float64Array[] = [];
    for (let i = 0; i < n; i++) {
      const v = Float64Array.from(randn(n, rr));
      for (const u of q) { let d = 0; for (let j = 0; j < n; j++) d += v[j] * u[j]; for (let j = 0; j < n; j++) v[j] -= d * u[j]; }
      const norm = Math.hypot(...v); for (let j = 0; j < n; j++) v[j] /= norm;
      q.push(v);
    }
    const lambda = Array.from({ length: n }, (_, i) => (i === 0 ? 10 : 5 * rr()));
    const m = new Float64Array(n * n);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] += lambda[k] * q[k][i] * q[k][j];
    const { vector, value } = topEigenvector(m, n);
    assert.ok(Math.abs(value - 10) < 1e-6, `n=${n}: eigenvalue ${value}`);
    let dot = 0; for (let j = 0; j < n; j++) dot += vector[j] * q[0][j];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-6, `n=${n}: |<v, q0>| = ${Math.abs(dot)}`);
  }
});

function havePythonNumpy(): boolean {
  try { execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }); return true; } catch { return false; }
}

test('EigenCAM projection matches numpy SVD (pytorch-grad-cam get_2d_projection) up to sign', { skip: havePythonNumpy() ? false : `${PYTHON} with numpy not available` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glassbox-eigen-'));
  const rr = rng(4);
  for (const [K, P] of [[16, 9], [6, 20]]) {
    const a = randn(K * P, rr).map((v, i) => v + (i % P) * 0.1);
    writeFileSync(join(dir, 'a.bin'), a);
    execFileSync(PYTHON, ['-c', `
import numpy as np
a = np.fromfile('${join(dir, 'a.bin')}', dtype=np.float32).reshape(${K}, ${P}).astype(np.float64)
r = a.reshape(a.shape[0], -1).T
r = r - r.mean(axis=0)
U, S, VT = np.linalg.svd(r, full_matrices=True)
(r @ VT[0, :]).astype(np.float64).tofile('${join(dir, 'p.bin')}')
`]);
    const want = new Float64Array(Uint8Array.from(readFileSync(join(dir, 'p.bin'))).buffer);
    const got = firstComponentProjection(a, K, P);
    const e = Math.min(relErr(got, want), relErr(got, want.map((v) => -v)));
    assert.ok(e < 1e-6, `K=${K} P=${P}: relative error ${e}`);
    // our sign: positively correlated with the channel-summed activation
    let dot = 0; for (let p = 0; p < P; p++) { let s = 0; for (let k = 0; k < K; k++) s += a[k * P + p]; dot += s * got[p]; }
    assert.ok(dot >= 0);
  }
});

test('EigenCAM: non-finite activations count as 0 and do not turn the map into NaN', () => {
  const rr = rng(8);
  for (const [K, P] of [[16, 9], [6, 20]]) {
    const a = randn(K * P, rr).map((v, i) => v + (i % P) * 0.1);
    const zeroed = Float32Array.from(a);
    for (const [i, bad] of [[3, NaN], [K * P - 2, Infinity], [P + 1, -Infinity]] as const) { a[i] = bad; zeroed[i] = 0; }
    const got = firstComponentProjection(a, K, P);
    assert.ok(got.every(Number.isFinite), `K=${K} P=${P}: ${got.join(', ')}`);
    assert.ok(relErr(got, firstComponentProjection(zeroed, K, P)) < 1e-12);
  }
  const m = new EigenCam().computeJs({ data: Float32Array.from({ length: 2 * 4 * 9 }, (_, i) => (i === 5 ? NaN : Math.sin(i))), dims: [2, 4, 3, 3] });
  assert.ok(m['eigencam'].data.every(Number.isFinite) && m['eigencam-signed'].data.every(Number.isFinite));
});

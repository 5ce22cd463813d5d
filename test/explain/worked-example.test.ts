/**
 * The Grad-CAM worked example (two 2×2 feature maps), through the real engine: a tiny ONNX model whose target activation holds
 * f1 = [[1, 2], [0, 1]], f2 = [[3, 0], [1, 2]] and whose head (GlobalAveragePool → Gemm) gives
 * α = [1/2, 1] for class 0 (weights [2, 4] / (H·W = 4)) and α = [1/2, −1] for class 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExplainer } from '../../main/engine/explain/index.js';
import { buildModel } from './onnx-build.js';

const model = buildModel({
  inputs: [{ name: 'x', dims: ['N', 2, 2, 2] }],
  outputs: ['logits'],
  inits: [{ name: 'w', values: [2, 4, 2, -4], dims: [2, 2] }, { name: 'b', values: [0, 0], dims: [2] }],
  nodes: [
    { op: 'Identity', inputs: ['x'], outputs: ['act'], name: 'target' },
    { op: 'GlobalAveragePool', inputs: ['act'], outputs: ['gap'] },
    { op: 'Flatten', inputs: ['gap'], outputs: ['flat'] },
    { op: 'Gemm', inputs: ['flat', 'w', 'b'], outputs: ['logits'], attrs: { transB: 1 } },
  ],
});
const f1 = [1, 2, 0, 1], f2 = [3, 0, 1, 2];
const input = { data: Float32Array.from([...f1, ...f2]), dims: [1, 2, 2, 2] };

function close(actual: Float32Array, expected: number[], what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-6, `${what}[${i}] = ${actual[i]}, expected ${expected[i]}`);
}

test('Grad-CAM worked example: α = [1/2, 1] → L = [[3.5, 1], [1, 2.5]] (ReLU changes nothing)', async () => {
  const ex = await createExplainer(model, { layer: 'act', methods: ['gradcam'], ep: 'cpu' });
  try {
    assert.equal(ex.layer.name, 'act');
    const out = await ex.explain(input, { data: Float32Array.from([1, 0]), dims: [2] });
    close(out.logits.data, [2 * 1 + 4 * 1.5, 2 * 1 - 4 * 1.5], 'logits');
    assert.deepEqual(out.maps['gradcam'].dims, [1, 2, 2]);
    close(out.maps['gradcam'].data, [3.5, 1, 1, 2.5], 'gradcam');
    close(out.maps['gradcam-signed'].data, [3.5, 1, 1, 2.5], 'gradcam-signed');
    close(out.maps['gradcam-for'].data, [3.5, 1, 1, 2.5], 'gradcam-for');
    close(out.maps['gradcam-against'].data, [0, 0, 0, 0], 'gradcam-against');
  } finally { await ex.dispose(); }
});

test('signed evidence: α = [1/2, −1] → L = ½f1 − f2 = [[−2.5, 1], [−1, −1.5]]', async () => {
  const ex = await createExplainer(model, { layer: 'act', methods: ['gradcam'], ep: 'cpu' });
  try {
    const out = await ex.explain(input, { data: Float32Array.from([0, 1]), dims: [2] });
    close(out.maps['gradcam-signed'].data, [-2.5, 1, -1, -1.5], 'gradcam-signed');
    close(out.maps['gradcam'].data, [0, 1, 0, 0], 'gradcam (ReLU)');
    close(out.maps['gradcam-for'].data, [0, 1, 0, 0], 'gradcam-for');
    close(out.maps['gradcam-against'].data, [2.5, 0, 1, 1.5], 'gradcam-against');
    // "A rather than B" seed (+1 / −1): α = [0, 2] → L = 2·f2
    const contrast = await ex.explain(input, { data: Float32Array.from([1, -1]), dims: [2] });
    close(contrast.maps['gradcam-signed'].data, [6, 0, 2, 4], 'contrast seed');
  } finally { await ex.dispose(); }
});

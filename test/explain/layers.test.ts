/** listTargetLayers on small ResNet-like models built in JS: candidates, C/H/W, stride, default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExplainer, listTargetLayers } from '../../main/engine/explain/index.js';
import { nearestNames, editDistance } from '../../main/engine/explain/layers.js';
import { buildModel, randn, rng, tinyResNet, type NodeSpec } from './onnx-build.js';
import { ensureReferences, REF_DIR } from './references.js';

test('candidates of a ResNet-like model: every 4-D activation input → logits before global pooling', async () => {
  const layers = await listTargetLayers(tinyResNet());
  assert.deepEqual(layers.map((l) => l.name), ['stem', 'stem_relu', 'pool', 'b1', 'b1n', 'b1r', 'b2', 'sum', 'block_out', 'down', 'features']);
  const by = Object.fromEntries(layers.map((l) => [l.name, l]));
  assert.deepEqual([by.stem.channels, by.stem.height, by.stem.width, by.stem.stride], [8, 16, 16, 2]);
  assert.deepEqual([by.pool.channels, by.pool.height, by.pool.width, by.pool.stride], [8, 8, 8, 4]);
  assert.deepEqual([by.features.channels, by.features.height, by.features.width, by.features.stride], [16, 4, 4, 8]);
  assert.equal(by.block_out.node, 'block_relu2');
  assert.equal(by.block_out.opType, 'Relu');
  assert.equal(by.sum.opType, 'Add');
  assert.deepEqual(layers.filter((l) => l.isDefault).map((l) => l.name), ['features']);
});

test('default before ReduceMean pooling, before Flatten → Gemm, and with a softmax output; path input works', async () => {
  for (const head of ['reducemean', 'flatten'] as const) {
    for (const opset of [13, 18]) {
      const layers = await listTargetLayers(tinyResNet({ head, opset }));
      assert.equal(layers.find((l) => l.isDefault)?.name, 'features', `${head} opset ${opset}`);
      assert.equal(layers.filter((l) => l.isDefault).length, 1);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'glassbox-layers-'));
  const p = join(dir, 'softmax.onnx');
  writeFileSync(p, tinyResNet({ softmax: true, classes: 7 }));
  const layers = await listTargetLayers(p);
  assert.equal(layers.find((l) => l.isDefault)?.name, 'features');
  const ex = await createExplainer(p, { methods: ['gradcam'], ep: 'cpu' });
  try {
    assert.equal(ex.numClasses, 7);
    assert.deepEqual(ex.inputShape, [3, 32, 32]);
    assert.equal(ex.inputName, 'input');
    assert.equal(ex.layer.name, 'features');
    assert.equal(ex.layers.length, layers.length);
    // logits are the raw scores before the softmax: they need not sum to 1
    const out = await ex.predict({ data: new Float32Array(3 * 32 * 32).fill(0.5), dims: [1, 3, 32, 32] });
    assert.equal(out.dims[1], 7);
    assert.ok(Math.abs(out.data.reduce((a, b) => a + b, 0) - 1) > 1e-3);
  } finally { await ex.dispose(); }
});

test('a layer can be chosen by tensor name or by the name of its node', async () => {
  const ex = await createExplainer(tinyResNet(), { layer: 'block_relu2', methods: ['gradcam'], ep: 'cpu' });
  try {
    assert.equal(ex.layer.name, 'block_out');
    assert.equal(ex.layer.stride, 4);
  } finally { await ex.dispose(); }
});

test('edit distance and nearest names', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.deepEqual(nearestNames('layer4.1.reluX', ['layer4.1.relu', 'layer3.1.relu', 'fc', 'layer4.0.relu', 'conv1']), ['layer4.1.relu', 'layer3.1.relu', 'layer4.0.relu']);
});

/** ConvNeXt-like: Conv s4 stem → channels-last block (Transpose, MatMul, Relu, MatMul, Transpose back) + skip →
 *  head (GlobalAveragePool, LayerNorm2d as Transpose-LayerNorm-Transpose, Flatten → Gemm) or an NHWC ReduceMean head */
function convNextLike(head: 'gap-ln' | 'nhwc-mean'): Uint8Array {
  const r = rng(11);
  const w = (name: string, dims: number[], scale: number) => ({ name, values: randn(dims.reduce((p, v) => p * v, 1), r, scale), dims });
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['input', 'w_stem'], outputs: ['stem'], attrs: { kernel_shape: [4, 4], strides: [4, 4] } },
    { op: 'Transpose', inputs: ['stem'], outputs: ['nhwc'], attrs: { perm: [0, 2, 3, 1] } },
    { op: 'MatMul', inputs: ['nhwc', 'w_up'], outputs: ['mm'] },
    { op: 'Relu', inputs: ['mm'], outputs: ['mmr'] },
    { op: 'MatMul', inputs: ['mmr', 'w_down'], outputs: ['mm2'] },
    { op: 'Transpose', inputs: ['mm2'], outputs: ['back'], attrs: { perm: [0, 3, 1, 2] } },
    { op: 'Add', inputs: ['stem', 'back'], outputs: ['features'] },
  ];
  if (head === 'gap-ln') {
    nodes.push(
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['gap'] },
      { op: 'Transpose', inputs: ['gap'], outputs: ['hl'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'LayerNormalization', inputs: ['hl', 'ln_s', 'ln_b'], outputs: ['ln'], attrs: { axis: -1, epsilon: 1e-6 } },
      { op: 'Transpose', inputs: ['ln'], outputs: ['lnb'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Flatten', inputs: ['lnb'], outputs: ['flat'] },
    );
  } else {
    nodes.push(
      { op: 'Transpose', inputs: ['features'], outputs: ['f_nhwc'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'ReduceMean', inputs: ['f_nhwc'], outputs: ['flat'], attrs: { axes: [1, 2], keepdims: 0 } },
    );
  }
  nodes.push({ op: 'Gemm', inputs: ['flat', 'w_fc'], outputs: ['logits'], attrs: { transB: 1 } });
  const inits = [w('w_stem', [6, 3, 4, 4], 0.3), w('w_up', [6, 12], 0.4), w('w_down', [12, 6], 0.4), w('w_fc', [5, 6], 0.5),
    { name: 'ln_s', values: new Float32Array(6).fill(1), dims: [6] }, { name: 'ln_b', values: new Float32Array(6), dims: [6] }];
  return buildModel({ inputs: [{ name: 'input', dims: [1, 3, 32, 32] }], outputs: ['logits'], nodes, inits, opset: 17 });
}

test('ConvNeXt-like: channels-last tensors are no candidates; the default is the last NCHW map before global pooling', async () => {
  for (const head of ['gap-ln', 'nhwc-mean'] as const) {
    const layers = await listTargetLayers(convNextLike(head));
    assert.deepEqual(layers.map((l) => l.name), ['stem', 'back', 'features'], head);
    assert.deepEqual(layers.filter((l) => l.isDefault).map((l) => l.name), ['features'], head);
    for (const l of layers) assert.deepEqual([l.channels, l.height, l.width, l.stride], [6, 8, 8, 4], `${head} ${l.name}`);
  }
});

test('SqueezeNet-like: strides are the product of Conv/Pool strides (integers), not input/activation ratios', async () => {
  const r = rng(5);
  const pool = (i: string, o: string): NodeSpec => ({ op: 'MaxPool', inputs: [i], outputs: [o], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } });
  const model = buildModel({
    inputs: [{ name: 'input', dims: [1, 3, 96, 96] }], outputs: ['logits'], opset: 17,
    nodes: [
      { op: 'Conv', inputs: ['input', 'w1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], strides: [2, 2] } }, // 47
      pool('c1', 'p1'), pool('p1', 'p2'), pool('p2', 'p3'), // 23, 11, 5
      { op: 'Conv', inputs: ['p3', 'w2'], outputs: ['c2'], attrs: { kernel_shape: [1, 1] } },
      { op: 'Relu', inputs: ['c2'], outputs: ['head'] },
      { op: 'GlobalAveragePool', inputs: ['head'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['logits'] },
    ],
    inits: [{ name: 'w1', values: randn(4 * 3 * 9, r, 0.3), dims: [4, 3, 3, 3] }, { name: 'w2', values: randn(5 * 4, r, 0.3), dims: [5, 4, 1, 1] }],
  });
  const layers = await listTargetLayers(model);
  assert.deepEqual(layers.map((l) => [l.name, l.height, l.stride]), [['c1', 47, 2], ['p1', 23, 4], ['p2', 11, 8], ['p3', 5, 16], ['c2', 5, 16], ['head', 5, 16]]);
  assert.equal(layers.find((l) => l.isDefault)?.name, 'head');
});

/** torchvision ConvNeXt / SqueezeNet exported by test/explain/py/make_reference.py (generated here when not cached) */
const refSkip = ensureReferences();
test('torchvision ConvNeXt / SqueezeNet exports: default target and integer strides', { skip: refSkip }, async () => {
  const dir = REF_DIR;
  const cx = await listTargetLayers(join(dir, 'convnext', 'model.onnx'));
  const d = cx.find((l) => l.isDefault)!;
  assert.deepEqual([d.name, d.channels, d.height, d.width, d.stride], ['target:features.5', 96, 6, 6, 16]);
  assert.ok(!cx.some((l) => l.name.includes('MatMul') || l.name.includes('classifier')), 'no channels-last or post-pool tensor');
  const sq = await listTargetLayers(join(dir, 'squeezenet1_1', 'model.onnx'));
  assert.equal(sq.find((l) => l.name === 'target:features.12')?.stride, 16);
  for (const l of [...cx, ...sq]) assert.ok(Number.isInteger(l.stride), `${l.name}: stride ${l.stride}`);
});

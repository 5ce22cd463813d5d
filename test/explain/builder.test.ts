/**
 * The backward-graph builder as a whole: input gradients of a full ResNet-like model vs finite differences
 * (residual Add: a tensor with two consumers sums its gradients), pruning to the T → logits sub-graph,
 * MaxPool ties (the first maximum gets the gradient, as in PyTorch), opset variants, standard ops only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildAugmented } from '../../main/engine/explain/augment.js';
import { buildBackward } from '../../main/engine/explain/backward.js';
import { Emitter } from '../../main/engine/explain/emit.js';
import { createExplainer, ExplainError } from '../../main/engine/explain/index.js';
import { loadModelInfo } from '../../main/engine/explain/model-info.js';
import { buildGraphInfo } from '../../main/engine/explain/graph-info.js';
import { DT, decodeModelBytes, encodeModel, valueInfo } from '../../main/engine/explain/onnx-io.js';
import { buildModel, gradcheck, gradcheckModel, randn, rng, tinyResNet } from './onnx-build.js';

test('input gradient of a ResNet-like model (conv, BN, maxpool, residual Add, GAP, Gemm) vs finite differences', async () => {
  const r = rng(99);
  const res = await gradcheckModel(tinyResNet({ seed: 8 }), [{ name: 'input', dims: [1, 3, 32, 32] }], { input: randn(3 * 32 * 32, r) }, { wrt: ['input'], output: 'logits', maxPoints: 60, h: 1e-2 });
  assert.ok(res.relErr < 2e-3, `relative error ${res.relErr}`);
  assert.ok(res.numeric[0].some((v) => Math.abs(v) > 1e-3));
});

test('a tensor consumed by several nodes sums their gradients (vs finite differences)', async () => {
  const r = rng(5);
  const res = await gradcheck({
    inputs: [{ name: 'x', dims: [1, 2, 5, 5] }],
    outputs: ['y'],
    inits: [{ name: 'w', values: randn(2 * 2 * 9, r), dims: [2, 2, 3, 3] }, { name: 'c', values: [0.5, -2], dims: [1, 2, 1, 1] }],
    nodes: [
      { op: 'Tanh', inputs: ['x'], outputs: ['a'] },
      { op: 'Conv', inputs: ['a', 'w'], outputs: ['p'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Mul', inputs: ['a', 'c'], outputs: ['q'] },
      { op: 'Add', inputs: ['p', 'q'], outputs: ['s'] },
      { op: 'Mul', inputs: ['s', 'a'], outputs: ['y'] },
    ],
  }, { x: randn(50, r) }, { wrt: ['x'] });
  assert.ok(res.relErr < 1e-3, `relative error ${res.relErr}`);
});

test('only the sub-graph T → logits is differentiated', async () => {
  const info = await loadModelInfo(tinyResNet());
  const count = (wrt: string[]) => {
    const e = new Emitter(info.opset);
    buildBackward(info, e, { output: info.logitsName, seed: 'seed', wrt });
    return { convT: e.nodes.filter((n) => n.opType === 'ConvTranspose').length, edits: e.forwardEdits.length, nodes: e.nodes.length };
  };
  const atFeatures = count(['features']);
  assert.equal(atFeatures.convT, 0, 'GAP → Gemm needs no ConvTranspose');
  const atBlock = count(['block_out']);
  assert.equal(atBlock.convT, 1, 'only down_conv lies between block_out and the logits');
  assert.equal(atBlock.edits, 0, 'the MaxPool is not touched');
  const atInput = count(['input']);
  assert.equal(atInput.convT, 5, 'stem, block conv ×2, down conv, and the MaxPool scatter');
  assert.equal(atInput.edits, 0, 'the MaxPool rule needs no Indices output (WebGPU lacks it)');
  assert.ok(atFeatures.nodes < atBlock.nodes && atBlock.nodes < atInput.nodes);
});

test('MaxPool ties: the first maximum of each window gets the gradient (PyTorch / ORT rule), overlaps sum', async () => {
  const variants: { kernel_shape: number[]; strides: number[]; pads?: number[] }[] = [{ kernel_shape: [2, 2], strides: [2, 2] }, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }];
  for (const attrs of variants) {
    const H = 5;
    const bytes = buildModel({ inputs: [{ name: 'x', dims: [1, 1, H, H] }], outputs: ['y'], nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { ...attrs } as Record<string, number[]> }] });
    const e = new Emitter(17);
    const g = await buildGraphInfo(decodeModelBytes(bytes), bytes, 't', { x: new ort.Tensor('float32', new Float32Array(H * H).fill(1), [1, 1, H, H]) });
    const [grad] = buildBackward(g, e, { output: 'y', seed: 'seed', wrt: ['x'] });
    const proto = decodeModelBytes(bytes);
    for (const ed of e.forwardEdits) proto.graph!.node![ed.nodeIndex].output!.push(ed.name);
    proto.graph!.node!.push(...e.nodes);
    proto.graph!.initializer!.push(...e.initializers);
    const yd = g.dims.get('y')!;
    proto.graph!.input!.push(valueInfo('seed', DT.FLOAT, yd));
    proto.graph!.output = [valueInfo(grad)];
    const s = await ort.InferenceSession.create(encodeModel(proto));
    const Y = yd[2] * yd[3];
    const seed = Float32Array.from({ length: Y }, (_, i) => i + 1);
    const out = (await s.run({ x: new ort.Tensor('float32', new Float32Array(H * H).fill(1), [1, 1, H, H]), seed: new ort.Tensor('float32', seed, yd) }))[grad].data as Float32Array;
    // expected: each output cell's seed goes to the first in-bounds position of its window (row-major)
    const k = attrs.kernel_shape[0], st = attrs.strides[0], p = attrs.pads?.[0] ?? 0;
    const want = new Float32Array(H * H);
    for (let oy = 0; oy < yd[2]; oy++) for (let ox = 0; ox < yd[3]; ox++) {
      let found = false;
      for (let i = 0; i < k && !found; i++) for (let j = 0; j < k && !found; j++) {
        const yy = oy * st - p + i, xx = ox * st - p + j;
        if (yy >= 0 && yy < H && xx >= 0 && xx < H) { want[yy * H + xx] += seed[oy * yd[3] + ox]; found = true; }
      }
    }
    assert.deepEqual(Array.from(out), Array.from(want), JSON.stringify(attrs));
    await s.release();
  }
});

test('same maps whatever the opset (11, 13, 17, 18: Squeeze/Unsqueeze/Reduce*/Split/Pad signatures)', async () => {
  const x = { data: randn(2 * 3 * 32 * 32, rng(3)), dims: [2, 3, 32, 32] };
  const seed = { data: Float32Array.from([0, 0, 1, 0, 0]), dims: [5] };
  let ref: Record<string, Float32Array> | undefined;
  for (const opset of [11, 13, 17, 18]) {
    const ex = await createExplainer(tinyResNet({ opset, head: 'reducemean' }), { layer: 'block_out', methods: ['gradcam', 'gradcam++', 'saliency'], ep: 'cpu' });
    try {
      const out = await ex.explain(x, seed);
      const maps = Object.fromEntries(Object.entries(out.maps).map(([k, v]) => [k, v.data]));
      if (!ref) ref = maps;
      else for (const [k, v] of Object.entries(ref)) {
        const d = v.reduce((m, a, i) => Math.max(m, Math.abs(a - maps[k][i])), 0);
        const scale = v.reduce((m, a) => Math.max(m, Math.abs(a)), 0);
        assert.ok(d <= 1e-5 * scale, `opset ${opset} ${k}: differs by ${d} (scale ${scale})`);
      }
    } finally { await ex.dispose(); }
  }
});

test('the augmented model uses standard ai.onnx ops only; seed, A, dS/dA and the in-graph maps are graph inputs/outputs', async () => {
  const info = await loadModelInfo(tinyResNet());
  const aug = buildAugmented(info, 'block_out', ['gradcam', 'hirescam', 'gradcam++', 'xgradcam', 'layercam', 'eigencam', 'saliency']);
  const proto = decodeModelBytes(aug.bytes);
  assert.deepEqual([...new Set(proto.graph!.node!.map((n) => n.domain ?? ''))], ['']);
  assert.deepEqual(proto.opsetImport!.map((o) => o.domain ?? ''), ['']);
  assert.deepEqual(proto.graph!.input!.map((i) => i.name), ['input', 'gb_seed']);
  const outs = proto.graph!.output!.map((o) => o.name);
  // saliency is computed in-graph; the CAM maps in JS (float64) from A and dS/dA
  assert.ok(outs.includes('gb_out/map/saliency'));
  assert.deepEqual(aug.jsMethods.map((m) => m.name).sort(), ['eigencam', 'gradcam', 'gradcam++', 'hirescam', 'layercam', 'xgradcam']);
  assert.ok(outs.includes('gb_out/activations') && outs.includes('gb_out/gradients') && outs.includes('gb_out/logits'));
  // EigenCAM alone needs no backward graph and no seed
  const eig = buildAugmented(info, 'block_out', ['eigencam']);
  assert.equal(eig.hasSeed, false);
  assert.ok(!decodeModelBytes(eig.bytes).graph!.node!.some((n) => n.opType === 'ConvTranspose'));
});

test('a model with a fixed batch of 1 runs N = 1 and refuses N = 2', async () => {
  const bytes = tinyResNet();
  const proto = decodeModelBytes(bytes);
  proto.graph!.input![0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 } as never;
  const ex = await createExplainer(encodeModel(proto), { methods: ['gradcam'], ep: 'cpu' });
  try {
    const one = await ex.explain({ data: new Float32Array(3 * 32 * 32).fill(0.3), dims: [1, 3, 32, 32] }, { data: Float32Array.from([1, 0, 0, 0, 0]), dims: [5] });
    assert.deepEqual(one.maps['gradcam'].dims, [1, 4, 4]);
    await assert.rejects(ex.explain({ data: new Float32Array(2 * 3 * 32 * 32), dims: [2, 3, 32, 32] }, { data: new Float32Array(5), dims: [5] }), (e: unknown) => e instanceof ExplainError && e.code === 'BAD_INPUT');
  } finally { await ex.dispose(); }
});

test('explainers with the same (model, layer, methods) share a cached session; disposing one leaves the other working', async () => {
  const model = tinyResNet({ seed: 12 });
  const x = { data: randn(3 * 32 * 32, rng(1)), dims: [1, 3, 32, 32] };
  const seed = { data: Float32Array.from([1, 0, 0, 0, 0]), dims: [5] };
  const a = await createExplainer(model, { methods: ['layercam', 'gradcam'], ep: 'cpu' });
  const b = await createExplainer(model, { methods: ['gradcam', 'layercam'], ep: 'cpu' });
  const before = await b.explain(x, seed);
  await a.dispose();
  const after = await b.explain(x, seed);
  assert.deepEqual(Array.from(after.maps['gradcam'].data), Array.from(before.maps['gradcam'].data));
  await assert.rejects(a.explain(x, seed), /disposed/);
  await b.dispose();
});

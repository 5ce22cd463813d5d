/**
 * MaxPool vector-Jacobian rule without the Indices output (rules/maxpool.ts):
 *  - central finite differences over attribute variants (distinct values: the max is unique, FD is defined);
 *  - ties (FD undefined): dX must route each window's dY to the FIRST maximum in window order, exactly — checked
 *    against a plain JS scan of every window and against ORT CPU's own MaxPool Indices output;
 *  - the augmented graph of a model with a MaxPool on the gradient path has no MaxPool with a second output.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildBackward } from '../../main/engine/explain/backward.js';
import { Emitter } from '../../main/engine/explain/emit.js';
import { buildGraphInfo } from '../../main/engine/explain/graph-info.js';
import { DT, decodeModelBytes, encodeModel, onnx, valueInfo, type AttrValue } from '../../main/engine/explain/onnx-io.js';
import { buildAugmented } from '../../main/engine/explain/augment.js';
import { loadModelInfo } from '../../main/engine/explain/model-info.js';
import { setMaxPoolRule } from '../../main/engine/explain/rules/maxpool.js';
import { buildModel, gradcheck, randDistinct, randn, rng, tinyResNet } from './onnx-build.js';

after(() => setMaxPoolRule(null));
const r = rng(29);
const size = (d: number[]) => d.reduce((p, v) => p * v, 1);

interface Variant { name: string; dims: number[]; attrs: Record<string, AttrValue>; opset?: number }
const VARIANTS: Variant[] = [
  { name: 'k2 s2', dims: [1, 2, 6, 6], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { name: 'k2 s2 p1 (non-overlapping, padded: crop)', dims: [1, 2, 6, 7], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'k2 s2 floor mode, odd size (zero-extend)', dims: [2, 2, 7, 5], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { name: 'k3 s3 ceil_mode (non-overlapping, partial last window)', dims: [1, 2, 8, 7], attrs: { kernel_shape: [3, 3], strides: [3, 3], ceil_mode: 1 } },
  { name: 'k2 s2 p1 ceil_mode (window starting in the end padding dropped)', dims: [1, 2, 7, 6], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } },
  { name: 'k4 s2 p1 (even K = 16 through ConvTranspose)', dims: [1, 2, 8, 8], attrs: { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'k2 s1 (overlapping)', dims: [1, 2, 5, 5], attrs: { kernel_shape: [2, 2] } },
  { name: 'k3 s1 p1', dims: [1, 2, 5, 6], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
  { name: 'k3 s2 p1 (ResNet stem)', dims: [2, 2, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'k3 s2 ceil_mode (partial last window)', dims: [1, 2, 6, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
  { name: 'k2 s2 ceil_mode odd size', dims: [1, 2, 7, 5], attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } },
  { name: 'k3 s2 p1 ceil_mode', dims: [1, 1, 8, 8], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } },
  { name: 'dilation 2', dims: [1, 1, 7, 7], attrs: { kernel_shape: [2, 2], dilations: [2, 2] } },
  { name: 'dilation 2 k3 s2 p2', dims: [1, 2, 9, 8], attrs: { kernel_shape: [3, 3], strides: [2, 2], dilations: [2, 2], pads: [2, 2, 2, 2] } },
  { name: 'asymmetric pads, rectangular kernel and strides', dims: [1, 2, 7, 6], attrs: { kernel_shape: [3, 2], strides: [2, 1], pads: [0, 1, 2, 0] } },
  { name: 'auto_pad SAME_UPPER', dims: [1, 2, 5, 5], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' } },
  { name: 'auto_pad SAME_LOWER', dims: [1, 2, 6, 5], attrs: { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' } },
  { name: 'storage_order 1 (ignored without Indices)', dims: [1, 2, 6, 6], attrs: { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 } },
  { name: 'opset 10 (Pad-2 with value attribute)', opset: 10, dims: [1, 2, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: '1-D k2 s2 (non-overlapping)', dims: [2, 3, 9], attrs: { kernel_shape: [2], strides: [2] } },
  { name: '1-D k3 s2 p1', dims: [2, 3, 9], attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] } },
  { name: '3-D k2 s1', dims: [1, 2, 3, 4, 3], attrs: { kernel_shape: [2, 2, 2] } },
  { name: '3-D k2 s2 ceil_mode', dims: [1, 2, 3, 5, 4], attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 } },
];

const pool = (v: Variant, outputs = ['y']) => buildModel({ inputs: [{ name: 'x', dims: v.dims }], outputs, nodes: [{ op: 'MaxPool', inputs: ['x'], outputs, attrs: v.attrs }], opset: v.opset });

test('MaxPool mask rule vs finite differences', async (t) => {
  for (const v of VARIANTS) {
    await t.test(v.name, async () => {
      const x = randDistinct(size(v.dims), r);
      const spec = { inputs: [{ name: 'x', dims: v.dims }], outputs: ['y'], nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: v.attrs }], opset: v.opset };
      const res = await gradcheck(spec, { x }, { wrt: ['x'], maxPoints: 200 });
      assert.ok(res.relErr < 1e-3, `${v.name}: relative error ${res.relErr.toExponential(2)}`);
      assert.ok(res.numeric[0].some((g) => Math.abs(g) > 1e-3), `${v.name}: FD all ~0`);
    });
  }
});

/** dX of S = Σ dy ⊙ MaxPool(x) from our backward graph, run on ORT CPU */
async function ourGrad(v: Variant, x: Float32Array, dyFor: (ydims: number[]) => Float32Array): Promise<{ dx: Float32Array; dy: Float32Array; ydims: number[] }> {
  const bytes = pool(v);
  const feeds = { x: new ort.Tensor('float32', x, v.dims) };
  const info = await buildGraphInfo(decodeModelBytes(bytes), bytes, 'maxpool', feeds);
  const e = new Emitter(info.opset);
  const [gx] = buildBackward(info, e, { output: 'y', seed: 'dy', wrt: ['x'] });
  const proto = decodeModelBytes(bytes);
  const g = proto.graph!;
  e.applyTo(g);
  g.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: [gx], output: ['dx'], name: 'dx' }));
  const ydims = info.dims.get('y')!;
  g.input!.push(valueInfo('dy', DT.FLOAT, ydims));
  g.output = [valueInfo('dx')];
  const s = await ort.InferenceSession.create(encodeModel(proto), { logSeverityLevel: 3 });
  const dy = dyFor(ydims);
  const res = await s.run({ ...feeds, dy: new ort.Tensor('float32', dy, ydims) });
  await s.release();
  return { dx: res.dx.data as Float32Array, dy, ydims };
}

/** independent reference: scan each 2-D window in row-major order, first position holding the max gets dy */
function scanReference(v: Variant, ydims: number[], x: Float32Array, dy: Float32Array): { dx: Float64Array; tiedLosers: number } {
  const [N, C, H, W] = v.dims, [, , Ho, Wo] = ydims;
  const [kh, kw] = v.attrs.kernel_shape as number[];
  const [sh, sw] = (v.attrs.strides as number[]) ?? [1, 1];
  const [dh, dw] = (v.attrs.dilations as number[]) ?? [1, 1];
  const [pt, pl] = (v.attrs.pads as number[]) ?? [0, 0, 0, 0];
  const dx = new Float64Array(x.length);
  let tiedLosers = 0;
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      let best = -Infinity, at = -1;
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const h = oh * sh - pt + i * dh, w = ow * sw - pl + j * dw;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        const val = x[p * H * W + h * W + w];
        if (val > best) { best = val; at = p * H * W + h * W + w; } else if (val === best) tiedLosers++;
      }
      dx[at] += dy[(p * Ho + oh) * Wo + ow];
    }
  }
  return { dx, tiedLosers };
}

const TIE_VARIANTS: Variant[] = [
  { name: 'k2 s2', dims: [2, 2, 6, 6], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { name: 'k3 s1 p1 (overlapping, padded)', dims: [1, 2, 6, 5], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
  { name: 'k3 s2 p1', dims: [1, 3, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'k3 s2 ceil_mode', dims: [1, 2, 6, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
  { name: 'k2 dilation 2', dims: [1, 2, 7, 7], attrs: { kernel_shape: [2, 2], dilations: [2, 2] } },
  { name: 'k2 s2 p1 ceil_mode (non-overlapping)', dims: [1, 2, 7, 6], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } },
  { name: 'k2 s1 (even K, ConvTranspose)', dims: [1, 2, 5, 6], attrs: { kernel_shape: [2, 2] } },
];

test('MaxPool ties: dY goes to the first maximum in window order, exactly (JS scan and ORT Indices agree)', async (t) => {
  for (const v of TIE_VARIANTS) {
    await t.test(v.name, async () => {
      const n = size(v.dims);
      // heavy ties: values in {0, 1, 2} (ReLU-like zeros), plus one constant plane (every window tied)
      const x = Float32Array.from({ length: n }, () => Math.floor(r() * 3));
      const plane = v.dims[2] * v.dims[3];
      x.fill(1.5, 0, plane);
      const { dx, dy, ydims } = await ourGrad(v, x, (yd) => randn(size(yd), r).map((g) => g + Math.sign(g)));
      // reference 1: JS scan of every window
      const { dx: scan, tiedLosers } = scanReference(v, ydims, x, dy);
      // reference 2: ORT CPU's MaxPool Indices (flat over N·C·H·W)
      const s = await ort.InferenceSession.create(pool(v, ['y', 'idx']), { logSeverityLevel: 3 });
      const out = await s.run({ x: new ort.Tensor('float32', x, v.dims) });
      await s.release();
      const idx = out.idx.data as BigInt64Array;
      const viaIdx = new Float64Array(n);
      idx.forEach((k, o) => { viaIdx[Number(k)] += dy[o]; });
      for (let i = 0; i < n; i++) {
        assert.ok(Math.abs(scan[i] - viaIdx[i]) < 1e-9, `references disagree at ${i}: scan ${scan[i]} vs ORT Indices ${viaIdx[i]}`);
        assert.ok(Math.abs(dx[i] - scan[i]) <= 1e-5 * (1 + Math.abs(scan[i])), `${v.name}: dX[${i}] = ${dx[i]}, first-max routing gives ${scan[i]}`);
      }
      // the case must contain windows whose maximum is tied (a later copy must get nothing from that window)
      assert.ok(tiedLosers > 0, `${v.name}: no tied maxima: the case tests nothing`);
    });
  }
});

/** the tiny ResNet (MaxPool k3 s2 p1 after the stem) with saliency: the MaxPool lies on the input → logits path */
test('augmented graph of a MaxPool model: no MaxPool with a second (Indices) output, same saliency as the Indices rule', async () => {
  const info = await loadModelInfo(tinyResNet({ classes: 4 }));
  const maxPools = (bytes: Uint8Array) => (decodeModelBytes(bytes).graph!.node ?? []).filter((n) => n.opType === 'MaxPool');
  const aug = buildAugmented(info, 'block_out', ['saliency', 'gradcam']);
  const mp = maxPools(aug.bytes);
  assert.equal(mp.length, 1, 'the forward MaxPool is kept');
  assert.deepEqual(mp.map((n) => (n.output ?? []).filter(Boolean).length), [1], 'MaxPool with an Indices output in the augmented graph');
  // the test can fail: the Indices rule does add the second output
  setMaxPoolRule('indices');
  let viaIndices: Uint8Array;
  try { viaIndices = buildAugmented(info, 'block_out', ['saliency', 'gradcam']).bytes; } finally { setMaxPoolRule(null); }
  assert.deepEqual(maxPools(viaIndices).map((n) => (n.output ?? []).filter(Boolean).length), [2]);
  // both rules give the same input gradient on tie-free random images
  const x = randn(2 * 3 * 32 * 32, r);
  const seed = Float32Array.from({ length: 8 }, (_, i) => (i % 4 === 1 ? 1 : i % 4 === 2 ? -0.5 : 0));
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const o = await s.run({ input: new ort.Tensor('float32', x, [2, 3, 32, 32]), gb_seed: new ort.Tensor('float32', seed, [2, 4]) });
    await s.release();
    return o['gb_out/input_gradients'].data as Float32Array;
  };
  const a = await run(aug.bytes), b = await run(viaIndices);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  assert.ok(m > 0 && d <= 1e-5 * m, `mask vs Indices rule: max|diff| ${d} vs max ${m}`);
});

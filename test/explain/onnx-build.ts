/**
 * Test helpers: build small ONNX models in JS (onnx-proto), and check a vector-Jacobian rule against central
 * finite differences of the forward model run in ORT (sums in float64 in JS).
 */
import * as ort from 'onnxruntime-node';
import { buildBackward } from '../../main/engine/explain/backward.js';
import { Emitter } from '../../main/engine/explain/emit.js';
import { buildGraphInfo } from '../../main/engine/explain/graph-info.js';
import {
  DT, type AttrValue, decodeModelBytes, encodeModel, floatTensor, int64Tensor, makeAttr, onnx, valueInfo,
} from '../../main/engine/explain/onnx-io.js';

export interface NodeSpec { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, AttrValue>; name?: string; domain?: string }
export interface InitSpec { name: string; values: ArrayLike<number>; dims: number[]; int?: boolean }
export interface ModelSpec {
  inputs: { name: string; dims: (number | string)[]; type?: number }[];
  outputs: string[];
  nodes: NodeSpec[];
  inits?: InitSpec[];
  opset?: number;
}

/** float attrs by name (alpha, beta, epsilon, min, max, …) are forced to FLOAT */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'epsilon', 'gamma', 'min', 'max', 'ratio', 'value_float']);

export function buildModel(spec: ModelSpec): Uint8Array {
  const nodes = spec.nodes.map((n, i) => onnx.NodeProto.create({
    opType: n.op, input: n.inputs, output: n.outputs, name: n.name ?? `${n.op}_${i}`, domain: n.domain ?? '',
    attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => makeAttr(k, v, FLOAT_ATTRS.has(k))),
  }));
  const graph = onnx.GraphProto.create({
    name: 'test',
    node: nodes,
    input: spec.inputs.map((v) => valueInfo(v.name, v.type ?? DT.FLOAT, v.dims)),
    output: spec.outputs.map((o) => valueInfo(o)),
    initializer: (spec.inits ?? []).map((t) => (t.int ? int64Tensor(t.name, t.values, t.dims) : floatTensor(t.name, t.values, t.dims))),
  });
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'glassbox-test', opsetImport: [{ domain: '', version: spec.opset ?? 17 }], graph });
  return encodeModel(model);
}

/** deterministic PRNG (mulberry32) */
import { rng } from '../helpers/rng.js';

export { rng };
export function randn(n: number, r: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}
/** values away from 0 by at least `gap` (for kinks at 0) */
export function randAway(n: number, r: () => number, gap = 0.1): Float32Array {
  return randn(n, r).map((v) => (v >= 0 ? v + gap : v - gap));
}
/** a random permutation of well-separated values (no ties, no near-ties: for max-pooling) */
export function randDistinct(n: number, r: () => number, spacing = 0.2): Float32Array {
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * spacing);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [v[i], v[j]] = [v[j], v[i]]; }
  return Float32Array.from(v);
}

export interface GradResult { analytic: Float64Array[]; numeric: Float64Array[]; checked: number[][]; relErr: number }

/**
 * Build the backward model of `spec` for dS/d(wrt) with S = Σ seed ⊙ output, run it in ORT, and compare with
 * central finite differences (step h) of the forward model on up to `maxPoints` elements per input.
 */
export function gradcheck(spec: ModelSpec, data: Record<string, Float32Array>, opts: GradOpts): Promise<GradResult> {
  return gradcheckModel(buildModel(spec), spec.inputs, data, { output: spec.outputs[0], ...opts });
}

export interface GradOpts { wrt: string[]; output?: string; h?: number; maxPoints?: number; seed?: number }

/** gradcheck on model bytes; `inputs` gives every graph input's dims (symbolic dims run at 1) */
export async function gradcheckModel(bytes: Uint8Array, inputs: ModelSpec['inputs'], data: Record<string, Float32Array>, opts: GradOpts): Promise<GradResult> {
  const spec = { inputs };
  const output = opts.output!;
  const h = opts.h ?? 1e-2;
  const r = rng(opts.seed ?? 7);
  const feeds = (d: Record<string, Float32Array>) => Object.fromEntries(spec.inputs.map((i) => [i.name, new ort.Tensor('float32', d[i.name], i.dims.map((x) => (typeof x === 'number' ? x : 1)))]));
  const info = await buildGraphInfo(decodeModelBytes(bytes), bytes, 'test', feeds(data));
  const outDims = info.dims.get(output)!;
  // augmented model
  const e = new Emitter(info.opset);
  const grads = buildBackward(info, e, { output, seed: 'seed', wrt: opts.wrt });
  const proto = decodeModelBytes(bytes);
  const g = proto.graph!;
  e.applyTo(g);
  grads.forEach((t, i) => g.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: [t], output: [`grad_${i}`], name: `grad_${i}` })));
  g.input!.push(valueInfo('seed', DT.FLOAT, outDims));
  g.output = grads.map((_, i) => valueInfo(`grad_${i}`));
  const back = await ort.InferenceSession.create(encodeModel(proto), { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const fwd = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  const nOut = outDims.reduce((p, v) => p * v, 1);
  const seed = randn(nOut, r);
  const res = await back.run({ ...feeds(data), seed: new ort.Tensor('float32', seed, outDims) });
  const S = async (d: Record<string, Float32Array>) => {
    const y = (await fwd.run(feeds(d)))[output].data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += seed[i] * y[i];
    return s;
  };
  const analytic: Float64Array[] = [], numeric: Float64Array[] = [], checked: number[][] = [];
  let num2 = 0, den2 = 0;
  for (let w = 0; w < opts.wrt.length; w++) {
    const x = data[opts.wrt[w]];
    const gA = Float64Array.from(res[`grad_${w}`].data as Float32Array);
    if (gA.length !== x.length) throw new Error(`gradient of '${opts.wrt[w]}' has ${gA.length} values, input has ${x.length}`);
    const max = opts.maxPoints ?? 120;
    const idx = x.length <= max ? Array.from({ length: x.length }, (_, i) => i) : Array.from({ length: max }, () => Math.floor(r() * x.length));
    const fd = new Float64Array(idx.length), an = new Float64Array(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      const xp = Float32Array.from(x), xm = Float32Array.from(x);
      xp[i] += h; xm[i] -= h;
      const dp = await S({ ...data, [opts.wrt[w]]: xp }), dm = await S({ ...data, [opts.wrt[w]]: xm });
      fd[k] = (dp - dm) / (xp[i] - xm[i]);
      an[k] = gA[i];
      num2 += (fd[k] - an[k]) ** 2; den2 += fd[k] ** 2;
    }
    analytic.push(an); numeric.push(fd); checked.push(idx);
  }
  await back.release(); await fwd.release();
  return { analytic, numeric, checked, relErr: Math.sqrt(num2) / Math.max(Math.sqrt(den2), 1e-12) };
}

/**
 * A small ResNet-like classifier: input [N, 3, 32, 32] → stem Conv s2 (16×16) → Relu → MaxPool s2 (8×8) →
 * residual block (Conv-BN-Relu-Conv + skip, Add, Relu) → Conv s2 (4×4) → Relu → head → logits [N, classes].
 * head: 'gap' (GlobalAveragePool → Flatten → Gemm) or 'reducemean' (ReduceMean over H,W → Gemm).
 */
export function tinyResNet(opts: {
  classes?: number; seed?: number; head?: 'gap' | 'reducemean' | 'flatten'; opset?: number; softmax?: boolean;
  /** nodes appended after the body (e.g. off-path ops) */
  extra?: NodeSpec[];
  /** an op inserted between the last Relu ('pre_tail') and 'features' */
  tail?: { op: string; attrs?: Record<string, AttrValue>; inputs?: string[] };
  /** an op inserted between the stem Relu ('stem_pre') and 'stem_relu' (before the default target) */
  stemOp?: { op: string; attrs?: Record<string, AttrValue> };
  extraInits?: InitSpec[];
} = {}): Uint8Array {
  const K = opts.classes ?? 5;
  const r = rng(opts.seed ?? 3);
  const w = (name: string, dims: number[], scale: number): InitSpec => ({ name, values: randn(dims.reduce((p, v) => p * v, 1), r, scale), dims });
  const opset = opts.opset ?? 17;
  const inits: InitSpec[] = [
    w('w_stem', [8, 3, 3, 3], 0.4), w('b_stem', [8], 0.1),
    w('w_b1', [8, 8, 3, 3], 0.25), w('w_b2', [8, 8, 3, 3], 0.25), w('b_b2', [8], 0.1),
    { name: 'bn_s', values: Array.from({ length: 8 }, () => 0.5 + r()), dims: [8] }, w('bn_b', [8], 0.1),
    w('bn_m', [8], 0.1), { name: 'bn_v', values: Array.from({ length: 8 }, () => 0.5 + r()), dims: [8] },
    w('w_down', [16, 8, 3, 3], 0.25), w('b_down', [16], 0.1),
    w('w_fc', [K, 16], 0.5), w('b_fc', [K], 0.1),
  ];
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['input', 'w_stem', 'b_stem'], outputs: ['stem'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, name: 'stem_conv' },
    ...(opts.stemOp
      ? [{ op: 'Relu', inputs: ['stem'], outputs: ['stem_pre'], name: 'stem_relu' }, { op: opts.stemOp.op, inputs: ['stem_pre'], outputs: ['stem_relu'], attrs: opts.stemOp.attrs, name: 'stem_extra' }]
      : [{ op: 'Relu', inputs: ['stem'], outputs: ['stem_relu'], name: 'stem_relu' }]),
    { op: 'MaxPool', inputs: ['stem_relu'], outputs: ['pool'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, name: 'maxpool' },
    { op: 'Conv', inputs: ['pool', 'w_b1'], outputs: ['b1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, name: 'block_conv1' },
    { op: 'BatchNormalization', inputs: ['b1', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], outputs: ['b1n'], attrs: { epsilon: 1e-5 }, name: 'block_bn' },
    { op: 'Relu', inputs: ['b1n'], outputs: ['b1r'], name: 'block_relu1' },
    { op: 'Conv', inputs: ['b1r', 'w_b2', 'b_b2'], outputs: ['b2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, name: 'block_conv2' },
    { op: 'Add', inputs: ['b2', 'pool'], outputs: ['sum'], name: 'block_add' },
    { op: 'Relu', inputs: ['sum'], outputs: ['block_out'], name: 'block_relu2' },
    { op: 'Conv', inputs: ['block_out', 'w_down', 'b_down'], outputs: ['down'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, name: 'down_conv' },
    ...(opts.tail
      ? [{ op: 'Relu', inputs: ['down'], outputs: ['pre_tail'], name: 'down_relu' }, { op: opts.tail.op, inputs: ['pre_tail', ...(opts.tail.inputs ?? [])], outputs: ['features'], attrs: opts.tail.attrs, name: 'tail_op' }]
      : [{ op: 'Relu', inputs: ['down'], outputs: ['features'], name: 'down_relu' }]),
    ...(opts.extra ?? []),
  ];
  inits.push(...(opts.extraInits ?? []));
  if ((opts.head ?? 'gap') === 'gap') {
    nodes.push({ op: 'GlobalAveragePool', inputs: ['features'], outputs: ['gap'], name: 'gap' });
    nodes.push({ op: 'Flatten', inputs: ['gap'], outputs: ['flat'], name: 'flatten' });
  } else if (opts.head === 'flatten') {
    nodes.push({ op: 'Flatten', inputs: ['features'], outputs: ['flat'], name: 'flatten' });
    inits.find((i) => i.name === 'w_fc')!.values = randn(K * 16 * 16, r, 0.2);
    inits.find((i) => i.name === 'w_fc')!.dims = [K, 16 * 16];
  } else if (opset >= 18) {
    inits.push({ name: 'axes_hw', values: [2, 3], dims: [2], int: true });
    nodes.push({ op: 'ReduceMean', inputs: ['features', 'axes_hw'], outputs: ['flat'], attrs: { keepdims: 0 }, name: 'mean_hw' });
  } else {
    nodes.push({ op: 'ReduceMean', inputs: ['features'], outputs: ['flat'], attrs: { axes: [2, 3], keepdims: 0 }, name: 'mean_hw' });
  }
  nodes.push({ op: 'Gemm', inputs: ['flat', 'w_fc', 'b_fc'], outputs: ['logits'], attrs: { transB: 1 }, name: 'fc' });
  const outputs = ['logits'];
  if (opts.softmax) { nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: 1 }, name: 'softmax' }); outputs[0] = 'probs'; }
  return buildModel({ inputs: [{ name: 'input', dims: ['N', 3, 32, 32] }], outputs, nodes, inits, opset });
}

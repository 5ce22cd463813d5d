/**
 * Every vector-Jacobian rule vs central finite differences of the forward op run in ORT (sums in float64),
 * on single-op models built in JS, covering attribute variants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, randAway, randDistinct, randn, rng, type ModelSpec, type NodeSpec, type InitSpec } from './onnx-build.js';
import type { AttrValue } from '../../main/engine/explain/onnx-io.js';

const r = rng(11);
const size = (d: number[]) => d.reduce((p, v) => p * v, 1);

interface Case {
  name: string;
  inputs: Record<string, { dims: number[]; data?: Float32Array; kind?: 'normal' | 'away' | 'distinct' | 'positive' }>;
  nodes: NodeSpec[];
  inits?: InitSpec[];
  wrt?: string[];
  opset?: number;
  tol?: number;
  h?: number;
}

function one(op: string, attrs: Record<string, AttrValue> = {}, extraInputs: string[] = []): NodeSpec[] {
  return [{ op, inputs: ['x', ...extraInputs], outputs: ['y'], attrs }];
}
const W = (name: string, dims: number[], scale = 0.5): InitSpec => ({ name, values: randn(size(dims), r, scale), dims });
const I = (name: string, values: number[]): InitSpec => ({ name, values, dims: [values.length], int: true });

async function run(c: Case) {
  const data: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(c.inputs)) {
    const n = size(v.dims);
    data[k] = v.data ?? (v.kind === 'away' ? randAway(n, r) : v.kind === 'distinct' ? randDistinct(n, r) : v.kind === 'positive' ? randn(n, r).map((x) => 0.5 + Math.abs(x)) : randn(n, r));
  }
  const spec: ModelSpec = {
    inputs: Object.entries(c.inputs).map(([name, v]) => ({ name, dims: v.dims })),
    outputs: ['y'], nodes: c.nodes, inits: c.inits, opset: c.opset,
  };
  const res = await gradcheck(spec, data, { wrt: c.wrt ?? Object.keys(c.inputs), h: c.h });
  const tol = c.tol ?? 1e-3;
  assert.ok(res.relErr < tol, `${c.name}: relative error ${res.relErr.toExponential(2)} ≥ ${tol} (analytic ${Array.from(res.analytic[0].slice(0, 4)).map((v) => v.toFixed(4))} vs numeric ${Array.from(res.numeric[0].slice(0, 4)).map((v) => v.toFixed(4))})`);
  // the gradient must not be trivially zero
  assert.ok(res.numeric.some((a) => a.some((v) => Math.abs(v) > 1e-4)), `${c.name}: finite differences are all ~0: the case tests nothing`);
}

const x4 = (dims = [1, 2, 6, 6], kind?: 'normal' | 'away' | 'distinct' | 'positive') => ({ x: { dims, kind } });

const CASES: Record<string, Case[]> = {
  Conv: [
    { name: 'k3 p1', inputs: x4([1, 2, 6, 6]), inits: [W('w', [3, 2, 3, 3]), W('b', [3])], nodes: one('Conv', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['w', 'b']) },
    { name: 'stride 2, asymmetric pads, odd size', inputs: x4([1, 2, 7, 7]), inits: [W('w', [3, 2, 3, 3])], nodes: one('Conv', { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 1, 1, 0] }, ['w']) },
    { name: 'stride 3 (output_padding)', inputs: x4([1, 1, 8, 9]), inits: [W('w', [2, 1, 2, 2])], nodes: one('Conv', { kernel_shape: [2, 2], strides: [3, 3] }, ['w']) },
    { name: 'dilation 2', inputs: x4([1, 2, 7, 7]), inits: [W('w', [2, 2, 3, 3])], nodes: one('Conv', { kernel_shape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] }, ['w']) },
    { name: 'groups 2', inputs: x4([1, 4, 5, 5]), inits: [W('w', [6, 2, 3, 3])], nodes: one('Conv', { kernel_shape: [3, 3], group: 2, pads: [1, 1, 1, 1] }, ['w']) },
    { name: 'depthwise stride 2', inputs: x4([1, 3, 6, 6]), inits: [W('w', [3, 1, 3, 3])], nodes: one('Conv', { kernel_shape: [3, 3], group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }, ['w']) },
    { name: 'auto_pad SAME_UPPER stride 2', inputs: x4([1, 2, 7, 6]), inits: [W('w', [2, 2, 4, 3])], nodes: one('Conv', { kernel_shape: [4, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }, ['w']) },
    { name: 'auto_pad SAME_LOWER', inputs: x4([1, 2, 6, 6]), inits: [W('w', [2, 2, 4, 4])], nodes: one('Conv', { kernel_shape: [4, 4], auto_pad: 'SAME_LOWER' }, ['w']) },
    { name: 'auto_pad VALID stride 2', inputs: x4([1, 2, 8, 7]), inits: [W('w', [2, 2, 3, 3])], nodes: one('Conv', { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'VALID' }, ['w']) },
    { name: '1-D conv', inputs: x4([1, 2, 9]), inits: [W('w', [3, 2, 3])], nodes: one('Conv', { kernel_shape: [3], strides: [2], pads: [1, 1] }, ['w']) },
  ],
  BatchNormalization: [
    { name: 'inference', inputs: x4([2, 3, 3, 3]), inits: [W('s', [3]), W('bb', [3]), W('m', [3]), { name: 'v', values: [0.5, 1.5, 2], dims: [3] }], nodes: one('BatchNormalization', { epsilon: 1e-3 }, ['s', 'bb', 'm', 'v']) },
  ],
  Activations: [
    { name: 'Relu', inputs: x4([1, 2, 4, 4], 'away'), nodes: one('Relu') },
    { name: 'LeakyRelu', inputs: x4([1, 2, 4, 4], 'away'), nodes: one('LeakyRelu', { alpha: 0.2 }) },
    { name: 'Clip attrs (opset 10)', opset: 10, inputs: { x: { dims: [2, 12], data: Float32Array.from({ length: 24 }, (_, i) => -1.55 + i * 0.137) } }, nodes: one('Clip', { min: -0.5, max: 0.7 }) },
    { name: 'Clip inputs (opset 13)', inputs: { x: { dims: [2, 12], data: Float32Array.from({ length: 24 }, (_, i) => -1.55 + i * 0.137) } }, inits: [{ name: 'lo', values: [-0.5], dims: [] }, { name: 'hi', values: [0.7], dims: [] }], nodes: one('Clip', {}, ['lo', 'hi']) },
    { name: 'Clip min only', inputs: { x: { dims: [2, 12], data: Float32Array.from({ length: 24 }, (_, i) => -1.55 + i * 0.137) } }, inits: [{ name: 'lo', values: [0], dims: [] }], nodes: one('Clip', {}, ['lo']) },
    { name: 'Sigmoid', inputs: x4([2, 10]), nodes: one('Sigmoid') },
    { name: 'HardSigmoid', inputs: { x: { dims: [2, 12], data: Float32Array.from({ length: 24 }, (_, i) => -4.55 + i * 0.4) } }, nodes: one('HardSigmoid', { alpha: 1 / 6, beta: 0.5 }) },
    { name: 'HardSwish', opset: 14, inputs: { x: { dims: [2, 12], data: Float32Array.from({ length: 24 }, (_, i) => -4.55 + i * 0.4) } }, nodes: one('HardSwish'), tol: 2e-3 },
    { name: 'Erf', inputs: x4([2, 10]), nodes: one('Erf') },
    { name: 'Tanh', inputs: x4([2, 10]), nodes: one('Tanh') },
    { name: 'Gelu (opset 20)', opset: 20, inputs: x4([2, 10]), nodes: one('Gelu') },
    { name: 'Gelu tanh (opset 20)', opset: 20, inputs: x4([2, 10]), nodes: one('Gelu', { approximate: 'tanh' }) },
    { name: 'Softplus', inputs: x4([2, 10]), nodes: one('Softplus') },
    { name: 'Elu', inputs: x4([2, 10], 'away'), nodes: one('Elu', { alpha: 0.7 }) },
    { name: 'Sqrt', inputs: x4([2, 10], 'positive'), nodes: one('Sqrt') },
    { name: 'Neg', inputs: x4([2, 10]), nodes: one('Neg') },
    { name: 'Exp', inputs: x4([2, 10]), nodes: one('Exp') },
    { name: 'Log', inputs: x4([2, 10], 'positive'), nodes: one('Log') },
    { name: 'Abs', inputs: x4([2, 10], 'away'), nodes: one('Abs') },
    { name: 'Reciprocal', inputs: x4([2, 10], 'positive'), nodes: one('Reciprocal') },
    { name: 'Pow constant 3', inputs: x4([2, 10]), inits: [{ name: 'p', values: [3], dims: [] }], nodes: one('Pow', {}, ['p']) },
    { name: 'Pow constant 0.5', inputs: x4([2, 10], 'positive'), inits: [{ name: 'p', values: [0.5], dims: [] }], nodes: one('Pow', {}, ['p']) },
    { name: 'Pow constant 2', inputs: x4([2, 10]), inits: [{ name: 'p', values: [2], dims: [] }], nodes: one('Pow', {}, ['p']) },
    { name: 'Identity', inputs: x4([2, 5]), nodes: one('Identity') },
    { name: 'Dropout (inference)', inputs: x4([2, 5]), inits: [{ name: 'ratio', values: [0.3], dims: [] }], nodes: one('Dropout', {}, ['ratio']) },
    { name: 'Cast to float', inputs: x4([2, 5]), nodes: one('Cast', { to: 1 }) },
  ],
  Broadcasting: [
    { name: 'Add [2,3,4] + [3,1]', inputs: { x: { dims: [2, 3, 4] }, b: { dims: [3, 1] } }, nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'Sub [1,3,1,1] - [2,3,4,4]', inputs: { x: { dims: [1, 3, 1, 1] }, b: { dims: [2, 3, 4, 4] } }, nodes: [{ op: 'Sub', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'Mul [2,3,4,5] * [1,3,1,1]', inputs: { x: { dims: [2, 3, 4, 5] }, b: { dims: [1, 3, 1, 1] } }, nodes: [{ op: 'Mul', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'Mul by a constant', inputs: { x: { dims: [2, 3, 4] } }, inits: [W('c', [4])], nodes: [{ op: 'Mul', inputs: ['c', 'x'], outputs: ['y'] }] },
    { name: 'Div [2,3,4] / [4]', inputs: { x: { dims: [2, 3, 4] }, b: { dims: [4], kind: 'positive' } }, nodes: [{ op: 'Div', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'Mul x * x (same tensor twice)', inputs: { x: { dims: [2, 5] } }, nodes: [{ op: 'Mul', inputs: ['x', 'x'], outputs: ['y'] }] },
    { name: 'Expand [3,1] → [2,3,4]', inputs: { x: { dims: [3, 1] } }, inits: [I('shape', [2, 3, 4])], nodes: one('Expand', {}, ['shape']) },
  ],
  Shape: [
    { name: 'Concat axis 1 with a constant', inputs: { x: { dims: [2, 2, 3] }, b: { dims: [2, 3, 3] } }, inits: [W('c', [2, 1, 3])], nodes: [{ op: 'Concat', inputs: ['x', 'c', 'b'], outputs: ['y'], attrs: { axis: 1 } }] },
    { name: 'Concat axis -1', inputs: { x: { dims: [2, 2] }, b: { dims: [2, 3] } }, nodes: [{ op: 'Concat', inputs: ['x', 'b'], outputs: ['y'], attrs: { axis: -1 } }] },
    { name: 'Split sizes input, second output only', inputs: x4([2, 5, 2]), inits: [I('sp', [2, 3])], nodes: [{ op: 'Split', inputs: ['x', 'sp'], outputs: ['y1', 'y'], attrs: { axis: 1 } }] },
    { name: 'Split equal (opset 11 attr) → Mul', opset: 11, inputs: x4([2, 4]), nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: 1, split: [2, 2] } }, { op: 'Mul', inputs: ['a', 'b'], outputs: ['y'] }] },
    { name: 'Slice inputs, negative indices', inputs: x4([2, 6, 5]), inits: [I('st', [1, -4]), I('en', [5, 100]), I('ax', [1, -1])], nodes: one('Slice', {}, ['st', 'en', 'ax']) },
    { name: 'Slice attrs (opset 9)', opset: 9, inputs: x4([2, 6, 5]), nodes: one('Slice', { starts: [1, 0], ends: [4, 3], axes: [1, 2] }) },
    { name: 'Gather axis 1, duplicates and negative', inputs: x4([2, 5, 3]), inits: [I('idx', [0, 3, 3, -1])], nodes: one('Gather', { axis: 1 }, ['idx']) },
    { name: 'Gather scalar index', inputs: x4([2, 5, 3]), inits: [{ name: 'idx', values: [2], dims: [], int: true }], nodes: one('Gather', { axis: 1 }, ['idx']) },
    { name: 'Gather 2-D indices axis 0', inputs: x4([4, 3]), inits: [{ name: 'idx', values: [1, 2, 2, 0], dims: [2, 2], int: true }], nodes: one('Gather', { axis: 0 }, ['idx']) },
    { name: 'Flatten axis 2', inputs: x4([2, 3, 2, 2]), nodes: one('Flatten', { axis: 2 }) },
    { name: 'Reshape', inputs: x4([2, 3, 4]), inits: [I('s', [4, -1])], nodes: one('Reshape', {}, ['s']) },
    { name: 'Transpose', inputs: x4([2, 3, 4]), nodes: one('Transpose', { perm: [2, 0, 1] }) },
    { name: 'Transpose default', inputs: x4([2, 3, 4]), nodes: one('Transpose') },
    { name: 'Squeeze (input axes, opset 13)', inputs: x4([2, 1, 4]), inits: [I('a', [1])], nodes: one('Squeeze', {}, ['a']) },
    { name: 'Unsqueeze (attr axes, opset 11)', opset: 11, inputs: x4([2, 4]), nodes: one('Unsqueeze', { axes: [0, 2] }) },
    { name: 'Unsqueeze (input axes)', inputs: x4([2, 4]), inits: [I('a', [-1])], nodes: one('Unsqueeze', {}, ['a']) },
    { name: 'Pad constant (inputs), with a crop', inputs: x4([1, 2, 4, 4]), inits: [I('p', [0, 0, 1, -1, 0, 1, 2, 0])], nodes: one('Pad', { mode: 'constant' }, ['p']) },
    { name: 'Pad reflect', inputs: x4([1, 2, 4, 5]), inits: [I('p', [0, 0, 2, 1, 0, 0, 1, 3])], nodes: one('Pad', { mode: 'reflect' }, ['p']) },
    { name: 'Pad edge', inputs: x4([1, 2, 4, 5]), inits: [I('p', [0, 1, 2, 1, 0, 0, 1, 3])], nodes: one('Pad', { mode: 'edge' }, ['p']) },
    { name: 'Pad constant (opset 10 attr)', opset: 10, inputs: x4([1, 2, 3, 3]), nodes: one('Pad', { mode: 'constant', pads: [0, 0, 2, 1, 0, 0, 1, 2] }) },
  ],
  Pooling: [
    { name: 'MaxPool k3 s2 p1', inputs: x4([1, 2, 7, 7], 'distinct'), nodes: one('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }) },
    { name: 'MaxPool k2 s2', inputs: x4([1, 2, 6, 6], 'distinct'), nodes: one('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }) },
    { name: 'MaxPool ceil_mode', inputs: x4([1, 2, 6, 6], 'distinct'), nodes: one('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }) },
    { name: 'MaxPool dilation 2', inputs: x4([1, 1, 7, 7], 'distinct'), nodes: one('MaxPool', { kernel_shape: [2, 2], dilations: [2, 2] }) },
    { name: 'MaxPool SAME_UPPER', inputs: x4([1, 2, 5, 5], 'distinct'), nodes: one('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }) },
    { name: 'AveragePool k3 s2 p1 exclude pad', inputs: x4([1, 2, 7, 7]), nodes: one('AveragePool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }) },
    { name: 'AveragePool count_include_pad', inputs: x4([1, 2, 7, 7]), nodes: one('AveragePool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }) },
    { name: 'AveragePool ceil_mode', inputs: x4([1, 2, 6, 6]), nodes: one('AveragePool', { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }) },
    { name: 'AveragePool ceil_mode + pads + count_include_pad', inputs: x4([1, 1, 6, 7]), nodes: one('AveragePool', { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], ceil_mode: 1, count_include_pad: 1 }) },
    { name: 'AveragePool k2 s2', inputs: x4([1, 2, 4, 6]), nodes: one('AveragePool', { kernel_shape: [2, 2], strides: [2, 2] }) },
    { name: 'GlobalAveragePool', inputs: x4([2, 3, 4, 5]), nodes: one('GlobalAveragePool') },
    { name: 'GlobalMaxPool', inputs: x4([2, 3, 4, 5], 'distinct'), nodes: one('GlobalMaxPool') },
  ],
  Reductions: [
    { name: 'ReduceMean axes attr keepdims 0 (opset 13)', opset: 13, inputs: x4([2, 3, 4, 4]), nodes: one('ReduceMean', { axes: [2, 3], keepdims: 0 }) },
    { name: 'ReduceMean axes input (opset 18)', opset: 18, inputs: x4([2, 3, 4]), inits: [I('a', [-1])], nodes: one('ReduceMean', { keepdims: 1 }, ['a']) },
    { name: 'ReduceMean all axes', inputs: x4([2, 3]), nodes: one('ReduceMean', { keepdims: 0 }) },
    { name: 'ReduceSum axes input (opset 13)', opset: 13, inputs: x4([2, 3, 4]), inits: [I('a', [0, 2])], nodes: one('ReduceSum', { keepdims: 0 }, ['a']) },
    { name: 'Softmax axis 1 (opset 13)', opset: 13, inputs: x4([2, 5, 3]), nodes: one('Softmax', { axis: 1 }) },
    { name: 'Softmax axis 1 (opset 11, 2-D coercion)', opset: 11, inputs: x4([2, 3, 4]), nodes: one('Softmax', { axis: 1 }) },
    { name: 'LogSoftmax', inputs: x4([2, 6]), nodes: one('LogSoftmax', { axis: -1 }) },
    { name: 'LayerNormalization axis -1', opset: 17, inputs: x4([2, 3, 6]), inits: [W('s', [6]), W('bb', [6])], nodes: one('LayerNormalization', { axis: -1, epsilon: 1e-5 }, ['s', 'bb']), tol: 2e-3 },
    { name: 'LayerNormalization axis 1', opset: 17, inputs: x4([2, 3, 4]), inits: [W('s', [3, 4]), W('bb', [3, 4])], nodes: one('LayerNormalization', { axis: 1, epsilon: 1e-5 }, ['s', 'bb']), tol: 2e-3 },
  ],
  Linear: [
    { name: 'Gemm transB, both operands', inputs: { x: { dims: [3, 4] }, b: { dims: [5, 4] } }, inits: [W('c', [5])], nodes: [{ op: 'Gemm', inputs: ['x', 'b', 'c'], outputs: ['y'], attrs: { transB: 1 } }] },
    { name: 'Gemm transA alpha beta, C [3,1]', inputs: { x: { dims: [4, 3] }, b: { dims: [4, 5] }, c: { dims: [3, 1] } }, nodes: [{ op: 'Gemm', inputs: ['x', 'b', 'c'], outputs: ['y'], attrs: { transA: 1, alpha: 0.7, beta: 1.3 } }] },
    { name: 'Gemm transA transB', inputs: { x: { dims: [4, 3] }, b: { dims: [5, 4] } }, nodes: [{ op: 'Gemm', inputs: ['x', 'b'], outputs: ['y'], attrs: { transA: 1, transB: 1, alpha: 2 } }] },
    { name: 'MatMul batched [2,3,4]@[4,5]', inputs: { x: { dims: [2, 3, 4] }, b: { dims: [4, 5] } }, nodes: [{ op: 'MatMul', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'MatMul broadcast [2,1,3,4]@[3,4,2]', inputs: { x: { dims: [2, 1, 3, 4] }, b: { dims: [3, 4, 2] } }, nodes: [{ op: 'MatMul', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'MatMul 1-D left [4]@[2,4,3]', inputs: { x: { dims: [4] }, b: { dims: [2, 4, 3] } }, nodes: [{ op: 'MatMul', inputs: ['x', 'b'], outputs: ['y'] }] },
    { name: 'MatMul 1-D right [2,3,4]@[4]', inputs: { x: { dims: [2, 3, 4] }, b: { dims: [4] } }, nodes: [{ op: 'MatMul', inputs: ['x', 'b'], outputs: ['y'] }] },
  ],
};

for (const [family, cases] of Object.entries(CASES)) {
  test(`gradcheck: ${family}`, async (t) => {
    for (const c of cases) await t.test(c.name, () => run(c));
  });
}

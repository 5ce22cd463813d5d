/**
 * Blocks found from the graph (named scopes, unscoped node names, BatchNorm joining its conv, depth grouping, order
 * from the logits) and the seeded re-draw (matched mean / std and family, BatchNorm running statistics kept,
 * reproducible per tensor, nothing else touched).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModelBytes, tensorToNumbers } from '../../main/engine/explain/onnx-io.js';
import { findBlocks, randomizeTensors, redraw } from '../../main/engine/trust/index.js';
import { tinyResNet, buildModel, randn, rng } from '../explain/onnx-build.js';
import { SHIPPED_MODEL } from './fixtures.js';
import { readFileSync } from 'node:fs';

function values(bytes: Uint8Array): Map<string, number[]> {
  const m = decodeModelBytes(bytes);
  return new Map((m.graph!.initializer ?? []).map((t) => [t.name ?? '', tensorToNumbers(t)!.values]));
}
const stats = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const mean = s / v.length;
  let q = 0, q4 = 0;
  for (let i = 0; i < v.length; i++) { q += (v[i] - mean) ** 2; q4 += (v[i] - mean) ** 4; }
  const varr = q / v.length;
  return { mean, std: Math.sqrt(varr), kurt: q4 / v.length / (varr * varr) - 3 };
};

test('shipped model: one block per layer, named by scope, from the logits to the input', () => {
  const blocks = findBlocks(SHIPPED_MODEL);
  assert.deepEqual(blocks.map((b) => b.name), ['head', 'features/features.15', 'features/features.12', 'features/features.8', 'features/features.4', 'features/features.0']);
  assert.deepEqual(blocks.map((b) => b.tensors.length), [2, 2, 2, 2, 2, 2]);
  // 84 k parameters in all (MODEL_CARD.md), every one in some block
  assert.equal(blocks.reduce((s, b) => s + b.params, 0), 3 * 64 + 3 + 16 * 27 + 16 + 32 * 144 + 32 + 48 * 288 + 48 + 64 * 432 + 64 + 64 * 576 + 64);
  assert.deepEqual(findBlocks(SHIPPED_MODEL, { depth: 1 }).map((b) => b.name), ['head', 'features']);
});

test('unscoped node names: one block per parameterised node; a BatchNorm joins the conv feeding it', () => {
  const blocks = findBlocks(tinyResNet());
  assert.deepEqual(blocks.map((b) => b.name), ['fc', 'down_conv', 'block_conv2', 'block_conv1', 'stem_conv']);
  const bn = blocks.find((b) => b.name === 'block_conv1')!;
  assert.deepEqual(bn.tensors, ['w_b1', 'bn_s', 'bn_b', 'bn_m', 'bn_v']);
  assert.deepEqual(bn.ops, ['Conv', 'BatchNormalization']);
});

test('scalar operands are formula constants; per-channel ones (layer scale) are parameters', () => {
  const r = rng(1);
  const bytes = buildModel({
    inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'],
    inits: [{ name: 'half', values: [0.5], dims: [1] }, { name: 'scale', values: randn(4, r), dims: [4] }, { name: 'W', values: randn(8, r), dims: [4, 2] }],
    nodes: [
      { op: 'Mul', inputs: ['x', 'half'], outputs: ['a'], name: '/pre/Mul' },
      { op: 'Mul', inputs: ['a', 'scale'], outputs: ['b'], name: '/blk/ls/Mul' },
      { op: 'MatMul', inputs: ['b', 'W'], outputs: ['y'], name: '/blk/fc/MatMul' },
    ],
  });
  const blocks = findBlocks(bytes);
  assert.deepEqual(blocks.map((b) => [b.name, b.tensors]), [['fc', ['W']], ['ls', ['scale']]]);
  // 'blk' wraps every block (like torchvision-in-a-wrapper's /net/): stripped before the depth applies
  assert.deepEqual(findBlocks(bytes, { depth: 1 }).map((b) => b.name), ['fc', 'ls']);
});

test('re-draw keeps each tensor\'s mean, std and family; BatchNorm running stats and other tensors untouched', () => {
  const bytes = readFileSync(SHIPPED_MODEL);
  const before = values(bytes);
  const blocks = findBlocks(bytes);
  const names = blocks.slice(0, 2).flatMap((b) => b.tensors);
  const { bytes: out, draws } = randomizeTensors(bytes, names, 5);
  const after = values(out);
  for (const [name, v] of before) {
    if (!names.includes(name)) { assert.deepEqual(after.get(name), v, `${name} untouched`); continue; }
    const a = stats(v), b = stats(after.get(name)!);
    assert.notDeepEqual(after.get(name), v, `${name} re-drawn`);
    const se = a.std / Math.sqrt(v.length);
    assert.ok(Math.abs(a.mean - b.mean) < 6 * se + 1e-7, `${name}: mean ${b.mean} vs ${a.mean}`);
    if (v.length >= 64) assert.ok(Math.abs(b.std / a.std - 1) < 6 / Math.sqrt(2 * v.length), `${name}: std ${b.std} vs ${a.std}`);
  }
  assert.equal(draws.length, names.length);
  // same seed → same bytes; another seed → other values
  assert.deepEqual(randomizeTensors(bytes, names, 5).bytes, out);
  assert.notDeepEqual(randomizeTensors(bytes, names, 6).bytes, out);
  // a tensor's values do not depend on which other tensors are randomized with it (cascading = independent per block)
  const alone = values(randomizeTensors(bytes, blocks[1].tensors, 5).bytes);
  for (const t of blocks[1].tensors) assert.deepEqual(alone.get(t), after.get(t));

  const tiny = tinyResNet();
  const tb = values(tiny);
  const ta = values(randomizeTensors(tiny, ['w_b1', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], 1).bytes);
  assert.deepEqual(ta.get('bn_m'), tb.get('bn_m'), 'running mean kept');
  assert.deepEqual(ta.get('bn_v'), tb.get('bn_v'), 'running variance kept');
  assert.notDeepEqual(ta.get('bn_s'), tb.get('bn_s'), 'BN scale re-drawn');
});

test('family: uniform-looking tensors are re-drawn uniform, normal ones normal', () => {
  const r = rng(3);
  const uni = Float32Array.from({ length: 4000 }, () => 0.2 + 0.1 * (2 * r() - 1));
  const nor = randn(4000, r, 0.05);
  const u = redraw(uni, 1, 'u', 'auto'), n = redraw(nor, 1, 'n', 'auto');
  assert.equal(u.draw.family, 'uniform');
  assert.equal(n.draw.family, 'normal');
  assert.ok(stats(u.values).kurt < -1, `uniform kurtosis ${stats(u.values).kurt}`);
  assert.ok(Math.abs(stats(n.values).kurt) < 0.5, `normal kurtosis ${stats(n.values).kurt}`);
  assert.equal(redraw(nor, 1, 'n', 'uniform').draw.family, 'uniform');
  // no spread: a bias stays; a weight gets PyTorch's default scale
  assert.equal(redraw(new Float32Array(8), 1, 'b', 'auto').draw.family, 'kept');
  const w = redraw(new Float32Array(8).fill(0.3), 1, 'w', 'auto', 16);
  assert.ok(w.values.every((v) => Math.abs(v) <= 0.25) && stats(w.values).std > 0);
});

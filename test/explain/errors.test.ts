/**
 * Clear errors: malformed ONNX, unknown / invalid target tensor (nearest names listed), an op without a
 * vector-Jacobian rule on the gradient path (an unsupported op OFF the path is fine), unsupported attribute
 * variants, bad inputs/seeds, unavailable execution providers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExplainer, ExplainError, listTargetLayers } from '../../main/engine/explain/index.js';
import { cudaProviderLibrary, mayHaveGpu } from '../../main/engine/explain/session.js';
import { tinyResNet } from './onnx-build.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-explain-errors-'));
const img = (n = 1) => ({ data: new Float32Array(n * 3 * 32 * 32).map((_, i) => Math.sin(i)), dims: [n, 3, 32, 32] });
const seed = { data: Float32Array.from([1, 0, 0, 0, 0]), dims: [5] };

async function rejects(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<ExplainError> {
  try { await p; } catch (e) {
    assert.ok(e instanceof ExplainError, `expected ExplainError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const re of patterns) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected ExplainError ${code}`);
}

test('malformed ONNX bytes → MALFORMED_MODEL', async () => {
  await rejects(createExplainer(Uint8Array.from([0xff, 0xff, 0xff, 0x07, 1, 2, 3]), { methods: ['gradcam'] }), 'MALFORMED_MODEL', /ONNX|ModelProto/);
  await rejects(createExplainer(new Uint8Array(0), { methods: ['gradcam'] }), 'MALFORMED_MODEL', /graph/);
  const good = tinyResNet();
  await rejects(listTargetLayers(good.subarray(0, Math.floor(good.length / 2))), 'MALFORMED_MODEL');
  const text = join(dir, 'not-a-model.onnx');
  writeFileSync(text, 'this is a text file, not protobuf\n');
  await rejects(createExplainer(text, { methods: ['gradcam'] }), 'MALFORMED_MODEL', /not-a-model\.onnx/);
  await rejects(createExplainer(join(dir, 'missing.onnx'), { methods: ['gradcam'] }), 'MALFORMED_MODEL', /missing\.onnx/);
});

test('unknown target tensor → UNKNOWN_TENSOR listing the nearest names', async () => {
  const e = await rejects(createExplainer(tinyResNet(), { layer: 'block_outt', methods: ['gradcam'], ep: 'cpu' }), 'UNKNOWN_TENSOR', /'block_outt' not found/, /nearest: /);
  assert.match(e.message, /'block_out'/);
  assert.equal(e.message.split('nearest: ')[1].split(', ').length, 3);
});

test('an existing tensor that is not a 4-D activation → BAD_INPUT naming why', async () => {
  await rejects(createExplainer(tinyResNet(), { layer: 'flat', methods: ['gradcam'], ep: 'cpu' }), 'BAD_INPUT', /'flat'/, /4-D/);
});

test('an op without a VJP rule between the target and the logits → UNSUPPORTED_OP (op, node, path, supported list)', async () => {
  for (const op of ['Cos', 'LRN']) {
    const model = tinyResNet({ tail: { op, attrs: op === 'LRN' ? { size: 3 } : {} } });
    await rejects(createExplainer(model, { layer: 'block_out', methods: ['gradcam'], ep: 'cpu' }), 'UNSUPPORTED_OP',
      new RegExp(`op '${op}' \\(node 'tail_op'\\)`), /'block_out'/, /'logits'/, /no vector-Jacobian rule/, /supported: .*Conv/);
  }
});

test('an unsupported op OFF the gradient path is fine', async () => {
  // a Cos branch that never reaches the logits, and an LRN before the target (Grad-CAM only differentiates T → logits)
  const model = tinyResNet({ extra: [{ op: 'Cos', inputs: ['features'], outputs: ['unused'], name: 'dangling_cos' }], stemOp: { op: 'LRN', attrs: { size: 3 } } });
  const ex = await createExplainer(model, { methods: ['gradcam'], ep: 'cpu' });
  try {
    assert.equal(ex.layer.name, 'features');
    const out = await ex.explain(img(), seed);
    assert.ok(out.maps['gradcam-signed'].data.some((v) => v !== 0));
  } finally { await ex.dispose(); }
  // …but saliency differentiates input → logits, through the LRN
  await rejects(createExplainer(model, { methods: ['saliency'], ep: 'cpu' }), 'UNSUPPORTED_OP', /op 'LRN' \(node 'stem_extra'\)/, /the input 'input'/);
});

test('an unsupported attribute variant on the path → UNSUPPORTED_OP naming the attribute', async () => {
  const model = tinyResNet({ tail: { op: 'Pad', inputs: ['pads'], attrs: { mode: 'wrap' } }, extraInits: [{ name: 'pads', values: [0, 0, 1, 1, 0, 0, 1, 1], dims: [8], int: true }], opset: 19 });
  await rejects(createExplainer(model, { layer: 'block_out', methods: ['gradcam'], ep: 'cpu' }), 'UNSUPPORTED_OP', /op 'Pad'/, /mode='wrap'/);
});

test('bad inputs and seeds → BAD_INPUT', async () => {
  await rejects(createExplainer(tinyResNet(), { methods: [] }), 'BAD_INPUT', /no methods/);
  await rejects(createExplainer(tinyResNet(), { methods: ['gradcam', 'nope' as never] }), 'BAD_INPUT', /'nope'/);
  const ex = await createExplainer(tinyResNet(), { methods: ['gradcam'], ep: 'cpu' });
  try {
    await rejects(ex.explain({ data: new Float32Array(3 * 16 * 16), dims: [1, 3, 16, 16] }, seed), 'BAD_INPUT', /\[N, 3, 32, 32\]/);
    await rejects(ex.explain(img(), { data: new Float32Array(4), dims: [4] }), 'BAD_INPUT', /5 classes/);
    await rejects(ex.explain(img(2), { data: new Float32Array(15), dims: [3, 5] }), 'BAD_INPUT', /seed/);
    await rejects(ex.predict({ data: new Float32Array(10), dims: [1, 3, 32, 32] }), 'BAD_INPUT', /values/);
    const nan = img(2);
    nan.data[3 * 32 * 32 + 2 * 32 + 7] = NaN; // item 1, channel 0, row 2, column 7
    await rejects(ex.explain(nan, seed), 'BAD_INPUT', /non-finite value \(NaN\) at \[1, 0, 2, 7\]/);
    await rejects(ex.predict(nan), 'BAD_INPUT', /non-finite/);
    const infSeed = { data: new Float32Array(5).fill(Infinity), dims: [5] };
    await rejects(ex.explain(img(), infSeed), 'BAD_INPUT', /seed holds a non-finite value/);
  } finally { await ex.dispose(); }
});

test('forced execution provider that is unavailable → EP_UNAVAILABLE; auto falls back cleanly', async () => {
  const model = tinyResNet();
  if (!existsSync(cudaProviderLibrary())) {
    await rejects(createExplainer(model, { methods: ['gradcam'], ep: 'cuda' }), 'EP_UNAVAILABLE', /cuda/);
  }
  let webgpu = true;
  try {
    const w = await createExplainer(model, { methods: ['gradcam'], ep: 'webgpu' });
    assert.equal(w.executionProvider, 'webgpu');
    await w.dispose();
  } catch (e) {
    webgpu = false;
    assert.ok(e instanceof ExplainError && e.code === 'EP_UNAVAILABLE', String(e));
  }
  const ex = await createExplainer(model, { methods: ['gradcam'], ep: 'auto' });
  try {
    const expected = existsSync(cudaProviderLibrary()) ? ['cuda', 'webgpu', 'cpu'] : webgpu && mayHaveGpu() ? ['webgpu'] : ['cpu'];
    assert.ok(expected.includes(ex.executionProvider), `auto chose ${ex.executionProvider}`);
    const out = await ex.explain(img(), seed);
    assert.deepEqual(out.maps['gradcam'].dims, [1, 4, 4]);
  } finally { await ex.dispose(); }
});

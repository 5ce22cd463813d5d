/**
 * Execution-provider fallback with an injected GPU provider (no GPU here): session.ts's provider hooks make 'auto'
 * try a fake 'webgpu' — a CPU session underneath — that either cannot create sessions or, like ORT's WebGPU
 * provider, rejects at run time any MaxPool that produces the Indices output.
 *  - 'auto': falls back to CPU (creation failure or failed first run), reports executionProvider 'cpu' and a
 *    fallbackReason, gives the CPU result, and later explainers of that model go straight to CPU;
 *  - a forced provider never falls back: EP_UNAVAILABLE;
 *  - the default MaxPool rule needs no Indices, so the fake WebGPU runs the model without falling back;
 *  - the CLI prints the provider used and the reason.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createExplainer, clearSessionCache, ExplainError, type Explainer, type Tensor } from '../../main/engine/explain/index.js';
import { decodeModelBytes } from '../../main/engine/explain/onnx-io.js';
import { setProviderHooks } from '../../main/engine/explain/session.js';
import { setMaxPoolRule } from '../../main/engine/explain/rules/maxpool.js';
import { writeNpy } from '../../main/engine/explain/npy.js';
import { main as cli } from '../../app/cli/main.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { randn, rng, tinyResNet } from './onnx-build.js';

const INDICES_ERROR = "Non-zero status code returned while running MaxPool node. Status Message: pool.cc:276 ComputeInternal The Indices output is not supported yet.";

interface Fake { creates: number; runs: number; failedRuns: number }
/** inject a fake 'webgpu': mode 'create' = cannot create sessions; 'indices' = rejects MaxPool Indices at run; 'run' = every run fails */
function injectWebgpu(mode: 'create' | 'indices' | 'run'): Fake {
  const fake: Fake = { creates: 0, runs: 0, failedRuns: 0 };
  setProviderHooks({
    autoOrder: () => ['webgpu'],
    create: async (bytes, ep, options) => {
      const real = await ort.InferenceSession.create(bytes, { ...options, executionProviders: ['cpu'] });
      if (ep !== 'webgpu') return real;
      fake.creates++;
      if (mode === 'create') { await real.release(); throw new Error('no WebGPU adapter found (injected)'); }
      const usesIndices = (decodeModelBytes(bytes).graph!.node ?? []).some((n) => n.opType === 'MaxPool' && (n.output ?? []).filter(Boolean).length > 1);
      const run = async (feeds: ort.InferenceSession.FeedsType, fetches: ort.InferenceSession.FetchesType) => {
        fake.runs++;
        if (mode === 'run' || (mode === 'indices' && usesIndices)) { fake.failedRuns++; throw new Error(INDICES_ERROR); }
        return real.run(feeds, fetches);
      };
      return new Proxy(real, { get: (t, p) => (p === 'run' ? run : Reflect.get(t, p)) });
    },
  });
  return fake;
}

afterEach(async () => {
  setMaxPoolRule(null);
  await clearSessionCache();
  setProviderHooks({});
  await clearSessionCache();
});

const r = rng(5);
const x: Tensor = { data: randn(2 * 3 * 32 * 32, r), dims: [2, 3, 32, 32] };
const seed: Tensor = { data: Float32Array.from([0, 1, 0, -1, 0]), dims: [5] };
const model = tinyResNet();
const METHODS = ['saliency', 'gradcam'] as const;

async function cpuReference(): Promise<Record<string, Float32Array>> {
  const ex = await createExplainer(model, { methods: [...METHODS], ep: 'cpu' });
  try {
    const o = await ex.explain(x, seed);
    return Object.fromEntries(Object.entries(o.maps).map(([k, v]) => [k, v.data]));
  } finally { await ex.dispose(); }
}
function sameMaps(a: Record<string, Float32Array>, b: Record<string, Float32Array>) {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) assert.deepEqual(Array.from(a[k]), Array.from(b[k]), `map ${k}`);
}
async function rejectsWith(p: Promise<unknown>, code: string, ...patterns: RegExp[]) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ExplainError, `expected ExplainError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

test("auto: a GPU provider that fails on the first run (MaxPool Indices) → CPU, with the reason; later explainers go straight to CPU", async () => {
  const ref = await cpuReference();
  setMaxPoolRule('indices'); // the old rule: a MaxPool with an Indices output, which the (fake) WebGPU rejects
  await clearSessionCache();
  const fake = injectWebgpu('indices');
  let ex: Explainer | undefined;
  try {
    ex = await createExplainer(model, { methods: [...METHODS], ep: 'auto' });
    assert.equal(ex.executionProvider, 'webgpu', 'the session was created on the GPU provider');
    assert.equal(ex.fallbackReason, undefined);
    const out = await ex.explain(x, seed);
    assert.equal(ex.executionProvider, 'cpu');
    assert.match(ex.fallbackReason ?? '', /webgpu failed on the first run/);
    assert.match(ex.fallbackReason ?? '', /Indices output is not supported/);
    sameMaps(Object.fromEntries(Object.entries(out.maps).map(([k, v]) => [k, v.data])), ref);
    assert.equal(fake.failedRuns, 1);
    // later runs stay on CPU; predict follows the explanation session's provider
    await ex.explain(x, seed);
    const logits = await ex.predict(x);
    assert.deepEqual(logits.dims, [2, 5]);
    assert.equal(fake.failedRuns, 1);
  } finally { await ex?.dispose(); }
  // a new explainer for the same model and layer: CPU at once, same reason, no failing GPU run
  const runsBefore = fake.runs;
  const again = await createExplainer(model, { methods: [...METHODS], ep: 'auto' });
  try {
    assert.equal(again.executionProvider, 'cpu');
    assert.match(again.fallbackReason ?? '', /Indices output is not supported/);
    await again.explain(x, seed);
    assert.equal(fake.runs, runsBefore, 'the failing GPU session was not run again');
  } finally { await again.dispose(); }
});

test('auto with the default MaxPool rule: the (fake) WebGPU runs the MaxPool model itself, no fallback', async () => {
  const ref = await cpuReference();
  await clearSessionCache();
  const fake = injectWebgpu('indices');
  const ex = await createExplainer(model, { methods: [...METHODS], ep: 'auto' });
  try {
    const out = await ex.explain(x, seed);
    assert.equal(ex.executionProvider, 'webgpu');
    assert.equal(ex.fallbackReason, undefined);
    assert.equal(fake.failedRuns, 0);
    assert.ok(fake.runs >= 1);
    sameMaps(Object.fromEntries(Object.entries(out.maps).map(([k, v]) => [k, v.data])), ref);
  } finally { await ex.dispose(); }
});

test('auto: a GPU provider that cannot create the session → CPU at creation, with the reason', async () => {
  const fake = injectWebgpu('create');
  const ex = await createExplainer(model, { methods: ['gradcam'], ep: 'auto' });
  try {
    assert.equal(ex.executionProvider, 'cpu');
    assert.match(ex.fallbackReason ?? '', /webgpu could not create a session \(no WebGPU adapter found \(injected\)\)/);
    assert.deepEqual((await ex.explain(x, seed)).maps['gradcam'].dims, [2, 4, 4]);
    assert.equal(fake.creates, 1);
  } finally { await ex.dispose(); }
});

test('a forced provider never falls back: EP_UNAVAILABLE at creation or at the first run', async () => {
  injectWebgpu('create');
  await rejectsWith(createExplainer(model, { methods: ['gradcam'], ep: 'webgpu' }), 'EP_UNAVAILABLE', /'webgpu' is not available/, /injected/);
  await clearSessionCache();
  const fake = injectWebgpu('run');
  const ex = await createExplainer(model, { methods: ['gradcam'], ep: 'webgpu' });
  try {
    assert.equal(ex.executionProvider, 'webgpu');
    await rejectsWith(ex.explain(x, seed), 'EP_UNAVAILABLE', /'webgpu' failed to run the explanation model/, /Indices/, /ep 'auto' falls back/);
    await rejectsWith(ex.explain(x, seed), 'EP_UNAVAILABLE', /webgpu/);
    assert.equal(ex.executionProvider, 'webgpu');
    assert.equal(ex.fallbackReason, undefined);
    assert.equal(fake.failedRuns, 2);
  } finally { await ex.dispose(); }
});

test('CLI explain --ep auto prints the provider used and the fallback reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glassbox-fallback-'));
  const input = join(dir, 'x.npy');
  await writeNpy(input, { data: randn(3 * 112 * 112, r), dims: [1, 3, 112, 112] });
  injectWebgpu('run');
  const out: string[] = [], err: string[] = [];
  const code = await cli(['explain', '--model', join(REPO_ROOT, 'models', 'tiny-crc-demo'), '--input', input, '--ep', 'auto', '--out', join(dir, 'm.npy')], { out: (s) => out.push(s), err: (s) => err.push(s) });
  assert.equal(code, 0, err.join('\n'));
  const line = out.join('\n').split('\n').find((l) => l.startsWith('execution provider:'));
  assert.match(line ?? '', /^execution provider: cpu \(fallback: webgpu failed on the first run of the explanation model \(.*Indices.*\): using cpu\)$/);
});

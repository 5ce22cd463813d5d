/**
 * ORT sessions on their own thread (main/engine/explain/ort-thread.ts): building one leaves the caller's event loop
 * free (onnxruntime-node builds synchronously on the calling thread: the host would stall), runs give the same numbers
 * as an in-thread session, a view's neighbours do not travel, errors keep ORT's message, a released session refuses
 * to run, and a stopped thread fails its sessions with the reason while the next create starts a new one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { createThreadSession, stopOrtThread } from '../../main/engine/explain/ort-thread.js';
import { buildModel, randn, rng } from './onnx-build.js';

/** a chain of 3×3 convolutions (C channels, `depth` layers): slow enough to build that a stall shows */
function convChain(C: number, depth: number): Uint8Array {
  const r = rng(7);
  const nodes = [], inits = [];
  let x = 'x';
  for (let i = 0; i < depth; i++) {
    inits.push({ name: `w${i}`, values: randn(C * C * 9, r, 0.05), dims: [C, C, 3, 3] }, { name: `b${i}`, values: randn(C, r, 0.01), dims: [C] });
    nodes.push({ op: 'Conv', inputs: [x, `w${i}`, `b${i}`], outputs: [`c${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'Relu', inputs: [`c${i}`], outputs: [`r${i}`] });
    x = `r${i}`;
  }
  return buildModel({ inputs: [{ name: 'x', dims: ['N', C, 8, 8] }], outputs: [x], nodes, inits });
}

/** the longest the event loop went without a turn while `f` ran (a 2-ms ticker) */
async function worstStall(f: () => Promise<unknown>): Promise<{ stall: number; ms: number }> {
  let last = performance.now(), worst = 0;
  const tick = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last); last = now; }, 2);
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10));
  clearInterval(tick);
  return { stall: worst, ms };
}

const OPTIONS: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };

test('building a session on the ORT thread leaves the event loop free; in-thread it stalls for the whole build', async () => {
  await createThreadSession(convChain(8, 2), OPTIONS).then((s) => s.release()); // the thread is up
  let bytes = convChain(96, 24);
  // grow the model until an in-thread build takes long enough to tell its stall from scheduling noise (≥ 250 ms)
  let inline = await worstStall(() => ort.InferenceSession.create(bytes, OPTIONS).then((s) => s.release()));
  for (let depth = 48; inline.ms < 250 && depth <= 768; depth *= 2) {
    bytes = convChain(96, depth);
    inline = await worstStall(() => ort.InferenceSession.create(bytes, OPTIONS).then((s) => s.release()));
  }
  const mine = new Uint8Array(bytes); // a copy of our own, moved to the thread (as the session cache does with what it serialises)
  const threaded = await worstStall(() => createThreadSession(mine, OPTIONS, true).then((s) => s.release()));
  assert.equal(mine.byteLength, 0, 'moved, not copied');
  console.log(`# ${(bytes.length / 2 ** 20).toFixed(1)} MiB model: in-thread build ${inline.ms.toFixed(0)} ms, loop stalled ${inline.stall.toFixed(0)} ms; ORT thread build ${threaded.ms.toFixed(0)} ms, loop stalled ${threaded.stall.toFixed(0)} ms`);
  assert.ok(inline.stall >= inline.ms / 2, 'the in-thread build holds the loop (the measurement sees a stall)');
  assert.ok(threaded.stall < inline.stall / 3, `stall ${threaded.stall.toFixed(0)} ms on the ORT thread vs ${inline.stall.toFixed(0)} ms in-thread`);
});

test('runs on the ORT thread give the in-thread numbers; a view sends only its own elements; names and fetches', async () => {
  const bytes = convChain(4, 3);
  const local = await ort.InferenceSession.create(bytes, OPTIONS);
  const remote = await createThreadSession(bytes, OPTIONS);
  try {
    assert.deepEqual([...remote.inputNames], [...local.inputNames]);
    assert.deepEqual([...remote.outputNames], [...local.outputNames]);
    // a batch cut from a larger array: its neighbours must not change the answer, the caller's array stays usable
    const big = randn(5 * 4 * 8 * 8, rng(3));
    const view = big.subarray(2 * 256, 4 * 256);
    const x = new ort.Tensor('float32', view, [2, 4, 8, 8]);
    const want = (await local.run({ x }))[local.outputNames[0]];
    const got = (await remote.run({ x }, [remote.outputNames[0]]))[remote.outputNames[0]];
    assert.deepEqual(got.dims, want.dims);
    assert.deepEqual(Array.from(got.data as Float32Array), Array.from(want.data as Float32Array));
    assert.equal(view.length, 2 * 256, 'the caller keeps its input');
    assert.equal(big.buffer.byteLength, 5 * 256 * 4);
    // ORT's own message comes back
    await assert.rejects(remote.run({ x: new ort.Tensor('float32', new Float32Array(3 * 8 * 8), [1, 3, 8, 8]) }), /dimensions|channel|shape/i);
  } finally {
    await local.release();
    await remote.release();
  }
  await assert.rejects(remote.run({}), /released/);
  // only an array that is its whole buffer moves; a view into a larger one is copied and left as it was
  const whole = convChain(4, 3);
  const inBig = new Uint8Array(whole.length + 16);
  inBig.set(whole, 8);
  const view = inBig.subarray(8, 8 + whole.length);
  const s2 = await createThreadSession(view, OPTIONS, true);
  assert.equal(view.byteLength, whole.length, 'a view is copied');
  await s2.release();
  const s3 = await createThreadSession(whole, OPTIONS);
  assert.equal(whole.byteLength > 0, true, 'without transfer the bytes stay');
  await s3.release();
  await assert.rejects(createThreadSession(new Uint8Array([1, 2, 3, 4]), OPTIONS), /protobuf|parse|load|model/i);
});

test('a stopped ORT thread fails its sessions with the reason; the next create starts a new thread', async () => {
  const bytes = convChain(4, 2);
  const s = await createThreadSession(bytes, OPTIONS);
  const x = new ort.Tensor('float32', new Float32Array(4 * 8 * 8), [1, 4, 8, 8]);
  await s.run({ x });
  await stopOrtThread();
  await assert.rejects(s.run({ x }), /ONNX Runtime thread stopped/);
  const again = await createThreadSession(bytes, OPTIONS);
  const out = await again.run({ x });
  assert.deepEqual(out[again.outputNames[0]].dims, [1, 4, 8, 8]);
  await again.release();
  await s.release(); // a session of the stopped thread: nothing to do, no error
});

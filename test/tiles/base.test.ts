import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ByteCache } from '../../main/base/cache.js';
import { WorkerPool, WorkerTaskError } from '../../main/base/worker-pool.js';
import { Inflight } from '../../main/base/inflight.js';
import { Semaphore, mapLimit } from '../../main/base/limit.js';
import { isAbortError } from '../../main/base/abort.js';

test('ByteCache keeps to its byte budget, least-recently-used first; big entries are not kept', () => {
  const c = new ByteCache({ maxBytes: 100, maxEntryBytes: 100 });
  c.set('a', new Uint8Array(40));
  c.set('b', new Uint8Array(40));
  assert.ok(c.get('a')); // a is now most recent
  c.set('c', new Uint8Array(40)); // evicts b
  assert.equal(c.has('b'), false);
  assert.ok(c.has('a') && c.has('c'));
  assert.equal(c.bytes, 80);
  assert.equal(c.set('huge', new Uint8Array(101)), false); // larger than the budget: not stored
  assert.equal(c.has('huge'), false);
  assert.equal(c.bytes, 80);
  c.set('a', new Uint8Array(10)); // replace updates the size
  assert.equal(c.bytes, 50);
  assert.equal(c.deletePrefix('c'), 1);
  assert.equal(c.bytes, 10);
  // RGB images count their pixel bytes; the default entry limit is a quarter of the budget
  const d = new ByteCache({ maxBytes: 1000 });
  assert.equal(d.set('img', { data: new Uint8Array(250), width: 1, height: 1 }), true);
  assert.equal(d.set('img2', { data: new Uint8Array(251), width: 1, height: 1 }), false);
  assert.throws(() => d.set('x', { width: 3 }), /size/);
  assert.throws(() => new ByteCache({ maxBytes: 0 }), RangeError);
});

test('ByteCache namespaces share one budget, count their own entries and refuse stores once disposed', async () => {
  const c = new ByteCache({ maxBytes: 1000, maxEntryBytes: 1000 });
  const a = c.namespace('slide');
  const b = c.namespace('slide');
  assert.notEqual(a.prefix, b.prefix, 'each holder gets its own prefix');
  a.set('t', new Uint8Array(300));
  b.set('t', new Uint8Array(400));
  assert.deepEqual([a.size, a.bytes, b.size, b.bytes, c.bytes], [1, 300, 1, 400, 700]);
  assert.equal(a.get<Uint8Array>('t')!.byteLength, 300);
  b.set('u', new Uint8Array(400)); // over budget: b's 't' (least recently used: a's was just read) goes
  assert.deepEqual([a.size, a.bytes, b.size, b.bytes, b.has('t'), b.has('u')], [1, 300, 1, 400, false, true]);
  // load: computed once, stored in the namespace, a hit afterwards
  let runs = 0;
  const load = () => a.load('k', async () => { runs++; return new Uint8Array(100); });
  const [x, y] = await Promise.all([load(), load()]);
  assert.equal(x, y);
  assert.equal(runs, 1);
  await load();
  assert.equal(runs, 1);
  assert.equal(a.bytes, 400);
  // an aborted load is not stored; the next caller computes it afresh
  const ctrl = new AbortController();
  const p = a.load('slow', (sig) => new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(new Uint8Array(sig.aborted ? 1 : 2)), 20)), ctrl.signal);
  ctrl.abort();
  await assert.rejects(p, (e) => isAbortError(e));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(a.has('slow'), false);
  // dispose drops the entries and refuses later stores (a load finishing after its owner closed)
  const late = a.load('late', () => new Promise<Uint8Array>((r) => setTimeout(() => r(new Uint8Array(10)), 10)));
  a.dispose();
  assert.equal((await late).byteLength, 10, 'the caller still gets its value');
  assert.deepEqual([a.size, a.bytes, a.has('late'), a.has('k')], [0, 0, false, false]);
  assert.equal(b.size, 1, 'other namespaces keep theirs');
});

test('Inflight shares one computation and aborts it only when every waiter aborted', async () => {
  const inf = new Inflight<string, number>();
  let runs = 0;
  let workSignal: AbortSignal | undefined;
  const work = (sig: AbortSignal) => {
    runs++;
    workSignal = sig;
    return new Promise<number>((resolve) => setTimeout(() => resolve(42), 50));
  };
  const a = new AbortController();
  const b = new AbortController();
  const pa = inf.run('k', work, a.signal);
  const pb = inf.run('k', work, b.signal);
  assert.equal(runs, 1);
  a.abort();
  await assert.rejects(pa, (e) => isAbortError(e));
  assert.equal(workSignal!.aborted, false, 'b still waits');
  assert.equal(await pb, 42);
  const c = new AbortController();
  const pc = inf.run('k2', work, c.signal);
  c.abort();
  await assert.rejects(pc, (e) => isAbortError(e));
  assert.equal(workSignal!.aborted, true, 'last waiter gone: the work is aborted');
});

test('Semaphore bounds concurrency and drops aborted waiters', async () => {
  const sem = new Semaphore(2);
  let active = 0;
  let peak = 0;
  const task = async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 10));
    active--;
  };
  const ctrl = new AbortController();
  const ps = [sem.run(task), sem.run(task), sem.run(task, ctrl.signal), sem.run(task)];
  ctrl.abort();
  const rs = await Promise.allSettled(ps);
  assert.equal(peak, 2);
  assert.equal(rs[2].status, 'rejected');
  assert.deepEqual(rs.filter((r) => r.status === 'fulfilled').length, 3);
  assert.deepEqual(await mapLimit([3, 1, 2], 2, async (x) => x * 2), [6, 2, 4]);
});

test('WorkerPool: bounded threads, queued aborts never run, running aborts reject at once, errors and crashes come back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbx-wp-'));
  const url = pathToFileURL(join(dir, 'w.mjs'));
  writeFileSync(url, `
    import { parentPort } from 'node:worker_threads';
    parentPort.on('message', async (m) => {
      if (m.op === 'crash') process.exit(3);
      if (m.op === 'fail') return parentPort.postMessage({ id: m.id, error: { name: 'RangeError', code: 'BAD', message: 'no ' + m.x } });
      await new Promise((r) => setTimeout(r, m.ms ?? 0));
      parentPort.postMessage({ id: m.id, value: { x: m.x * 2, ran: m.x } });
    });`);
  const pool = new WorkerPool({ url, size: 2, name: 'test pool' });
  try {
    assert.equal(pool.threads, 0, 'workers start lazily');
    const ran: number[] = [];
    const job = (x: number, ms: number, signal?: AbortSignal) => pool.run<{ x: number; ran: number }>({ x, ms }, { signal }).then((r) => { ran.push(r.ran); return r.x; });
    const ctrl = new AbortController();
    const a = job(1, 60), b = job(2, 60, ctrl.signal), c = job(3, 0, ctrl.signal), d = job(4, 0);
    assert.deepEqual([pool.threads, pool.running, pool.busy], [2, 2, 4]);
    const t0 = performance.now();
    ctrl.abort(); // b is running, c is queued
    await assert.rejects(b, (e) => isAbortError(e));
    await assert.rejects(c, (e) => isAbortError(e));
    assert.ok(performance.now() - t0 < 40, 'a running job rejects at once on abort');
    assert.deepEqual(await Promise.all([a, d]), [2, 8]);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(ran.sort(), [1, 4], 'the queued aborted job never ran; the running one was not resolved');
    await assert.rejects(pool.run({ op: 'fail', x: 5 }), (e: WorkerTaskError) => e instanceof WorkerTaskError && e.code === 'BAD' && e.workerName === 'RangeError' && e.message === 'no 5');
    await assert.rejects(pool.run({ op: 'crash' }), (e: WorkerTaskError) => e.code === 'WORKER_FAILED');
    assert.equal(await job(6, 0), 12, 'a crashed worker is replaced');
    assert.ok(pool.threads <= 2);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(pool.run({ x: 1 }), (e) => isAbortError(e));
});

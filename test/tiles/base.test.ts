import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../../main/base/lru.js';
import { Inflight } from '../../main/base/inflight.js';
import { Semaphore, mapLimit } from '../../main/base/limit.js';
import { isAbortError } from '../../main/base/abort.js';

test('ByteLru evicts least-recently-used entries to stay within its byte budget', () => {
  const lru = new ByteLru<string, Uint8Array>(100, (b) => b.byteLength);
  lru.set('a', new Uint8Array(40));
  lru.set('b', new Uint8Array(40));
  assert.ok(lru.get('a')); // a is now most recent
  lru.set('c', new Uint8Array(40)); // evicts b
  assert.equal(lru.has('b'), false);
  assert.ok(lru.has('a') && lru.has('c'));
  assert.equal(lru.bytes, 80);
  lru.set('huge', new Uint8Array(101)); // larger than the budget: not stored
  assert.equal(lru.has('huge'), false);
  assert.equal(lru.bytes, 80);
  lru.set('a', new Uint8Array(10)); // replace updates the size
  assert.equal(lru.bytes, 50);
  assert.equal(lru.deleteWhere((k) => k === 'c'), 1);
  assert.equal(lru.bytes, 10);
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

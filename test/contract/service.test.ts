/** SlideService pieces: recent files (atomic JSON), id format, error mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecentFiles, MAX_RECENT, ServiceError, SlideServiceImpl, newSlideId, toErrorDTO } from '../../main/services/index.js';
import { SLIDE_ID_RE } from '../../main/contract/slides.js';
import { SlideError } from '../../main/engine/slide/types.js';
import { AbortError } from '../../main/base/abort.js';
import { FakeSlide } from '../tiles/fake-slide.js';

test('recent files: newest first, de-duplicated, capped, written atomically, reloaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbx-recent-'));
  try {
    const r = new RecentFiles(join(dir, 'cfg'));
    for (let i = 0; i < MAX_RECENT + 5; i++) await r.add(`/slides/s${i}.svs`, new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
    await r.add('/slides/s3.svs', new Date(Date.UTC(2026, 0, 2)));
    const list = await r.list();
    assert.equal(list.length, MAX_RECENT);
    assert.deepEqual(list[0], { path: '/slides/s3.svs', name: 's3.svs', openedAt: '2026-01-02T00:00:00.000Z' });
    assert.equal(list.filter((x) => x.path === '/slides/s3.svs').length, 1);
    assert.deepEqual(readdirSync(join(dir, 'cfg')), ['recent.json'], 'no temp files left behind');
    const again = await new RecentFiles(join(dir, 'cfg')).list();
    assert.deepEqual(again, list);
    // a corrupt file is tolerated (and replaced on the next save)
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'recent.json'), '{not json');
    const bad = new RecentFiles(join(dir, 'bad'));
    assert.deepEqual(await bad.list(), []);
    await bad.add('/x/y.tif');
    assert.equal(JSON.parse(readFileSync(join(dir, 'bad', 'recent.json'), 'utf8'))[0].name, 'y.tif');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('slide ids are random and match SLIDE_ID_RE', () => {
  const ids = new Set(Array.from({ length: 200 }, newSlideId));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, SLIDE_ID_RE);
});

test('engine errors map to contract codes and statuses', () => {
  assert.deepEqual(toErrorDTO(new SlideError('CORRUPT', 'x.svs: bad')), { status: 422, body: { error: { code: 'CORRUPT', message: 'x.svs: bad' } } });
  assert.equal(toErrorDTO(new SlideError('UNSUPPORTED_FORMAT', 'dicom')).status, 415);
  assert.equal(toErrorDTO(new SlideError('LIMIT', 'huge')).status, 413);
  assert.equal(toErrorDTO(new SlideError('OUT_OF_RANGE', 'no')).status, 404);
  assert.equal(toErrorDTO(new AbortError()).body.error.code, 'ABORTED');
  assert.equal(toErrorDTO(new ServiceError('BAD_REQUEST', 'b')).status, 400);
  const internal = toErrorDTO(new TypeError('boom'));
  assert.equal(internal.status, 500);
  assert.match(internal.body.error.message, /internal error: boom/);
});

test('service: open/close lifecycle closes the slide and frees its cached tiles', async () => {
  const fake = await FakeSlide.create({ width: 600, height: 400, downsamples: [1], tile: 256 });
  const svc = new SlideServiceImpl({ host: 'electron', openSlide: async () => fake });
  const info = await svc.open({ path: '/data/a/b/slide.tif' });
  assert.equal(info.name, 'slide.tif');
  assert.equal((await svc.hostInfo()).host, 'electron');
  await svc.tiler(info.id).dziTile(10, 0, 0);
  assert.ok(svc.cache.lru.size > 0);
  await svc.close(info.id);
  assert.equal(fake.closed, true);
  assert.equal(svc.cache.lru.size, 0);
  await assert.rejects(svc.get(info.id), (e: unknown) => e instanceof ServiceError && e.code === 'NOT_FOUND');
  await assert.rejects(svc.open({ path: 'rel.tif' }), /absolute/);
  await assert.rejects(svc.setMpp('bad id!', { mpp: null }), /invalid slide id/);
});

test('service: the same path opened twice gets two ids over one slide; it closes with the last of them', async () => {
  const fake = await FakeSlide.create({ width: 600, height: 400, downsamples: [1], tile: 256 });
  let opens = 0;
  const svc = new SlideServiceImpl({ host: 'http', openSlide: async () => (opens++, fake) });
  const [a, b] = await Promise.all([svc.open({ path: '/data/s.tif' }), svc.open({ path: '/data/s.tif' })]);
  const c = await svc.open({ path: '/data/s.tif' });
  assert.equal(opens, 1, 'the file is opened once');
  assert.equal(new Set([a.id, b.id, c.id]).size, 3, 'every open has its own id');
  assert.equal(svc.tiler(a.id), svc.tiler(b.id), 'one shared tiler (and tile cache)');
  await svc.setMpp(a.id, { mpp: { x: 0.25, y: 0.25 } });
  assert.equal((await svc.get(b.id)).mpp?.source === 'user', false, "one client's mpp override is its own");
  await svc.close(a.id);
  await assert.rejects(svc.close(a.id), (e: unknown) => e instanceof ServiceError && e.code === 'NOT_FOUND', 'a second DELETE of the same id does not close the others');
  assert.equal(fake.closed, false);
  await svc.tiler(b.id).dziTile(10, 0, 0);
  await svc.close(b.id);
  assert.equal(fake.closed, false, 'still open for c');
  assert.deepEqual((await svc.list()).map((s) => s.id), [c.id]);
  await svc.close(c.id);
  assert.equal(fake.closed, true, 'closed with the last holder');
  assert.equal(svc.cache.lru.size, 0);
  // opening it again after that opens the file afresh
  await svc.open({ path: '/data/s.tif' });
  assert.equal(opens, 2);
  await svc.closeAll();
});

test('service: authorizeOpen refuses a path with FORBIDDEN (403) before the engine sees it', async () => {
  let opens = 0;
  const fake = await FakeSlide.create({ width: 100, height: 100, downsamples: [1], tile: 64 });
  const asked: string[] = [];
  const svc = new SlideServiceImpl({ host: 'electron', openSlide: async () => (opens++, fake), authorizeOpen: (p) => (asked.push(p), p === '/ok/s.tif') });
  await assert.rejects(svc.open({ path: '/etc/../etc/passwd' }), (e: unknown) => {
    assert.ok(e instanceof ServiceError);
    assert.equal(e.code, 'FORBIDDEN');
    assert.equal(toErrorDTO(e).status, 403);
    assert.match(e.message, /\/etc\/passwd/);
    return true;
  });
  assert.deepEqual(asked, ['/etc/passwd'], 'asked with the resolved path');
  assert.equal(opens, 0);
  assert.equal((await svc.open({ path: '/ok/s.tif' })).name, 's.tif');
  await svc.closeAll();
});

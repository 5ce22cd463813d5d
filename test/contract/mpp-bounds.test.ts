/**
 * The pixel-size override is bounded to what a microscope scan can have (MPP_OVERRIDE_RANGE, 0.05–100 µm/px),
 * the same range in the renderer's form, the transport's validation and the service.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MPP_OVERRIDE_RANGE, urls } from '../../main/contract/slides.js';
import { ServiceError, SlideServiceImpl } from '../../main/services/index.js';
import { createHandler } from '../../main/transport/index.js';
import { mppBody, parse } from '../../main/transport/validate.js';
import { parseMpp } from '../../renderer/src/lib/format.js';
import { FakeSlide } from '../tiles/fake-slide.js';

test('the range is 0.05–100 µm/px', () => {
  assert.deepEqual({ ...MPP_OVERRIDE_RANGE }, { min: 0.05, max: 100 });
});

test('renderer form: 500 µm/px and 0.01 µm/px are refused with the range named; the bounds themselves are accepted', () => {
  for (const bad of ['500', '0.01', '100.5']) {
    const r = parseMpp(bad);
    assert.equal(r.ok, false, bad);
    assert.match(!r.ok ? r.error : '', /outside the range a microscope scan can have \(0\.05–100 µm\/px\)/);
  }
  assert.deepEqual(parseMpp('100'), { ok: true, value: 100 });
  assert.deepEqual(parseMpp('0.05 µm/px'), { ok: true, value: 0.05 });
});

test('transport validation refuses out-of-range values before the service sees them', () => {
  assert.throws(() => parse(mppBody, { mpp: { x: 500, y: 500 } }, 'mpp'), /mpp\.x must be at most 100 µm\/px; mpp\.y must be at most 100 µm\/px/);
  assert.throws(() => parse(mppBody, { mpp: { x: 0.25, y: 0.01 } }, 'mpp'), /mpp\.y must be at least 0\.05 µm\/px/);
  assert.deepEqual(parse(mppBody, { mpp: { x: 0.25, y: 0.25 } }, 'mpp'), { mpp: { x: 0.25, y: 0.25 } });
});

test('service and HTTP handler: PUT mpp 500 is a 400 naming the range; 0.25 is set', async () => {
  const fake = await FakeSlide.create({ width: 600, height: 400, downsamples: [1], tile: 256 });
  const svc = new SlideServiceImpl({ host: 'http', openSlide: async () => fake });
  const info = await svc.open({ path: '/data/slide.tif' });
  await assert.rejects(svc.setMpp(info.id, { mpp: { x: 500, y: 500 } }), (e: unknown) => e instanceof ServiceError && e.code === 'BAD_REQUEST' && /from 0\.05 to 100 µm\/px \(got 500\)/.test(e.message));
  const handle = createHandler({ service: svc });
  const put = (mpp: unknown) => handle(new Request(`http://127.0.0.1${urls.mpp(info.id)}`, { method: 'PUT', body: JSON.stringify({ mpp }), headers: { 'content-type': 'application/json' } }));
  const res = await put({ x: 500, y: 500 });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /at most 100 µm\/px/);
  const ok = await put({ x: 0.25, y: 0.25 });
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as { mpp: unknown }).mpp, { x: 0.25, y: 0.25, source: 'user' });
  await svc.closeAll();
});

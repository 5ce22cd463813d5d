/**
 * The trust routes over the HTTP host: validation (zod) with clear messages, a job with progress that ends with
 * both reports, the report downloads (JSON and self-contained HTML), cancel, unknown ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../app/server/index.js';
import type { ModelListDTO, SlideInfoDTO } from '../../main/contract/index.js';
import type { TrustJobDTO } from '../../main/contract/trust.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { SPEC } from './fixtures.js';

test('trust routes: validate, run with progress, download the reports, cancel', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'glassbox-trust-svc-'));
  const slidePath = join(tmp, 'he.tif');
  await writeSyntheticSlide(slidePath, { ...SPEC, levels: [1, 4] });
  const server = await startServer({ port: 0, configDir: tmp, log: () => undefined, analysis: { cache: null } });
  const api = async <T>(path: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; body: T; res: Response }> => {
    const res = await fetch(server.url + path, init?.json !== undefined ? { ...init, method: init.method ?? 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(init.json) } : init);
    const text = await res.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: body as T, res };
  };
  try {
    const slide = (await api<SlideInfoDTO>('/api/slides', { json: { path: slidePath } })).body;
    const models = (await api<ModelListDTO>('/api/models')).body.models;
    const model = models.find((m) => m.name === 'tiny-crc-demo')!;
    const base = { slideId: slide.id, modelId: model.id, points: [{ x: 1300, y: 420 }], method: 'gradcam' };

    await t.test('bad requests name the problem', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ ...base, points: [] }, /points give at least one patch centre/],
        [{ ...base, method: 'magic' }, /method/],
        [{ ...base, mode: 'sideways' }, /mode/],
        [{ ...base, extra: 1 }, /Unrecognized key/],
        [{ ...base, points: [{ x: 99999, y: 10 }] }, /outside the slide/],
        [{ ...base, class: 'KIDNEY' }, /KIDNEY/],
      ];
      for (const [body, re] of cases) {
        const r = await api<{ error: { code: string; message: string } }>('/api/trust', { json: body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(r.body.error.message, re);
      }
      assert.equal((await api('/api/trust/nosuchjob123')).status, 404);
      assert.equal((await api('/api/trust/bad!id')).status, 400);
    });

    await t.test('a job: progress, then both reports; downloads', async () => {
      const start = await api<TrustJobDTO>('/api/trust', { json: { ...base, steps: 4, seed: 1 } });
      assert.equal(start.status, 202);
      assert.equal(start.body.state, 'running');
      const w = Math.round((model.patchSizePx * model.spacingUmPx) / 0.5); // the slide is 0.5 µm/px
      assert.deepEqual(start.body.patches, [{ x: Math.round(1300 - w / 2), y: Math.round(420 - w / 2), w, h: w }]);
      let j = start.body;
      const stages = new Set<string>();
      while (j.state === 'running') {
        await new Promise((r) => setTimeout(r, 150));
        j = (await api<TrustJobDTO>(`/api/trust/${j.id}`)).body;
        stages.add(j.progress.stage);
      }
      assert.equal(j.state, 'done', JSON.stringify(j.error));
      assert.equal(j.sanity!.layers.length, 9);
      assert.equal(j.sanity!.inputs.count, 1);
      assert.equal(j.faithfulness!.steps, 4);
      assert.ok([...stages].some((s) => /^randomizing /.test(s)) || stages.has('done'), [...stages].join(' | '));
      const json = await api<{ sanity: unknown; faithfulness: unknown }>(`/api/trust/${j.id}/report.json`);
      assert.equal(json.status, 200);
      assert.match(json.res.headers.get('content-disposition') ?? '', /attachment; filename="report.json"/);
      assert.deepEqual(json.body.sanity, j.sanity);
      const html = await api<string>(`/api/trust/${j.id}/report.html`);
      assert.equal(html.status, 200);
      assert.match(html.res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(html.res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.match(html.body, /<svg[^>]*>.*deletion/s);
    });

    await t.test('cancel stops a running job', async () => {
      const start = await api<TrustJobDTO>('/api/trust', { json: { ...base, seed: 2 } });
      const c = await api<TrustJobDTO>(`/api/trust/${start.body.id}/cancel`, { method: 'POST' });
      assert.equal(c.status, 200);
      assert.equal(c.body.state, 'cancelled');
      assert.equal((await api(`/api/trust/${start.body.id}/report.json`)).status, 404);
      // it stays cancelled while the work in flight winds down: no progress, no report
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const g = await api<TrustJobDTO>(`/api/trust/${start.body.id}`);
        assert.equal(g.body.state, 'cancelled');
        assert.equal(g.body.progress.stage, 'cancelled');
      }
      assert.equal((await api(`/api/trust/${start.body.id}/report.json`)).status, 404);
      assert.equal((await api(`/api/trust/${start.body.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await api(`/api/trust/${start.body.id}`)).status, 404);
    });
  } finally {
    await server.close();
  }
});

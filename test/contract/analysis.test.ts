/**
 * The models + analyses API over all three transports (direct handler, HTTP, Electron protocol): list models
 * (with invalid packages and their reasons), layers with cell µm, start an analysis of an open slide, follow it to
 * the end, fetch the raw float32 map and probabilities, pause / cancel, and every bad input as a 4xx naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directTransport, electronTransport, httpTransport, type Transport } from './transports.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { writeProbePackage } from '../analysis/probe.js';
import type { AnalysisDTO, ExplainPatchDTO, ModelLayerDTO, ModelListDTO } from '../../main/contract/analysis.js';
import { analysisUrls } from '../../main/contract/analysis.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-contract-analysis-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const models = join(dir, 'models');
writeProbePackage(join(models, 'probe'), { patch: 64, stride: 8, spacing: 1 });
mkdirSync(join(models, 'broken'));
writeFileSync(join(models, 'broken', 'config.json'), '{"spec_version": "1.0"');
const SLIDE = join(dir, 'shapes.tif');
const ready = writeSyntheticSlide(SLIDE, {
  width: 2400, height: 1600, mpp: 0.5, levels: [1, 4],
  regions: [
    { x: 100, y: 100, w: 500, h: 300, shape: 'rect', fill: [200, 30, 30] },
    { x: 900, y: 500, w: 1400, h: 1000, shape: 'ellipse', fill: [30, 30, 200] },
  ],
});

const FACTORIES: Array<() => Promise<Transport>> = [
  () => directTransport({}, { modelsDir: models }),
  () => httpTransport({}, { modelsDir: models }),
  () => electronTransport({ modelsDir: models }),
];

async function json<T>(r: Response): Promise<T> {
  const body = await r.text();
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new Error(`not JSON (${r.status}): ${body.slice(0, 200)}`);
  }
}
const post = (t: Transport, path: string, body: unknown) => t.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function until(t: Transport, id: string, ok: (a: AnalysisDTO) => boolean): Promise<AnalysisDTO> {
  for (let i = 0; i < 600; i++) {
    const a = await json<AnalysisDTO>(await t.fetch(analysisUrls.analysis(id)));
    if (ok(a)) return a;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`analysis ${id} did not reach the state in 30 s`);
}

for (const make of FACTORIES) {
  test(`analysis API over ${(await make().then(async (t) => { await t.close(); return t.name; }))}`, async (tt) => {
    await ready;
    const t = await make();
    try {
      const list = await json<ModelListDTO>(await t.fetch(analysisUrls.models()));
      assert.deepEqual(list.models.map((m) => [m.name, m.classes, m.spacingUmPx, m.patchSizePx, m.targetLayer, m.stride]), [['probe', ['red', 'blue'], 1, 64, 'features', 8]]);
      assert.equal(list.invalid.length, 1);
      assert.match(list.invalid[0].reason, /broken.*config\.json.*not valid JSON/);
      const model = list.models[0];
      assert.match(model.id, /^[A-Za-z0-9_-]{16}$/);
      assert.ok(!JSON.stringify(list.models).includes(dir), 'model DTOs carry no paths');
      const layers = await json<ModelLayerDTO[]>(await t.fetch(analysisUrls.modelLayers(model.id)));
      const feat = layers.find((l) => l.name === 'features')!;
      assert.deepEqual([feat.stride, feat.cellUm, feat.isDefault, feat.width], [8, 8, true, 8]);

      const slide = await json<{ id: string }>(await post(t, '/api/slides', { path: SLIDE }));
      await tt.test('start → running → done; the map and probabilities as float32', async () => {
        const r = await post(t, analysisUrls.analyses(), { slideId: slide.id, modelId: model.id, classes: ['red'], method: 'gradcam', priority: { x: 0, y: 0, w: 800, h: 600 } });
        assert.equal(r.status, 202);
        const started = await json<AnalysisDTO>(r);
        assert.ok(['running', 'done'].includes(started.state));
        const done = await until(t, started.id, (a) => a.state !== 'running');
        assert.equal(done.state, 'done', JSON.stringify(done.error));
        assert.equal(done.source, 'computed');
        assert.deepEqual(done.classes, ['red']);
        assert.deepEqual(done.geometry?.cellSize, [16, 16]);
        assert.deepEqual(done.geometry?.shape, [104, 152]);
        assert.equal(done.resolution?.smallest_resolvable_um, 16);
        assert.equal(done.provider, 'cpu');
        assert.ok(done.progress.done > 0 && done.progress.done === done.progress.total);
        const hm = await t.fetch(analysisUrls.heatmap(started.id, 0));
        assert.equal(hm.status, 200);
        assert.equal(hm.headers.get('content-type'), 'application/octet-stream');
        const map = new Float32Array(await hm.arrayBuffer());
        const [rows, cols] = done.geometry!.shape;
        assert.equal(map.length, rows * cols);
        const at = (x: number, y: number) => map[Math.floor(y / 16) * cols + Math.floor(x / 16)];
        assert.ok(at(350, 250) > 0, 'hot on the red rectangle');
        assert.equal(at(1600, 1000), 0, 'cold on the blue ellipse');
        assert.ok(Number.isNaN(at(2350, 50)), 'NaN on glass');
        const probs = new Float32Array(await (await t.fetch(analysisUrls.probabilities(started.id))).arrayBuffer());
        assert.equal(probs.length, rows * cols * 2);
        assert.equal((await t.fetch(analysisUrls.heatmap(started.id, 1))).status, 404, 'class 1 was not analysed');
        const all = await json<AnalysisDTO[]>(await t.fetch(analysisUrls.analyses()));
        assert.ok(all.some((a) => a.id === started.id));
      });

      await tt.test('pause holds it, cancel ends it; DELETE forgets it', async () => {
        const started = await json<AnalysisDTO>(await post(t, analysisUrls.analyses(), { slideId: slide.id, modelId: model.id, classes: 'all', method: 'hirescam', batch: 2, overlap: 0.5 }));
        const paused = await json<AnalysisDTO>(await post(t, analysisUrls.analysis(started.id), { action: 'pause' }));
        assert.equal(paused.state, 'paused');
        await new Promise((r) => setTimeout(r, 300));
        const held = await json<AnalysisDTO>(await t.fetch(analysisUrls.analysis(started.id)));
        assert.equal(held.state, 'paused');
        assert.ok(held.progress.done < held.progress.total || held.progress.total === 0, 'not finished while paused');
        await post(t, analysisUrls.analysis(started.id), { action: 'prioritize', roi: { x: 900, y: 500, w: 400, h: 400 } });
        await post(t, analysisUrls.analysis(started.id), { action: 'cancel' });
        const end = await until(t, started.id, (a) => a.state !== 'running' && a.state !== 'paused');
        assert.equal(end.state, 'cancelled');
        assert.equal((await t.fetch(analysisUrls.analysis(started.id), { method: 'DELETE' })).status, 204);
        assert.equal((await t.fetch(analysisUrls.analysis(started.id))).status, 404);
      });

      await tt.test('bad input: 4xx with a message naming it', async () => {
        const base = { slideId: slide.id, modelId: model.id, classes: ['red'], method: 'gradcam' };
        const cases: Array<[unknown, number, RegExp]> = [
          [{ ...base, method: 'saliency' }, 400, /method/],
          [{ ...base, classes: ['green'] }, 400, /unknown class 'green'/],
          [{ ...base, modelId: 'AAAAAAAAAAAAAAAA' }, 404, /no model with id/],
          [{ ...base, slideId: 'nosuchslide123' }, 404, /no open slide/],
          [{ ...base, method: 'hirescam', signed: true }, 400, /signed maps exist for method gradcam only/],
          [{ ...base, overlap: 1 }, 400, /overlap/],
          [{ ...base, extra: 1 }, 400, /extra|unrecognized/i],
          [{ ...base, region: { x: 0, y: 0, w: 0, h: 5 } }, 400, /region\.w/],
        ];
        for (const [body, status, re] of cases) {
          const r = await post(t, analysisUrls.analyses(), body);
          const b = await json<{ error: { message: string } }>(r);
          assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.status} ${b.error?.message}`);
          assert.match(b.error.message, re);
        }
        assert.equal((await t.fetch('/api/analyses/bad!id')).status, 400);
        assert.equal((await t.fetch('/api/analyses/AAAAAAAAAAAA/heatmap/x.f32')).status, 400);
        assert.equal((await post(t, analysisUrls.analysis('AAAAAAAAAAAA'), { action: 'prioritize' })).status, 400);
        // a region outside the slide fails in the engine: the analysis ends 'failed' with the reason
        const out = await json<AnalysisDTO>(await post(t, analysisUrls.analyses(), { ...base, region: { x: 9000, y: 9000, w: 10, h: 10 } }));
        const failed = await until(t, out.id, (a) => a.state !== 'running');
        assert.equal(failed.state, 'failed');
        assert.match(failed.error?.message ?? '', /lies outside the slide/);
      });

      await tt.test('explain this patch: centred on the point, the full-resolution map, probabilities, predicted class', async () => {
        // 0.5 µm/px slide, 1 µm/px model: a 64 px patch covers 128 level-0 px, 8×8 cells of 16 px. Centred on the red
        // rectangle's right edge (x = 600) its left 4 columns are red, the right 4 are white: the probe's red map
        // is the cell's mean red-ness / 64 there and 0 on glass.
        const r = await post(t, analysisUrls.explainPatch(slide.id), { modelId: model.id, x: 600, y: 250, class: 'red', method: 'gradcam' });
        const d = await json<ExplainPatchDTO>(r);
        assert.equal(r.status, 200, JSON.stringify(d));
        assert.deepEqual(d.patch, { x: 536, y: 186, w: 128, h: 128 });
        assert.deepEqual([d.mapShape, d.cellSize, d.cellUm, d.layer, d.explained, d.predicted, d.classes], [[8, 8], [16, 16], 8, 'features', 'red', 'red', ['red', 'blue']]);
        assert.equal(d.map.length, 64);
        const hot = (200 - 30) / 255 / 64;
        for (let row = 0; row < 8; row++) {
          for (let col = 0; col < 8; col++) {
            const v = d.map[row * 8 + col];
            if (col < 4) assert.ok(Math.abs(v - hot) < 0.05 * hot, `cell ${row},${col} is red: ${v} vs ${hot}`);
            else assert.ok(Math.abs(v) < 0.05 * hot, `cell ${row},${col} is glass: ${v}`);
          }
        }
        assert.equal(d.probabilities.length, 2);
        assert.ok(Math.abs(d.probabilities[0] + d.probabilities[1] - 1) < 1e-5);
        assert.ok(d.probabilities[0] > d.probabilities[1]);
        // no class: the predicted one is explained; on the blue ellipse that is 'blue'
        const b = await json<ExplainPatchDTO>(await post(t, analysisUrls.explainPatch(slide.id), { modelId: model.id, x: 1600, y: 1000, method: 'hirescam' }));
        assert.deepEqual([b.predicted, b.explained, b.method], ['blue', 'blue', 'hirescam']);
        assert.ok(b.map.every((v) => v > 0), 'the whole patch is inside the ellipse');
        const s = await json<ExplainPatchDTO>(await post(t, analysisUrls.explainPatch(slide.id), { modelId: model.id, x: 1600, y: 1000, class: 'red', method: 'gradcam', signed: true }));
        // the probe's red channel is 0 after its ReLU on blue, so even the signed red map is 0 there
        assert.ok(s.signed && s.map.length === 64 && s.map.every((v) => Math.abs(v) < 1e-6), JSON.stringify(s.map.slice(0, 8)));
        // the patch image is the region route with the patch rect
        const png = await t.fetch(`/api/slides/${slide.id}/region.png?x=${d.patch.x}&y=${d.patch.y}&w=${d.patch.w}&h=${d.patch.h}&level=0`);
        assert.equal(png.status, 200);
        assert.equal(png.headers.get('content-type'), 'image/png');

        const base = { modelId: model.id, x: 600, y: 250, method: 'gradcam' };
        const cases: Array<[unknown, number, RegExp]> = [
          [{ ...base, x: 2400 }, 400, /point \(2400, 250\) is outside the slide/],
          [{ ...base, y: -1 }, 400, /outside the slide/],
          [{ ...base, class: 'green' }, 400, /unknown class 'green'/],
          [{ ...base, method: 'saliency' }, 400, /method/],
          [{ ...base, method: 'hirescam', signed: true }, 400, /signed maps exist for method gradcam only/],
          [{ ...base, layer: 'no_such_layer' }, 400, /layer/],
          [{ ...base, x: 'a' }, 400, /x/],
          [{ ...base, modelId: 'AAAAAAAAAAAAAAAA' }, 404, /no model with id/],
          [{ ...base, extra: 1 }, 400, /extra|unrecognized/i],
        ];
        for (const [body, status, re] of cases) {
          const res = await post(t, analysisUrls.explainPatch(slide.id), body);
          const e = await json<{ error: { message: string } }>(res);
          assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${e.error?.message}`);
          assert.match(e.error.message, re);
        }
        assert.equal((await post(t, analysisUrls.explainPatch('nosuchslide123'), base)).status, 404);
        assert.equal((await t.fetch(analysisUrls.explainPatch(slide.id))).status, 405);
      });
    } finally {
      await t.close();
    }
  });
}

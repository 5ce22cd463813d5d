/**
 * The trust check on a region's patches: the model's grid patches whose centres lie inside the region (a known
 * rectangle → known count and positions; holes and multipolygons agree with the annotations' even-odd point test),
 * the cap (sampled evenly, seeded), and bad regions rejected with a clear 400 — over the HTTP host, without running
 * a check to the end (each job is cancelled at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../app/server/index.js';
import type { ModelListDTO, SlideInfoDTO } from '../../main/contract/index.js';
import { TRUST_REGION_LIMITS, TRUST_REGION_MAX_PATCHES, type TrustJobDTO } from '../../main/contract/trust.js';
import { regionPatches, type RegionPolygons } from '../../main/engine/trust/region.js';
import { pointInRing } from '../../main/engine/annotations/geom.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { SPEC } from './fixtures.js';

const rect = (x0: number, y0: number, x1: number, y1: number): Array<[number, number]> => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];

test('regionPatches: exactly the grid patches whose centres lie inside (holes, multipolygons, the slide edge)', () => {
  const o = { width: 1000, height: 800, patch: [100, 100] as [number, number], cap: 1000, seed: 0 };
  // centres at 50, 150, …: x in [150, 460) → 150..450 (4 columns), y in [150, 360) → 150..350 (3 rows)
  const r = regionPatches([[rect(150, 150, 460, 360)]], o);
  assert.equal(r.inside, 12);
  assert.deepEqual(r.patches.map((p) => [p.x, p.y]), [100, 200, 300].flatMap((y) => [100, 200, 300, 400].map((x) => [x, y])));
  assert.ok(r.patches.every((p) => p.w === 100 && p.h === 100));
  // past the slide edge: only centres inside the slide (x < 1000, y < 800)
  assert.equal(regionPatches([[rect(850, 650, 5000, 5000)]], o).inside, 2 * 2);
  // a brute-force even-odd test over the whole grid agrees, with a hole and a second polygon
  const polys: RegionPolygons = [
    [[[30, 40], [910, 90], [700, 760], [120, 520], [30, 40]], rect(300, 250, 520, 480)],
    [[[800, 20], [990, 20], [990, 200]]],
  ];
  const want: string[] = [];
  for (let row = 0; row < 8; row++) for (let col = 0; col < 10; col++) {
    const c: [number, number] = [(col + 0.5) * 100, (row + 0.5) * 100];
    if (polys.flat().filter((ring) => pointInRing(c, ring as Array<[number, number]>)).length % 2 === 1) want.push(`${col * 100},${row * 100}`);
  }
  const got = regionPatches(polys, o);
  assert.ok(want.length > 20, `${want.length}`);
  assert.deepEqual(got.patches.map((p) => `${p.x},${p.y}`), want);
  assert.ok(!want.includes('400,300'), 'the hole has no patch');
});

test('regionPatches: beyond the cap, an even seeded sample', () => {
  const o = { width: 2000, height: 2000, patch: [100, 100] as [number, number], cap: 16, seed: 3 };
  const region = [[rect(0, 0, 800, 500)]]; // 8 × 5 = 40 patches inside
  const a = regionPatches(region, o);
  assert.equal(a.inside, 40);
  assert.equal(a.patches.length, 16);
  const idx = a.patches.map((p) => (p.y / 100) * 8 + p.x / 100);
  // one from each run of 40/16 = 2.5 patches in row-major order: increasing, distinct, spread over all rows
  for (let i = 0; i < 16; i++) assert.ok(idx[i] >= Math.floor((i * 40) / 16) && idx[i] < Math.floor(((i + 1) * 40) / 16), `${idx}`);
  assert.deepEqual(new Set(a.patches.map((p) => p.y)).size, 5);
  assert.deepEqual(regionPatches(region, o).patches, a.patches, 'same seed, same sample');
  const others = [4, 5, 6].map((seed) => JSON.stringify(regionPatches(region, { ...o, seed }).patches));
  assert.ok(others.some((s) => s !== JSON.stringify(a.patches)), 'another seed, another sample');
});

test('trust route with a region: its patches, the cap, bad regions → 400', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'glassbox-trust-region-'));
  const slidePath = join(tmp, 'he.tif');
  await writeSyntheticSlide(slidePath, { ...SPEC, levels: [1, 4] }); // 2000 × 2000 px at 0.5 µm/px
  const server = await startServer({ port: 0, configDir: tmp, log: () => undefined, analysis: { cache: null } });
  const post = async (body: unknown): Promise<{ status: number; body: TrustJobDTO & { error: { message: string } } }> => {
    const res = await fetch(server.url + '/api/trust', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  const cancel = (id: string) => fetch(`${server.url}/api/trust/${id}`, { method: 'DELETE' });
  try {
    const slide = (await (await fetch(server.url + '/api/slides', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: slidePath }) })).json()) as SlideInfoDTO;
    const model = ((await (await fetch(server.url + '/api/models')).json()) as ModelListDTO).models.find((m) => m.name === 'tiny-crc-demo')!;
    assert.equal(model.patchSizePx * model.spacingUmPx / 0.5, 148.5); // level-0 patch: 150 px × 0.495 / 0.5
    const base = { slideId: slide.id, modelId: model.id, method: 'gradcam' };
    const region = (geometry: unknown, name = 'Tumour 1') => ({ ...base, region: { name, geometry } });

    await t.test('a known rectangle: the 6 patches whose centres lie inside', async () => {
      // centres (k + 0.5) × 148.5: x in [300, 760) → 371.25, 519.75, 668.25; y in [150, 460) → 222.75, 371.25
      const r = await post(region({ type: 'Polygon', coordinates: [rect(300, 150, 760, 460)] }));
      assert.equal(r.status, 202, JSON.stringify(r.body));
      await cancel(r.body.id);
      assert.deepEqual(r.body.patches, [
        { x: 297, y: 149, w: 149, h: 148 }, { x: 446, y: 149, w: 148, h: 148 }, { x: 594, y: 149, w: 149, h: 148 },
        { x: 297, y: 297, w: 149, h: 149 }, { x: 446, y: 297, w: 148, h: 149 }, { x: 594, y: 297, w: 149, h: 149 },
      ]);
      assert.deepEqual(r.body.region, { name: 'Tumour 1', inside: 6, checked: 6, cap: TRUST_REGION_MAX_PATCHES, sampled: false });
    });

    await t.test('more patches than the cap: an even sample of them, seeded', async () => {
      const g = { type: 'MultiPolygon', coordinates: [[rect(0, 0, 1000, 1000)], [rect(1500, 1500, 1800, 1800)]] };
      const a = await post({ ...region(g, 'big'), seed: 7 });
      assert.equal(a.status, 202, JSON.stringify(a.body));
      await cancel(a.body.id);
      assert.equal(a.body.patches.length, TRUST_REGION_MAX_PATCHES);
      assert.deepEqual(a.body.region, { name: 'big', inside: 7 * 7 + 2 * 2, checked: 16, cap: 16, sampled: true });
      const b = await post({ ...region(g, 'big'), seed: 7 });
      await cancel(b.body.id);
      assert.deepEqual(b.body.patches, a.body.patches);
    });

    await t.test('bad regions name the problem', async () => {
      const many = Array.from({ length: TRUST_REGION_LIMITS.vertices + 1 }, (_, i) => [500 + 400 * Math.cos(i / 3000), 500 + 400 * Math.sin(i / 3000)]);
      const cases: Array<[unknown, RegExp]> = [
        [region({ type: 'Polygon', coordinates: [rect(3000, 3000, 3500, 3400)] }), /region 'Tumour 1' \(3000, 3000\)–\(3500, 3400\) lies outside the slide \(0\.\.2000, 0\.\.2000/],
        [region({ type: 'Polygon', coordinates: [rect(-900, 10, -100, 500)] }), /lies outside the slide/],
        [region({ type: 'Polygon', coordinates: [many] }), /at most 20000 vertices/],
        [region({ type: 'Polygon', coordinates: [rect(10, 10, 50, 50)] }), /no patch of the model's grid has its centre inside region 'Tumour 1' \(patches are 149×149 px/],
        [region({ type: 'Polygon', coordinates: [[[10, 10], [null, 20], [30, 40]]] }), /region\.geometry\.coordinates\.0\.1\.0/],
        [region({ type: 'Polygon', coordinates: [[[10, 10], [20, 20]]] }), /at least 3 positions/],
        [region({ type: 'Point', coordinates: [10, 10] }), /Polygon or a MultiPolygon/],
        [{ ...region({ type: 'Polygon', coordinates: [rect(300, 150, 760, 460)] }), points: [{ x: 5, y: 5 }] }, /either points .* or region, not both/],
        [base, /either points .* or region/],
      ];
      for (const [body, re] of cases) {
        const r = await post(body);
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 200));
        assert.match(r.body.error.message, re);
      }
    });
  } finally {
    await server.close();
  }
});

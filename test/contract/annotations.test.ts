/**
 * The annotations API over all three transports (direct handler, HTTP, Electron protocol): create / edit / lock /
 * delete, measurements in µm² at the slide's µm/px, heatmap statistics and regions from a probe model's map,
 * QuPath GeoJSON / ASAP XML export → import round trips, CSV, the store keyed by the slide's content (a renamed
 * copy shows the same annotations), and bad input (malformed, unknown types, huge lists, bad ids) as a 4xx that
 * changes nothing.
 */
import { test } from 'node:test';
import sharp from 'sharp';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directTransport, electronTransport, httpTransport, type Transport } from './transports.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { writeProbePackage } from '../analysis/probe.js';
import type { AnalysisDTO, ModelListDTO } from '../../main/contract/analysis.js';
import { analysisUrls } from '../../main/contract/analysis.js';
import type { AnnotationSetDTO, ImportAnnotationsResponse, MeasureResponse, RegionsFromHeatmapResponse } from '../../main/contract/annotations.js';
import { annotationUrls } from '../../main/contract/annotations.js';
import { IPC_CHANNELS } from '../../main/contract/bridge.js';
import { createElectronHost } from '../../main/electron/compose.js';
import { GrantedPaths } from '../../main/electron/granted-paths.js';
import { registerIpc } from '../../main/electron/ipc.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-contract-annotations-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const models = join(dir, 'models');
writeProbePackage(join(models, 'probe'), { patch: 64, stride: 8, spacing: 1 });
const SLIDE = join(dir, 'shapes.tif');
const RED = { x: 96, y: 96, w: 512, h: 304 }; // on 16-px cell edges: the red map is exactly this rectangle
const ready = writeSyntheticSlide(SLIDE, {
  width: 2400, height: 1600, mpp: 0.5, levels: [1, 4],
  regions: [
    { ...RED, shape: 'rect', fill: [200, 30, 30] },
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
const send = (t: Transport, method: string, path: string, body: unknown) =>
  t.fetch(path, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const ok = async <T>(r: Promise<Response>): Promise<T> => {
  const res = await r;
  const b = await json<T>(res);
  assert.equal(res.status, 200, JSON.stringify(b).slice(0, 400));
  return b;
};

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';
const U4 = '44444444-4444-4444-8444-444444444444';
const TUMOR = { name: 'Tumor', color: [200, 0, 0] };
/** a right triangle of legs 400 and 300 px: 60,000 px² = 15,000 µm² at 0.5 µm/px, perimeter 1200 px = 600 µm */
const TRIANGLE = { type: 'Polygon', coordinates: [[[1000, 1000], [1400, 1000], [1000, 1300], [1000, 1000]]] };

for (const make of FACTORIES) {
  test(`annotations API over ${(await make().then(async (t) => { await t.close(); return t.name; }))}`, { timeout: 180_000 }, async (tt) => {
    await ready;
    const t = await make();
    try {
      const slide = await ok<{ id: string }>(send(t, 'POST', '/api/slides', { path: SLIDE }));
      const url = annotationUrls.set(slide.id);
      const empty = await ok<AnnotationSetDTO>(t.fetch(url));
      assert.deepEqual([empty.annotations, empty.classes, empty.notices], [[], [], []]);

      await tt.test('create, measure in µm², edit, lock, delete; saved state bumps', async () => {
        const set = await ok<AnnotationSetDTO>(send(t, 'POST', url, { annotations: [
          { id: U1, shape: { kind: 'rectangle', x: 100, y: 200, width: 1000, height: 500 }, name: 'box', classification: TUMOR },
          { id: U2, shape: { kind: 'polygon' }, geometry: TRIANGLE, name: 'tri', description: 'three corners' },
          { id: U3, shape: { kind: 'point' }, geometry: { type: 'Point', coordinates: [50, 60] } },
        ] }));
        assert.equal(set.annotations.length, 3);
        assert.ok(set.revision > empty.revision && set.savedAt, 'saved');
        const box = set.annotations.find((a) => a.id === U1)!;
        assert.deepEqual(box.geometry, { type: 'Polygon', coordinates: [[[100, 200], [1100, 200], [1100, 700], [100, 700], [100, 200]]] }, 'the rectangle\'s outline is derived from the shape');
        assert.deepEqual(box.classification, TUMOR);
        assert.deepEqual(set.classes.map((c) => c.name), ['Tumor'], 'a class met on an annotation joins the list');
        const m = await ok<MeasureResponse>(send(t, 'POST', annotationUrls.measure(slide.id), {}));
        assert.deepEqual(m.mpp, { x: 0.5, y: 0.5 });
        const byId = new Map(m.items.map((i) => [i.id, i]));
        const mb = byId.get(U1)!.shape, mt = byId.get(U2)!.shape;
        assert.deepEqual([mb.unit, mb.area, mb.perimeter, mb.areaPx, mb.centroid], ['um', 125_000, 1500, 500_000, [600, 450]]);
        assert.ok(Math.abs(mt.area - 15_000) < 1e-6 && Math.abs(mt.perimeter - 600) < 1e-6, JSON.stringify(mt));
        assert.deepEqual(mt.centroid.map((v) => Math.round(v * 1000) / 1000), [1133.333, 1100]);
        assert.equal(byId.get(U3)!.shape.points, 1);
        // edit: move the triangle, rename, lock
        const moved = { type: 'Polygon', coordinates: [[[1100, 1000], [1500, 1000], [1100, 1300], [1100, 1000]]] };
        const s2 = await ok<AnnotationSetDTO>(send(t, 'POST', url, { annotations: [{ id: U2, shape: { kind: 'polygon' }, geometry: moved, name: 'tri 2', isLocked: true }] }));
        const tri = s2.annotations.find((a) => a.id === U2)!;
        assert.deepEqual([tri.name, tri.description, tri.isLocked, tri.geometry], ['tri 2', 'three corners', true, moved]);
        assert.equal(tri.createdAt, set.annotations.find((a) => a.id === U2)!.createdAt, 'createdAt kept');
        // locked: neither edited nor deleted
        const e1 = await send(t, 'POST', url, { annotations: [{ id: U2, shape: { kind: 'polygon' }, geometry: TRIANGLE }] });
        assert.equal(e1.status, 400);
        assert.match((await json<{ error: { message: string } }>(e1)).error.message, /locked/);
        const e2 = await send(t, 'POST', annotationUrls.remove(slide.id), { ids: [U2] });
        assert.equal(e2.status, 400);
        const s3 = await ok<AnnotationSetDTO>(send(t, 'POST', url, { annotations: [{ id: U2, shape: { kind: 'polygon' }, geometry: moved, isLocked: false }] }));
        assert.equal(s3.annotations.find((a) => a.id === U2)!.isLocked, false);
        const s4 = await ok<AnnotationSetDTO>(send(t, 'POST', annotationUrls.remove(slide.id), { ids: [U3] }));
        assert.deepEqual(s4.annotations.map((a) => a.id).sort(), [U1, U2]);
        assert.equal((await send(t, 'POST', annotationUrls.remove(slide.id), { ids: [U3] })).status, 404);
        const cls = await ok<AnnotationSetDTO>(send(t, 'PUT', annotationUrls.classes(slide.id), { classes: [TUMOR, { name: 'Stroma', color: [150, 200, 150] }] }));
        assert.deepEqual(cls.classes.map((c) => c.name), ['Tumor', 'Stroma']);
      });

      await tt.test('GeoJSON (QuPath) export → delete → import round trip; ASAP XML and CSV', async () => {
        const before = await ok<AnnotationSetDTO>(t.fetch(url));
        const ex = await t.fetch(annotationUrls.export(slide.id, 'geojson'));
        assert.equal(ex.status, 200);
        assert.match(ex.headers.get('content-disposition') ?? '', /attachment; filename="shapes\.annotations\.geojson"/);
        const text = await ex.text();
        const fc = JSON.parse(text) as { type: string; features: Array<{ id?: string; geometry: unknown; properties: Record<string, unknown> }> };
        assert.equal(fc.type, 'FeatureCollection');
        assert.equal(fc.features.length, 2);
        const f = fc.features.find((x) => (x.properties.name as string) === 'box')!;
        assert.equal(f.properties.objectType, 'annotation');
        assert.deepEqual(f.properties.classification, TUMOR);
        assert.equal(f.properties.isLocked, false);
        await ok(send(t, 'POST', annotationUrls.remove(slide.id), { ids: [U1, U2] }));
        const imp = await ok<ImportAnnotationsResponse>(t.fetch(annotationUrls.import(slide.id, 'geojson') + '?name=mine.geojson', { method: 'POST', body: text }));
        assert.deepEqual(imp.added.sort(), [U1, U2]);
        const after = imp.set.annotations;
        for (const a of before.annotations) {
          const b = after.find((x) => x.id === a.id)!;
          assert.deepEqual([b.name, b.description, b.classification, b.isLocked, b.geometry, b.shape.kind], [a.name, a.description, a.classification, a.isLocked, a.geometry, a.shape.kind === 'rectangle' ? b.shape.kind : a.shape.kind]);
        }
        // ASAP XML
        const xml = await (await t.fetch(annotationUrls.export(slide.id, 'asap'))).text();
        assert.match(xml, /<ASAP_Annotations>/);
        const ai = await ok<ImportAnnotationsResponse>(t.fetch(annotationUrls.import(slide.id, 'asap'), { method: 'POST', body: xml }));
        const polys = ai.set.annotations.filter((a) => a.name === 'tri 2');
        assert.ok(polys.length >= 1 && polys.every((p) => JSON.stringify(p.geometry) === JSON.stringify(before.annotations.find((x) => x.id === U2)!.geometry)), 'ASAP round trip keeps the vertices');
        // CSV
        const csv = await (await t.fetch(annotationUrls.export(slide.id, 'csv'))).text();
        const lines = csv.trim().split(/\r?\n/);
        assert.ok(lines.length >= 3, csv);
        assert.match(lines[0], /Area/);
        assert.ok(lines.some((l) => /box/.test(l) && /125000/.test(l.replaceAll(',', '').replace(/125000\.0+/, '125000'))), csv);
      });

      await tt.test('bad imports and bad input: a clear 4xx, nothing changes', async () => {
        const before = await ok<AnnotationSetDTO>(t.fetch(url));
        const imp = (fmt: 'geojson' | 'asap', body: string) => t.fetch(annotationUrls.import(slide.id, fmt), { method: 'POST', body });
        const huge = { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [Array.from({ length: 250_001 }, (_, i) => [i % 1000, Math.floor(i / 1000)])] }, properties: { objectType: 'annotation' } }] };
        const cases: Array<[Response, number[], RegExp]> = [
          [await imp('geojson', '{"type": "FeatureCollection", "features": [ '), [400], /JSON|GeoJSON/i],
          [await imp('geojson', JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Circle', coordinates: [1, 2] }, properties: {} }] })), [400, 415], /Circle|geometry/i],
          [await imp('geojson', JSON.stringify(huge)), [400, 413], /vert|position|coordinate|too (many|large)/i],
          [await imp('asap', '<ASAP_Annotations><Annotations><Annotation Type="Polygon"><Coordinates><Coordinate Order="0" X="a" Y="1"/>'), [400], /ASAP|XML|coordinate/i],
          [await imp('geojson', '   '), [400], /empty/],
          [await send(t, 'POST', url, { annotations: [{ id: 'not-a-uuid', shape: { kind: 'point' }, geometry: { type: 'Point', coordinates: [1, 2] } }] }), [400], /UUID/],
          [await send(t, 'POST', url, { annotations: [{ id: U4, shape: { kind: 'polygon' } }] }), [400], /geometry is required/],
          [await send(t, 'POST', url, { annotations: [{ id: U4, shape: { kind: 'rectangle', x: 0, y: 0, width: -5, height: 3 } }] }), [400], /width/],
          [await send(t, 'POST', url, '{"annotations": [{"id": "' + U4 + '", "shape": {"kind": "point"}, "geometry": {"type": "Point", "coordinates": [1e400, 2]}}]}'), [400], /coordinates/],
          [await send(t, 'POST', url, { annotations: [{ id: U4, shape: { kind: 'hexagon' } }] }), [400], /kind/],
          [await send(t, 'PUT', annotationUrls.classes(slide.id), { classes: [TUMOR, TUMOR] }), [400], /twice/],
          [await send(t, 'PUT', annotationUrls.classes(slide.id), { classes: [{ name: 'X', color: [300, 0, 0] }] }), [400], /color/],
          [await t.fetch(annotationUrls.export(slide.id, 'geojson').replace('geojson', 'shp')), [404], /export format/],
          [await send(t, 'POST', annotationUrls.regions(slide.id), { analysisId: 'AAAAAAAAAAAA', classIndex: 0, threshold: 101, percentile: true }), [400], /percentile/],
          [await t.fetch(annotationUrls.set('nosuchslide123')), [404], /no open slide/],
        ];
        for (const [r, statuses, re] of cases) {
          const b = await json<{ error: { message: string } }>(r);
          assert.ok(statuses.includes(r.status), `${r.url} → ${r.status} ${b.error?.message}`);
          assert.match(b.error.message, re);
        }
        const after = await ok<AnnotationSetDTO>(t.fetch(url));
        assert.deepEqual(after.annotations, before.annotations, 'nothing changed');
        assert.equal(after.revision, before.revision);
      });

      await tt.test('the store follows the slide\'s content: a renamed copy opens with the same annotations', async () => {
        const copy = join(t.tmp, 'renamed-copy.tif');
        copyFileSync(SLIDE, copy);
        const other = await ok<{ id: string }>(send(t, 'POST', '/api/slides', { path: copy }));
        const a = await ok<AnnotationSetDTO>(t.fetch(url));
        const b = await ok<AnnotationSetDTO>(t.fetch(annotationUrls.set(other.id)));
        assert.deepEqual(b.annotations.map((x) => x.id).sort(), a.annotations.map((x) => x.id).sort());
        assert.ok(b.annotations.length > 0);
      });

      await tt.test('heatmap statistics inside an annotation and regions from the map', async () => {
        const list = await ok<ModelListDTO>(t.fetch(analysisUrls.models()));
        const model = list.models[0];
        const started = await json<AnalysisDTO>(await send(t, 'POST', analysisUrls.analyses(), { slideId: slide.id, modelId: model.id, classes: ['red'], method: 'gradcam' }));
        let a = started;
        for (let i = 0; i < 600 && a.state === 'running'; i++) {
          await new Promise((r) => setTimeout(r, 50));
          a = await json<AnalysisDTO>(await t.fetch(analysisUrls.analysis(started.id)));
        }
        assert.equal(a.state, 'done', JSON.stringify(a.error));
        const hot = (200 - 30) / 255 / 64;
        // a rectangle inside the red one: every cell hot; its probabilities say red
        const inside = '55555555-5555-4555-8555-555555555555';
        await ok(send(t, 'POST', url, { annotations: [{ id: inside, shape: { kind: 'rectangle', x: 128, y: 128, width: 448, height: 240 } }] }));
        const m = await ok<MeasureResponse>(send(t, 'POST', annotationUrls.measure(slide.id), { ids: [inside], heatmap: { analysisId: a.id, classIndex: 0, threshold: hot / 2 } }));
        const h = m.items[0].heatmap!;
        assert.ok(Math.abs(h.mean - hot) < 0.03 * hot && Math.abs(h.max - hot) < 0.03 * hot && Math.abs(h.p90 - hot) < 0.03 * hot, JSON.stringify(h));
        assert.equal(h.fractionAbove, 1);
        assert.ok(h.classProbabilities.red > 0.5 && h.classProbabilities.red > h.classProbabilities.blue, JSON.stringify(h.classProbabilities));
        const r = await ok<RegionsFromHeatmapResponse>(send(t, 'POST', annotationUrls.regions(slide.id), { analysisId: a.id, classIndex: 0, threshold: hot / 2, minAreaUm2: 100 }));
        assert.equal(r.added.length, 1, 'one region: the red rectangle');
        const region = r.set.annotations.find((x) => x.id === r.added[0])!;
        assert.equal(region.provenance.source, 'heatmap');
        assert.equal(region.classification?.name, 'red');
        // on the cell edges, exactly the red rectangle (its edges lie on 16-px cell boundaries)
        const ring = (region.geometry.type === 'Polygon' ? region.geometry.coordinates[0] : region.geometry.type === 'MultiPolygon' ? region.geometry.coordinates[0][0] : []);
        const xs = ring.map((q) => q[0]), ys = ring.map((q) => q[1]);
        assert.deepEqual([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], [RED.x, RED.y, RED.x + RED.w, RED.y + RED.h]);
        // its area is the cells at or above the threshold (corner patches with < 10% tissue were not analysed: NaN)
        const map = new Float32Array(await (await t.fetch(analysisUrls.heatmap(a.id, 0))).arrayBuffer());
        const cells = map.filter((v) => v >= hot / 2).length;
        const rm = await ok<MeasureResponse>(send(t, 'POST', annotationUrls.measure(slide.id), { ids: [region.id] }));
        assert.equal(rm.items[0].shape.areaPx, cells * 16 * 16);
        assert.ok(cells * 256 > 0.95 * RED.w * RED.h, `${cells} cells`);
        // deleted and put back (an undo) with its provenance: still a heatmap region; a bad provenance is refused
        await ok(send(t, 'POST', annotationUrls.remove(slide.id), { ids: [region.id] }));
        const back = await ok<AnnotationSetDTO>(send(t, 'POST', url, { annotations: [{ id: region.id, shape: region.shape, geometry: region.geometry, name: region.name, classification: region.classification, provenance: region.provenance }] }));
        assert.deepEqual(back.annotations.find((x) => x.id === region.id)!.provenance, region.provenance);
        const badProv = await send(t, 'POST', url, { annotations: [{ id: region.id, shape: region.shape, geometry: region.geometry, provenance: { source: 'magic' } }] });
        assert.equal(badProv.status, 400);
        // a percentile threshold resolves to a value
        const p = await ok<RegionsFromHeatmapResponse>(send(t, 'POST', annotationUrls.regions(slide.id), { analysisId: a.id, classIndex: 0, threshold: 99, percentile: true }));
        assert.ok(Number.isFinite(p.threshold) && p.threshold > 0);
        assert.equal((await send(t, 'POST', annotationUrls.regions(slide.id), { analysisId: a.id, classIndex: 1, threshold: 0.1 })).status, 400, 'class 1 was not analysed');

        // an image of the inside rectangle (448 × 240 level-0 px at 0.5 µm/px) at 1 µm/px: 224 × 120 px; the slide's
        // red, or with the map in the viewer's colours at opacity 1 the top of viridis
        const centre = async (r: Response) => {
          assert.equal(r.status, 200, await r.clone().text());
          const { data, info } = await sharp(Buffer.from(await r.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
          const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
          return { size: [info.width, info.height], rgb: [data[i], data[i + 1], data[i + 2]] };
        };
        const plain = await t.fetch(annotationUrls.crop(slide.id, inside, 'png', { mpp: 1, scaleBar: false }));
        assert.equal(plain.headers.get('content-type'), 'image/png');
        assert.match(plain.headers.get('content-disposition') ?? '', /attachment; filename=".*\.png"/);
        const p0 = await centre(plain);
        assert.deepEqual(p0.size, [224, 120]);
        assert.ok(Math.abs(p0.rgb[0] - 200) < 25 && p0.rgb[1] < 60 && p0.rgb[2] < 60, `slide red: ${p0.rgb}`);
        const overlay = { analysisId: a.id, classIndex: 0, colormap: 'viridis' as const, mode: 'for' as const, hi: hot, threshold: hot / 2, opacity: 1, smooth: false };
        const p1 = await centre(await t.fetch(annotationUrls.crop(slide.id, inside, 'png', { mpp: 1, overlay })));
        assert.ok(Math.hypot(p1.rgb[0] - 253, p1.rgb[1] - 231, p1.rgb[2] - 37) < 30, `viridis top: ${p1.rgb}`);
        const tif = await t.fetch(annotationUrls.crop(slide.id, inside, 'tiff', { downsample: 4 }));
        assert.equal(tif.headers.get('content-type'), 'image/tiff');
        assert.deepEqual((await sharp(Buffer.from(await tif.arrayBuffer())).metadata()).width, 112);
        const bad: Array<[string, number, RegExp]> = [
          [annotationUrls.crop(slide.id, inside, 'png', {}), 400, /one of mpp/],
          [annotationUrls.crop(slide.id, inside, 'png', { mpp: 1, downsample: 2 }), 400, /one of mpp/],
          [annotationUrls.crop(slide.id, inside, 'png', { mpp: 1 }) + '&colormap=viridis', 400, /overlay needs all/],
          [annotationUrls.crop(slide.id, U1.replace('1111', '9999'), 'png', { mpp: 1 }), 404, /no annotation/],
          [annotationUrls.crop(slide.id, inside, 'png', { mpp: 0.01 }), 400, /enlarge the slide's finest level more than 4×/],
        ];
        for (const [u, status, re] of bad) {
          const r = await t.fetch(u);
          const b = await json<{ error: { message: string } }>(r);
          assert.equal(r.status, status, `${u} → ${r.status} ${b.error?.message}`);
          assert.match(b.error.message, re);
        }
      });
    } finally {
      await t.close();
    }
  });
}

test('Electron: export / import through native dialogs on fixed, sender-checked channels', async () => {
  await ready;
  const tmp = mkdtempSync(join(tmpdir(), 'gbx-ann-ipc-'));
  const granted = new GrantedPaths();
  granted.add(SLIDE);
  const host = createElectronHost({ configDir: join(tmp, 'config'), staticDir: tmp, version: '0.1.0', analysisCache: null, granted });
  const handlers = new Map<string, (e: unknown, ...a: unknown[]) => Promise<unknown>>();
  const ipcMain = { handle: (c: string, l: never) => void handlers.set(c, l), removeHandler: (c: string) => void handlers.delete(c), on: () => undefined, removeListener: () => undefined };
  let savePath: string | null = null;
  let openPath: string | null = null;
  const names: string[] = [];
  const warnings: string[] = [];
  const off = registerIpc({
    ipcMain: ipcMain as never, appContents: () => ({ id: 3 }), showOpenDialog: async () => null, grant: () => undefined, warn: (m) => warnings.push(m),
    annotations: host.annotations,
    showSaveDialog: async (name) => (names.push(name), savePath),
    showAnnotationOpenDialog: async () => openPath,
  });
  const call = (path: string, init?: RequestInit) => host.handle(new Request(`glassbox://app${path}`, init));
  try {
    const slide = (await (await call('/api/slides', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: SLIDE }) })).json()) as { id: string };
    const put = await call(annotationUrls.set(slide.id), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ annotations: [{ id: U4, shape: { kind: 'ellipse', cx: 500, cy: 400, rx: 200, ry: 100 }, name: 'oval' }] }) });
    assert.equal(put.status, 200);
    const exp = handlers.get(IPC_CHANNELS.exportAnnotations)!, imp = handlers.get(IPC_CHANNELS.importAnnotations)!;
    const app = { sender: { id: 3 }, senderFrame: { url: 'glassbox://app/index.html' } };
    await assert.rejects(async () => exp({ sender: { id: 4 }, senderFrame: app.senderFrame }, slide.id, 'geojson'), /refused: sender is not the app window/);
    await assert.rejects(async () => exp(app, slide.id, 'shp'), /takes \(slide id, one of geojson, asap, csv\)/);
    await assert.rejects(async () => imp(app, slide.id, 'csv'), /takes \(slide id, one of geojson, asap\)/, 'CSV is export only');
    await assert.rejects(async () => exp(app, '../etc', 'geojson'), /takes/);
    assert.equal(await exp(app, slide.id, 'geojson'), null, 'cancelled');
    savePath = join(tmp, 'out.geojson');
    assert.deepEqual(await exp(app, slide.id, 'geojson'), { ok: true, path: savePath });
    assert.deepEqual(names, ['shapes.annotations.geojson', 'shapes.annotations.geojson']);
    const fc = JSON.parse(readFileSync(savePath, 'utf8')) as { features: Array<{ properties: { name: string } }> };
    assert.deepEqual(fc.features.map((f) => f.properties.name), ['oval']);
    assert.equal((await call(annotationUrls.remove(slide.id), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [U4] }) })).status, 200);
    openPath = savePath;
    const r = (await imp(app, slide.id, 'geojson')) as { ok: boolean; added: number };
    assert.deepEqual([r.ok, r.added], [true, 1]);
    const set = (await (await call(annotationUrls.set(slide.id))).json()) as AnnotationSetDTO;
    assert.deepEqual(set.annotations.map((a) => [a.id, a.name, a.shape.kind]), [[U4, 'oval', 'ellipse']]);
    openPath = join(tmp, 'bad.geojson');
    writeFileSync(openPath, '{"type": "Feature');
    const bad = (await imp(app, slide.id, 'geojson')) as { ok: boolean; error: string };
    assert.equal(bad.ok, false);
    assert.match(bad.error, /JSON/);
    assert.equal(((await (await call(annotationUrls.set(slide.id))).json()) as AnnotationSetDTO).revision, set.revision, 'a bad file changes nothing');
  } finally {
    off();
    assert.ok(!handlers.has(IPC_CHANNELS.exportAnnotations) && !handlers.has(IPC_CHANNELS.importAnnotations));
    await host.annotations.close();
    await host.service.closeAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

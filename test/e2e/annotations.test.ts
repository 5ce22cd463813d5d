/**
 * End-to-end: annotations in Chromium against the real HTTP host. Draw a polygon with the P tool and see its area
 * in mm² equal to the shoelace area of the stored vertices at 0.5 µm/px; rectangle and point tools; undo / redo
 * with the keyboard; export GeoJSON (a download), delete, re-import the file (same id, same vertices); analyse the
 * slide with the geometry-probe model and threshold its map into a region that is exactly the red rectangle, with
 * heatmap statistics in the panel; reload the page and everything is still there.
 * GLASSBOX_SCREENSHOTS=1 also writes docs/screenshots/annotations-*.png (1280×720 and 1920×1080).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { writeProbePackage } from '../analysis/probe.js';
import { ResultCache } from '../../main/engine/analysis/index.js';
import type { AnnotationSetDTO, GeometryDTO } from '../../main/contract/annotations.js';
import { annotationUrls } from '../../main/contract/annotations.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt } from './support.js';

const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: e2e annotation tests skipped`;
const SCREENSHOTS = process.env.GLASSBOX_SCREENSHOTS === '1';
const SHOTS = join(REPO_ROOT, 'docs', 'screenshots');

// 0.5 µm/px; the probe reads at 1 µm/px, one cell = 16 level-0 px; the red rectangle's edges lie on cell edges
const W = 6000, H = 4000;
const RED = { x: 1088, y: 816, w: 2000, h: 1200 };
const BLUE = { x: 3504, y: 1504, w: 2000, h: 1800 };

async function toScreen(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const view = (await page.getByTestId('viewer').getAttribute('data-view'))!.split(',').map(Number);
  const box = (await page.getByTestId('viewer').boundingBox())!;
  return { x: box.x + ((x - view[0]) / view[2]) * box.width, y: box.y + ((y - view[1]) / view[3]) * box.height };
}

async function clickAt(page: Page, x: number, y: number): Promise<void> {
  const p = await toScreen(page, x, y);
  await page.mouse.click(p.x, p.y);
}

async function settle(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 20_000 });
  await page.waitForTimeout(700);
}

const count = async (page: Page) => Number(await page.getByTestId('annotation-layer').getAttribute('data-count'));
const waitCount = (page: Page, n: number) =>
  page.waitForFunction((k) => document.querySelector('[data-testid=annotation-layer]')?.getAttribute('data-count') === String(k), n, { timeout: 10_000 });
const saved = (page: Page) => page.waitForSelector('[data-testid=ann-save-state][data-state=saved]', { timeout: 10_000 });

function shoelace(ring: number[][]): number {
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++) s += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return Math.abs(s) / 2;
}
/** area of a Polygon / MultiPolygon: exteriors minus holes */
function areaOf(g: GeometryDTO): number {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.reduce((a, p) => a + shoelace(p[0]) - p.slice(1).reduce((h, q) => h + shoelace(q), 0), 0);
}

async function save(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  // the messages of earlier steps are not part of the picture
  while (await page.locator('button[aria-label=Dismiss]').count()) await page.locator('button[aria-label=Dismiss]').first().click();
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(SHOTS, name), await page.screenshot());
}

test('annotations end-to-end in Chromium against the HTTP host', { skip: SKIP_NO_CHROMIUM, timeout: 400_000 }, async (t) => {
  ensureRendererBuilt();
  const tmp = mkdtempSync(join(tmpdir(), 'glassbox-e2e-annotations-'));
  const models = join(tmp, 'models');
  writeProbePackage(join(models, 'probe'), { patch: 64, stride: 8, spacing: 1 });
  const slidePath = join(tmp, 'shapes.tif');
  await writeSyntheticSlide(slidePath, {
    width: W, height: H, mpp: 0.5, levels: [1, 4, 16],
    regions: [{ ...RED, shape: 'rect', fill: [200, 30, 30] }, { ...BLUE, shape: 'ellipse', fill: [30, 30, 200] }],
  });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({
      port: 0, host: '127.0.0.1', staticDir: RENDERER_DIST, configDir: tmp, log: () => undefined,
      analysis: { modelRoots: [{ dir: models, source: 'user' }], cache: new ResultCache(join(tmp, 'cache')) },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(server.url + '/');
    await page.getByTestId('open-button').click();
    await page.getByTestId('path-input').fill(slidePath);
    await page.getByTestId('path-input').press('Enter');
    await settle(page);
    const slideId = (await server.service.list())[0].id;
    const stored = async () => (await (await fetch(server!.url + annotationUrls.set(slideId))).json()) as AnnotationSetDTO;

    await t.test('the panel (L) lists the default classes; tools in the strip', async () => {
      await page.keyboard.press('l');
      await page.getByTestId('annotation-panel').waitFor({ state: 'visible' });
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=ann-class]').length >= 7);
      const names = await page.getByTestId('ann-class').allInnerTexts();
      assert.ok(names.some((n) => /Tumor/.test(n)) && names.some((n) => /Stroma/.test(n)), names.join(' | '));
      assert.equal(await count(page), 0);
      const s0 = await stored();
      assert.deepEqual([s0.classes, s0.savedAt], [[], null], 'looking writes nothing: the defaults are saved with the first change');
      await page.keyboard.press('0'); // fit the slide into the narrower stage
      await settle(page);
    });

    const poly = [[1400, 2400], [2600, 2400], [2600, 3200], [1400, 3200]];
    await t.test('draw a polygon (P, four clicks, Enter): its area in mm² is the shoelace area at 0.5 µm/px', async () => {
      await page.keyboard.press('p');
      assert.equal(await page.getByTestId('annotation-layer').getAttribute('data-tool'), 'polygon');
      for (const [x, y] of poly) await clickAt(page, x, y);
      assert.equal(await page.getByTestId('annotation-layer').getAttribute('data-drafting'), 'polygon');
      await page.keyboard.press('Enter');
      await waitCount(page, 1);
      await saved(page);
      const s = await stored();
      assert.equal(s.annotations.length, 1);
      assert.ok(s.classes.some((c) => c.name === 'Tumor') && s.classes.length >= 7, 'the default class list is saved with the first annotation');
      const a = s.annotations[0];
      assert.equal(a.shape.kind, 'polygon');
      const ring = (a.geometry as { coordinates: number[][][] }).coordinates[0];
      assert.equal(ring.length, 5, 'four vertices, closed');
      const areaUm2 = shoelace(ring) * 0.25;
      assert.ok(Math.abs(areaUm2 - 1200 * 800 * 0.25) / (1200 * 800 * 0.25) < 0.02, `drawn where clicked: ${areaUm2} µm²`);
      await page.getByTestId('annotation-details').waitFor({ state: 'visible' });
      await page.waitForSelector('[data-testid=ann-measurements]');
      const shown = await page.getByTestId('ann-area').innerText();
      t.diagnostic(`polygon area shown: ${shown} (shoelace ${areaUm2.toFixed(1)} µm²)`);
      assert.equal(shown, `${(areaUm2 / 1e6).toFixed(3)} mm²`);
      const attr = Number(await page.getByTestId('ann-measurements').getAttribute('data-area'));
      assert.ok(Math.abs(attr - areaUm2) < 1e-6 * areaUm2, `${attr} vs ${areaUm2}`);
      assert.equal(await page.getByTestId('ann-measurements').getAttribute('data-unit'), 'um');
      assert.match(await page.getByTestId('ann-perimeter').innerText(), /µm|mm/);
    });

    /** drag with the primary button through level-0 points */
    const dragThrough = async (pts: number[][]) => {
      const first = await toScreen(page, pts[0][0], pts[0][1]);
      await page.mouse.move(first.x, first.y);
      await page.mouse.down();
      for (const [x, y] of pts.slice(1)) {
        const q = await toScreen(page, x, y);
        await page.mouse.move(q.x, q.y, { steps: 4 });
      }
      await page.mouse.up();
    };

    await t.test('rectangle (R), ellipse (O), freehand (a drag with P) and point (.) tools; undo / redo with the keyboard', async () => {
      await page.keyboard.press('r');
      await dragThrough([[3800, 300], [4200, 500], [4600, 800]]);
      await waitCount(page, 2);
      await page.keyboard.press('o');
      await dragThrough([[3800, 1000], [4600, 1400]]);
      await waitCount(page, 3);
      await page.keyboard.press('p');
      await dragThrough([[400, 3400], [800, 3300], [1000, 3700], [600, 3900], [350, 3700]]);
      await waitCount(page, 4);
      await page.keyboard.press('.');
      await clickAt(page, 5000, 500);
      await waitCount(page, 5);
      await saved(page);
      const s = await stored();
      assert.deepEqual(s.annotations.map((x) => x.shape.kind).sort(), ['ellipse', 'freehand', 'point', 'polygon', 'rectangle']);
      const rect = s.annotations.find((x) => x.shape.kind === 'rectangle')!.shape as { x: number; y: number; width: number; height: number };
      assert.ok(Math.abs(rect.x - 3800) < 20 && Math.abs(rect.width - 800) < 40 && Math.abs(rect.height - 500) < 40, JSON.stringify(rect));
      const ell = s.annotations.find((x) => x.shape.kind === 'ellipse')!.shape as { cx: number; cy: number; rx: number; ry: number };
      assert.ok(Math.abs(ell.cx - 4200) < 20 && Math.abs(ell.rx - 400) < 20 && Math.abs(ell.ry - 200) < 20, JSON.stringify(ell));
      const brush = s.annotations.find((x) => x.shape.kind === 'freehand')!.geometry as { type: string; coordinates: number[][][] };
      assert.equal(brush.type, 'Polygon');
      assert.ok(brush.coordinates[0].length >= 5, 'the freehand outline follows the drag');
      await page.keyboard.press('Control+z');
      await waitCount(page, 4);
      await page.keyboard.press('Control+z');
      await waitCount(page, 3);
      await page.keyboard.press('Control+Shift+z');
      await waitCount(page, 4);
      await page.keyboard.press('Control+y');
      await waitCount(page, 5);
      await saved(page);
      assert.equal((await stored()).annotations.length, 5, 'redo is saved');
      for (let i = 0; i < 4; i++) await page.keyboard.press('Control+z');
      await waitCount(page, 1);
      await saved(page);
      assert.deepEqual((await stored()).annotations.map((x) => x.shape.kind), ['polygon'], 'undo is saved');
    });

    await t.test('brush (B): [ and ] size it, a stroke paints a capsule, a stroke from inside adds, Alt+stroke cuts it in two', async () => {
      await page.keyboard.press('b');
      const size = page.getByTestId('brush-size');
      assert.equal(await size.inputValue(), '24');
      await page.keyboard.press(']');
      assert.equal(await size.inputValue(), '30');
      await page.keyboard.press('[');
      assert.equal(await size.inputValue(), '24');
      // level-0 px per screen px, from the view the viewer publishes
      const view = (await page.getByTestId('viewer').getAttribute('data-view'))!.split(',').map(Number);
      const k = view[2] / (await page.getByTestId('viewer').boundingBox())!.width;
      const r = 12 * k;
      // the outline follows the pointer at the brush's size
      const hover = await toScreen(page, 900, 3500);
      await page.mouse.move(hover.x, hover.y);
      assert.equal(await page.getByTestId('brush-cursor').getAttribute('r'), '12');
      const n0 = await count(page);
      await dragThrough([[400, 3500], [900, 3500], [1400, 3500]]);
      await waitCount(page, n0 + 1);
      await saved(page);
      const painted = () => stored().then((x) => x.annotations[x.annotations.length - 1]);
      const a1 = await painted();
      assert.equal(a1.shape.kind, 'polygon');
      // a straight stroke: 1000 × 2r plus a disc. The mouse lands on whole screen px (the length is good to ±2 px, k
      // level-0 px each) and the round ends are polygons within a quarter screen px of their arcs
      const tol = 2 * k * 2 * r + 2 * Math.PI * r * (k / 4);
      const capsule = 1000 * 2 * r + Math.PI * r * r;
      assert.ok(Math.abs(areaOf(a1.geometry) - capsule) <= tol, `painted ${areaOf(a1.geometry)} vs ${capsule} ± ${tol} level-0 px²`);
      // its handles: fewer than its vertices (the round ends' are dense), each at least 6 screen px from the last
      const nv = (a1.geometry as { coordinates: number[][][] }).coordinates[0].length - 1;
      const hs = await page.getByTestId('annotation-handle').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('x')), Number(e.getAttribute('y'))]));
      assert.ok(hs.length >= 4 && hs.length < nv, `${hs.length} handles for ${nv} vertices`);
      for (let i = 1; i < hs.length; i++) assert.ok(Math.hypot(hs[i][0] - hs[i - 1][0], hs[i][1] - hs[i - 1][1]) >= 6, `handles ${i - 1}, ${i}: ${hs[i - 1]} ${hs[i]}`);
      // from inside the selected area: the same annotation grows by the stroke's part outside it
      await dragThrough([[900, 3500], [900, 3700], [900, 3900]]);
      await saved(page);
      const a2 = await painted();
      assert.equal(a2.id, a1.id);
      assert.equal(await count(page), n0 + 1, 'added to, not a new one');
      const grown = (400 - r) * 2 * r + (Math.PI * r * r) / 2; // the arm below the bar and its round end
      assert.ok(Math.abs(areaOf(a2.geometry) - areaOf(a1.geometry) - grown) <= tol, `grew by ${areaOf(a2.geometry) - areaOf(a1.geometry)} vs ${grown} ± ${tol}`);
      // Alt: cut across the bar left of the arm → two parts
      await page.keyboard.down('Alt');
      await dragThrough([[650, 3300], [650, 3500], [650, 3700]]);
      await page.keyboard.up('Alt');
      await saved(page);
      const a3 = await painted();
      assert.equal(a3.id, a1.id);
      assert.equal(a3.shape.kind, 'multipolygon');
      assert.equal(a3.geometry.type, 'MultiPolygon');
      const cut = 2 * r * 2 * r; // the bar's full width, as wide as the brush
      assert.ok(Math.abs(areaOf(a2.geometry) - areaOf(a3.geometry) - cut) <= tol, `cut ${areaOf(a2.geometry) - areaOf(a3.geometry)} vs ${cut} ± ${tol}`);
      // three undos take the brush's work back
      for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
      await waitCount(page, n0);
      await saved(page);
      assert.equal((await stored()).annotations.length, n0);
    });

    await t.test('line (V): the ruler reads the length while drawing; Enter ends it; its length in µm in the panel', async () => {
      await page.keyboard.press('v');
      const n0 = await count(page);
      const view = (await page.getByTestId('viewer').getAttribute('data-view'))!.split(',').map(Number);
      const k = view[2] / (await page.getByTestId('viewer').boundingBox())!.width; // level-0 px per screen px
      await clickAt(page, 400, 300);
      const to = await toScreen(page, 1400, 300);
      await page.mouse.move(to.x, to.y, { steps: 3 });
      // 1000 level-0 px at 0.5 µm/px, good to ±1 screen px at each end
      const read = Number((await page.getByTestId('ruler').textContent())!.replace(/[^\d.]/g, ''));
      assert.match((await page.getByTestId('ruler').textContent())!, /^\d+\.\d µm$/);
      assert.ok(Math.abs(read - 500) <= 2 * k * 0.5, `ruler ${read} µm`);
      await page.mouse.click(to.x, to.y);
      await clickAt(page, 1400, 800);
      await page.keyboard.press('Enter');
      await waitCount(page, n0 + 1);
      await saved(page);
      const line = (await stored()).annotations.find((x) => x.shape.kind === 'polyline')!;
      assert.equal(line.geometry.type, 'LineString');
      const pts = (line.geometry as { coordinates: number[][] }).coordinates;
      assert.equal(pts.length, 3);
      const len = (Math.hypot(pts[1][0] - pts[0][0], pts[1][1] - pts[0][1]) + Math.hypot(pts[2][0] - pts[1][0], pts[2][1] - pts[1][1])) * 0.5;
      assert.ok(Math.abs(len - 750) <= 4 * k * 0.5, `${len} µm`);
      await page.getByTestId('ann-length').waitFor({ state: 'visible' });
      await page.waitForFunction((want) => document.querySelector('[data-testid=ann-length]')?.textContent === want, `${len.toFixed(1)} µm`, { timeout: 5000 });
      assert.equal(await page.getByTestId('ruler').count(), 0, 'the ruler goes with the draft');
      await page.keyboard.press('Control+z');
      await waitCount(page, n0);
      await saved(page);
    });

    await t.test('select (S): move the polygon, drag a vertex, Alt+click removes one; undo restores it', async () => {
      await page.keyboard.press('s');
      const ring0 = (((await stored()).annotations[0].geometry) as { coordinates: number[][][] }).coordinates[0];
      await dragThrough([[2000, 2800], [2100, 2850], [2200, 2900]]);
      await saved(page);
      const ring1 = (((await stored()).annotations[0].geometry) as { coordinates: number[][][] }).coordinates[0];
      const dx = ring1[0][0] - ring0[0][0], dy = ring1[0][1] - ring0[0][1];
      assert.ok(Math.abs(dx - 200) < 20 && Math.abs(dy - 100) < 20, `moved by ${dx}, ${dy}`);
      assert.ok(ring1.every((p, i) => Math.abs(p[0] - ring0[i][0] - dx) < 1e-9 && Math.abs(p[1] - ring0[i][1] - dy) < 1e-9), 'every vertex moved alike');
      await page.waitForSelector('[data-testid=annotation-handle]');
      assert.equal(await page.getByTestId('annotation-handle').count(), 4);
      await dragThrough([[ring1[1][0], ring1[1][1]], [ring1[1][0] + 300, ring1[1][1] - 150]]);
      await saved(page);
      const ring2 = (((await stored()).annotations[0].geometry) as { coordinates: number[][][] }).coordinates[0];
      assert.ok(Math.abs(ring2[1][0] - ring1[1][0] - 300) < 20 && Math.abs(ring2[1][1] - ring1[1][1] + 150) < 20, `vertex dragged: ${ring2[1]}`);
      assert.deepEqual(ring2[0], ring1[0], 'the other vertices stay');
      const v = await toScreen(page, ring2[2][0], ring2[2][1]);
      await page.keyboard.down('Alt');
      await page.mouse.click(v.x, v.y);
      await page.keyboard.up('Alt');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=annotation-handle]').length === 3);
      await saved(page);
      assert.equal((((await stored()).annotations[0].geometry) as { coordinates: number[][][] }).coordinates[0].length, 4, 'a triangle now');
      for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=annotation-handle]').length === 4);
      await saved(page);
      assert.deepEqual((((await stored()).annotations[0].geometry) as { coordinates: number[][][] }).coordinates[0], ring0, 'undone to where it was drawn');
    });

    let exported = '';
    await t.test('export GeoJSON, delete, re-import: the same annotation comes back', async () => {
      const before = (await stored()).annotations[0];
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ann-export-geojson').click()]);
      assert.match(dl.suggestedFilename(), /^shapes\.annotations\.geojson$/);
      const file = join(tmp, 'export.geojson');
      await dl.saveAs(file);
      exported = readFileSync(file, 'utf8');
      const fc = JSON.parse(exported) as { type: string; features: Array<{ geometry: unknown; properties: { objectType: string } }> };
      assert.equal(fc.type, 'FeatureCollection');
      assert.equal(fc.features.length, 1);
      assert.equal(fc.features[0].properties.objectType, 'annotation');
      assert.deepEqual(fc.features[0].geometry, before.geometry);
      await page.getByTestId('annotation-row').first().click();
      await page.keyboard.press('Delete');
      await waitCount(page, 0);
      await saved(page);
      assert.equal((await stored()).annotations.length, 0);
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('ann-import-geojson').click()]);
      await chooser.setFiles(file);
      await waitCount(page, 1);
      const back = (await stored()).annotations[0];
      assert.deepEqual([back.id, back.geometry, back.name], [before.id, before.geometry, before.name]);
      // a broken file: an error naming it, nothing changes
      const bad = join(tmp, 'bad.geojson');
      writeFileSync(bad, '{"type": "FeatureCollection", "features": [');
      const [c2] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('ann-import-geojson').click()]);
      await c2.setFiles(bad);
      await page.getByTestId('error').first().waitFor({ state: 'visible', timeout: 10_000 });
      assert.match((await page.getByTestId('error').allInnerTexts()).join(' | '), /import bad\.geojson/i);
      assert.equal((await stored()).annotations.length, 1);
    });

    await t.test('threshold the heatmap into regions: exactly the red rectangle, with map statistics', async () => {
      await page.keyboard.press('a');
      await page.getByTestId('model-select').waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('0');
      await page.getByTestId('analyse-button').click();
      await page.waitForSelector('[data-testid=analysis-progress][data-state=done]', { timeout: 180_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=viewer]')?.getAttribute('data-heatmap') === 'drawn');
      await page.keyboard.press('l');
      await page.getByTestId('annotation-panel').waitFor({ state: 'visible' });
      await page.getByTestId('ann-regions-button').click();
      await page.getByTestId('regions-dialog').waitFor({ state: 'visible' });
      // the probe's 'red' map is (200 − 30)/255/64 ≈ 0.0104 on red and 0 elsewhere: half of it splits them
      await page.getByTestId('regions-threshold').fill('0.005');
      await page.getByTestId('regions-min-area').fill('1000');
      await page.getByTestId('regions-apply').click();
      await page.getByTestId('regions-result').waitFor({ state: 'visible', timeout: 20_000 });
      assert.match(await page.getByTestId('regions-result').innerText(), /^1 region added/);
      await waitCount(page, 2);
      await save(page, 'annotations-regions-dialog-1280.png');
      await page.keyboard.press('Escape');
      const s = await stored();
      const region = s.annotations.find((x) => x.provenance.source === 'heatmap')!;
      assert.ok(region, 'a region from the heatmap');
      const ring = region.geometry.type === 'Polygon' ? region.geometry.coordinates[0] : [];
      const xs = ring.map((q) => q[0]), ys = ring.map((q) => q[1]);
      assert.deepEqual([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], [RED.x, RED.y, RED.x + RED.w, RED.y + RED.h]);
      await page.locator(`[data-testid=annotation-row][data-id="${region.id}"]`).click();
      await page.getByTestId('ann-heatmap-stats').waitFor({ state: 'visible', timeout: 10_000 });
      const stats = await page.getByTestId('ann-heatmap-stats').innerText();
      t.diagnostic(`region stats: ${stats.replace(/\s+/g, ' ')}`);
      assert.match(stats, /Mean\s+0\.010/);
      assert.match(stats, /≥ threshold\s+100\.0%/);
      assert.match(stats, /P\(red\)/);
      // the red rectangle less the corner cells whose patches had < 10% tissue (not analysed)
      const regionUm2 = shoelace(ring) * 0.25;
      assert.ok(regionUm2 <= RED.w * RED.h * 0.25 && regionUm2 > 0.99 * RED.w * RED.h * 0.25, `${regionUm2} µm²`);
      assert.equal(await page.getByTestId('ann-area').innerText(), `${(regionUm2 / 1e6).toFixed(3)} mm²`);
      // an image of the region at 2 µm/px with the map as shown and a scale bar: 2000 × 1200 px at 0.5 µm/px → 500 × 300
      await page.getByTestId('ann-crop-open').click();
      await page.getByTestId('ann-crop-res').fill('2');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ann-crop-save').click()]);
      const png = join(tmp, 'crop.png');
      await dl.saveAs(png);
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 500, 300]);
      const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const at = (x: number, y: number) => [0, 1, 2].map((c) => data[(y * info.width + x) * 3 + c]);
      const mid = at(250, 150);
      assert.ok(mid[1] > 100 && mid[2] < 120, `the map blended over the red (viridis' yellow-green at opacity 0.6): ${mid}`);
      await page.waitForTimeout(600);
      await save(page, 'annotations-heatmap-1280.png');
      if (SCREENSHOTS) {
        await page.setViewportSize({ width: 1920, height: 1080 });
        await page.keyboard.press('0');
        await page.waitForTimeout(1200);
        await save(page, 'annotations-heatmap-1920.png');
        await page.setViewportSize({ width: 1280, height: 720 });
      }
    });

    await t.test('reload the page: the annotations are still there', async () => {
      const n = (await stored()).annotations.length;
      await page.reload();
      await settle(page);
      await waitCount(page, n);
      assert.equal(await count(page), n);
    });

    assert.deepEqual(errors.filter((e) => !/favicon|Failed to load resource.*(404|400)/.test(e)), [], 'no page errors');
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

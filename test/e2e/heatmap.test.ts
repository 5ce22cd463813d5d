/**
 * End-to-end: the heatmap layer in Chromium against the real HTTP host. A generated slide with a red rectangle and a
 * blue ellipse, and the geometry-probe model (its Grad-CAM for 'red' is the red fraction of each cell), passed as an
 * added model folder. "Analyse this view" → the map appears while progress advances; pixel colours sampled at known
 * level-0 places (on the red shape, just outside its edge, on glass) at two zoom levels prove the alignment; opacity,
 * colormap and for/against/signed change what is drawn; legend, hover readout, resolution warning; cancel stops work.
 * Explain this patch: right-click / E on the red shape shows that patch's 8×8 map, image and predicted class.
 * GLASSBOX_SCREENSHOTS=1 also writes docs/screenshots/heatmap-*.png (1280×720 and 1920×1080) and explain-patch.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { presetRegions, writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { writeProbePackage } from '../analysis/probe.js';
import { ResultCache } from '../../main/engine/analysis/index.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt } from './support.js';
import {
  GLASS, SCREENSHOTS, VIRIDIS_BOTTOM, VIRIDIS_TOP, analyse, colourAt, dist, eventually, openSlide, progressDone, save, settle, shot, toScreen, zoomOf,
  zoomTo, type Rgb,
} from './heatmap-support.js';

const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: e2e heatmap tests skipped`;

// level-0 geometry of the fixture (0.5 µm/px; the probe reads at 1 µm/px, so one cell = 8 model px = 16 level-0 px)
const W = 12000, H = 8000;
const RED = { x: 1088, y: 816, w: 3008, h: 2000 }; // edges on 16-px cell boundaries, inside 128-px patches
const BLUE = { x: 5008, y: 2000, w: 6000, h: 5000 };

test('heatmap layer end-to-end in Chromium against the HTTP host', { skip: SKIP_NO_CHROMIUM, timeout: 400_000 }, async (t) => {
  ensureRendererBuilt();
  const tmp = mkdtempSync(join(tmpdir(), 'glassbox-e2e-heatmap-'));
  const models = join(tmp, 'models');
  writeProbePackage(join(models, 'probe'), { patch: 64, stride: 8, spacing: 1 });
  mkdirSync(join(models, 'broken'));
  writeFileSync(join(models, 'broken', 'config.json'), '{"spec_version": "1.0"');
  const shapes = join(tmp, 'shapes.tif');
  await writeSyntheticSlide(shapes, {
    width: W, height: H, mpp: 0.5, levels: [1, 4, 16],
    regions: [
      { ...RED, shape: 'rect', fill: [200, 30, 30] },
      { ...BLUE, shape: 'ellipse', fill: [30, 30, 200] },
    ],
  });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({
      port: 0, host: '127.0.0.1', staticDir: RENDERER_DIST, configDir: tmp, log: () => undefined,
      analysis: { modelRoots: [{ dir: join(REPO_ROOT, 'models'), source: 'shipped' }, { dir: models, source: 'user' }], cache: new ResultCache(join(tmp, 'cache')) },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    const actions: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/api\/analyses\/[^/]+$/.test(r.url())) actions.push(r.postData() ?? '');
    });
    await page.goto(server.url + '/');
    await openSlide(page, shapes);
    await settle(page);

    await t.test('models panel: the added probe folder with classes, µm/px, patch, layer, stride', async () => {
      await page.keyboard.press('a');
      await page.getByTestId('heatmap-panel').waitFor({ state: 'visible', timeout: 5000 });
      await page.getByTestId('model-select').waitFor({ state: 'visible', timeout: 10_000 });
      const options = await page.getByTestId('model-select').locator('option').allInnerTexts();
      const probe = options.find((o) => /^probe/.test(o));
      assert.ok(probe, `probe listed: ${options.join(' | ')}`);
      assert.match(probe!, /added folder/);
      await page.getByTestId('model-select').selectOption({ label: probe! });
      await page.getByTestId('invalid-models').locator('summary').click();
      assert.match(await page.getByTestId('invalid-models').innerText(), /broken.*config\.json.*not valid JSON/s);
      await page.getByTestId('all-models').locator('summary').click();
      assert.match(await page.getByTestId('all-models').innerText(), /probe added folder\s+red, blue\s+1 µm\/px · patch 64 px · layer features · stride 8/);
      // the browser host cannot show a folder dialog: it names the command line instead
      assert.match(await page.getByTestId('models-hint').innerText(), /glassbox serve --models DIR/);
      assert.equal(await page.getByTestId('add-model-folder').count(), 0);
      const info = await page.getByTestId('model-info').innerText();
      assert.match(info, /red, blue/);
      assert.match(info, /1 µm\/px/);
      assert.match(info, /64 px/);
      assert.match(info, /features/);
      assert.match(info, /Stride\s+8/);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=layer-select] option').length > 0);
      const layers = await page.getByTestId('layer-select').locator('option').allInnerTexts();
      assert.ok(layers.some((l) => /features — stride 8, cell 8 µm/.test(l)), layers.join(' | '));
      t.diagnostic(`layers: ${layers.join(' | ')}`);
    });

    const edge = { x: RED.x, y: RED.y + 600 };
    await t.test('analyse this view (zoomed in on the red edge): the view first, progress advances', async () => {
      await zoomTo(page, edge.x, edge.y, 1.5);
      const ms = await analyse(page);
      const state = await page.getByTestId('analysis-progress').getAttribute('data-state');
      const p1 = await progressDone(page);
      t.diagnostic(`first heatmap drawn ${ms} ms after the click (${await page.getByTestId('first-draw').innerText()}); state ${state}, ${p1} patches`);
      assert.equal(state, 'running', 'the map is shown while the analysis still runs');
      await page.waitForTimeout(800);
      const p2 = await progressDone(page);
      assert.ok(p2 > p1, `progress advances: ${p1} → ${p2}`);
      assert.match(await page.getByTestId('analysis-progress').innerText(), /patches\/s/);
      assert.match(await page.getByTestId('analysis-progress').innerText(), /ETA/);
    });

    await t.test('alignment at high zoom: half a cell inside the red edge is hot, half a cell outside is 0', async () => {
      await page.getByTestId('opacity').fill('1');
      await page.getByTestId('threshold').fill('0'); // show zero evidence too (viridis' bottom)
      await page.getByTestId('smooth-off').click();
      await eventually(async () => {
        const png = await shot(page);
        const inside = await colourAt(png, page, edge.x + 8, edge.y);
        const outside = await colourAt(png, page, edge.x - 8, edge.y);
        assert.ok(dist(inside, VIRIDIS_TOP) < 40, `inside the red edge is the top of viridis: ${inside}`);
        assert.ok(dist(outside, VIRIDIS_BOTTOM) < 40, `half a cell outside is viridis(0): ${outside}`);
      });
      // closer: 1.5 level-0 px either side of the edge, the overlay and — with the overlay hidden — the slide itself
      await zoomTo(page, edge.x, edge.y, 2.5);
      const z = await zoomOf(page);
      t.diagnostic(`zoom ${z.toFixed(2)}: a 16 px cell is ${(16 * z).toFixed(0)} screen px; 1.5 px = ${(1.5 * z).toFixed(1)} screen px`);
      assert.ok(1.5 * z >= 3, 'the samples (3×3 px) do not straddle the edge');
      const png = await shot(page);
      const inHeat = await colourAt(png, page, edge.x + 1.5, edge.y);
      const outHeat = await colourAt(png, page, edge.x - 1.5, edge.y);
      assert.ok(dist(inHeat, VIRIDIS_TOP) < 40 && dist(outHeat, VIRIDIS_BOTTOM) < 40, `overlay edge at x = ${edge.x} ± 1.5 px: ${inHeat} | ${outHeat}`);
      assert.equal(await page.locator('canvas.gbx-heatmap').evaluate((c) => getComputedStyle(c).display), 'block');
      await page.getByTestId('heatmap-visible').uncheck();
      await page.waitForTimeout(200);
      // hidden: the layer leaves the page's compositing
      assert.equal(await page.locator('canvas.gbx-heatmap').evaluate((c) => getComputedStyle(c).display), 'none');
      const slidePng = await shot(page);
      const inSlide = await colourAt(slidePng, page, edge.x + 1.5, edge.y);
      const outSlide = await colourAt(slidePng, page, edge.x - 1.5, edge.y);
      assert.ok(dist(inSlide, [200, 30, 30]) < 40 && dist(outSlide, GLASS) < 30, `slide edge at the same place: ${inSlide} | ${outSlide}`);
      await page.getByTestId('heatmap-visible').check();
    });

    await t.test('panning re-prioritises; the whole slide completes; alignment at low zoom', async () => {
      const before = actions.length;
      await zoomTo(page, 0, 0, 0); // fit
      await page.waitForTimeout(600);
      const prio = actions.slice(before).map((a) => JSON.parse(a) as { action: string; roi?: { x: number; y: number; w: number; h: number } }).filter((a) => a.action === 'prioritize');
      const done = (await page.getByTestId('analysis-progress').getAttribute('data-state')) === 'done';
      assert.ok(prio.length > 0 || done, 'a new view is prioritised while the analysis runs');
      if (prio.length) {
        const roi = prio[prio.length - 1].roi!;
        assert.ok(roi.x === 0 && roi.y === 0 && roi.w === W && roi.h === H, `the fitted view is the whole slide: ${JSON.stringify(roi)}`);
      }
      await page.waitForSelector('[data-testid=analysis-progress][data-state=done]', { timeout: 120_000 });
      const png = await shot(page);
      if (process.env.GLASSBOX_DEBUG_SHOTS) writeFileSync('/tmp/hm-low.png', await page.screenshot());
      const inside = await colourAt(png, page, RED.x + 40, RED.y + 1000);
      const outside = await colourAt(png, page, RED.x - 40, RED.y + 1000);
      const glass = await colourAt(png, page, 2500, 6000);
      const blue = await colourAt(png, page, BLUE.x + BLUE.w / 2, BLUE.y + BLUE.h / 2);
      assert.ok(dist(inside, VIRIDIS_TOP) < 40, `inside: ${inside}`);
      assert.ok(dist(outside, VIRIDIS_BOTTOM) < 40, `just outside: ${outside}`);
      assert.ok(dist(glass, GLASS) < 12, `glass far from tissue is not painted (NaN): ${glass}`);
      assert.ok(dist(blue, VIRIDIS_BOTTOM) < 40, `the blue ellipse is 0 for 'red': ${blue}`);
    });

    await t.test('panning with the heatmap on: frame times (coloured on the GPU, nothing recoloured per frame)', async () => {
      const frames = async () => {
        // a plain string: tsx's __name helper does not exist in the page
        await page.evaluate(`(() => {
          window.__ft = [];
          let last = performance.now();
          const loop = (t) => { window.__ft.push(t - last); last = t; if (window.__ft.length < 400) requestAnimationFrame(loop); };
          requestAnimationFrame(loop);
        })()`);
        await page.locator('body').click({ position: { x: 2, y: 60 } }).catch(() => undefined);
        for (const k of ['+', 'ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp', '-']) {
          await page.keyboard.press(k);
          await page.waitForTimeout(350);
        }
        const ft = ((await page.evaluate('window.__ft')) as number[]).slice(2).sort((a, b) => a - b);
        return { median: ft[Math.floor(ft.length / 2)], p95: ft[Math.floor(ft.length * 0.95)], n: ft.length };
      };
      await page.getByTestId('opacity').fill('0.6');
      await page.getByTestId('smooth-on').click();
      await frames(); // warm the tile cache first
      const on = await frames();
      await page.getByTestId('heatmap-visible').uncheck();
      const off = await frames();
      await page.getByTestId('heatmap-visible').check();
      t.diagnostic(`frame time while panning/zooming, heatmap on: median ${on.median.toFixed(1)} ms, p95 ${on.p95.toFixed(1)} ms (${on.n} frames); off: median ${off.median.toFixed(1)} ms, p95 ${off.p95.toFixed(1)} ms`);
      // software GL (SwiftShader, ~100+ ms frames without the overlay on 2 shared cores) is noisy: only a gross
      // regression fails this (recolouring the map on the CPU per frame would cost seconds)
      assert.ok(on.median < 3 * off.median + 50, `the overlay does not slow panning grossly: ${JSON.stringify({ on, off })}`);
      await zoomTo(page, 0, 0, 0);
    });

    await t.test('reopening the slide shows its cached map at once', async () => {
      await page.locator('button[title^="Close slide"]').click();
      await page.getByTestId('welcome').waitFor({ state: 'visible', timeout: 5000 });
      await openSlide(page, shapes);
      if ((await page.getByTestId('heatmap-panel').count()) === 0) await page.getByTestId('heatmap-button').click();
      const ms = await analyse(page);
      assert.match(await page.getByTestId('analysis-state').innerText(), /done — from the result cache/);
      t.diagnostic(`cached map drawn ${ms} ms after the click`);
      assert.ok(ms < 3000, `cached map in ${ms} ms`);
      await page.getByTestId('opacity').fill('1');
      await page.getByTestId('threshold').fill('0');
      await page.getByTestId('smooth-off').click();
      await settle(page);
      const inside = await colourAt(await shot(page), page, RED.x + 40, RED.y + 1000);
      assert.ok(dist(inside, VIRIDIS_TOP) < 40, `the cached map is drawn: ${inside}`);
    });

    await t.test('opacity and colormap change what is drawn; H hides it', async () => {
      const at = async () => colourAt(await shot(page), page, RED.x + 400, RED.y + 1000);
      const full = await at();
      await page.getByTestId('opacity').fill('0.3');
      await page.waitForTimeout(150);
      const faint = await at();
      assert.ok(dist(full, faint) > 60, `opacity 1 → 0.3: ${full} → ${faint}`);
      assert.ok(faint[0] > faint[2] && faint[0] > 150, `at 0.3 the red slide shows through: ${faint}`);
      await page.getByTestId('opacity').fill('1');
      await page.getByTestId('colormap-select').selectOption('inferno');
      await page.waitForTimeout(150);
      const inferno = await at();
      assert.ok(dist(inferno, [252, 255, 164]) < 40, `inferno's top: ${inferno}`);
      await page.getByTestId('colormap-select').selectOption('viridis');
      await page.getByTestId('opacity').focus(); // letters still work while a slider has the focus
      await page.keyboard.press('h');
      await page.waitForTimeout(150);
      const hidden = await at();
      assert.ok(dist(hidden, [200, 30, 30]) < 40, `hidden: the slide's red again: ${hidden}`);
      await page.keyboard.press('h');
    });

    await t.test('legend with cell µm, hover readout, resolution report and the 12 µm warning', async () => {
      assert.match(await page.getByTestId('legend-cell').innerText(), /cell 8 µm · resolves ≥ 16 µm/);
      const box = (await page.getByTestId('viewer').boundingBox())!;
      const p = await toScreen(page, RED.x + 400, RED.y + 1000);
      await page.mouse.move(box.x + p.x, box.y + p.y);
      await page.getByTestId('hover-readout').waitFor({ state: 'visible', timeout: 3000 });
      const hover = await page.getByTestId('hover-readout').innerText();
      assert.match(hover, /value 0\.0\d+/);
      assert.match(hover, /red \d+(\.\d)?%/);
      assert.match(hover, /µm.*px/s);
      const rep = await page.getByTestId('resolution-report').innerText();
      assert.match(rep, /0\.500 × 0\.500 µm\/px/);
      assert.match(rep, /1 µm\/px \(resampled ×2\.00\)/);
      assert.match(rep, /8 µm × 8 µm/);
      assert.match(rep, /≥ 16 µm/);
      await page.getByTestId('structure-um').fill('12');
      const warn = await page.getByTestId('resolution-warning').innerText();
      assert.match(warn, /12 µm structure spans only 1\.5 cells of 8 µm/);
      assert.match(warn, /stride [1-4]/, `names a finer layer: ${warn}`);
      await page.getByTestId('structure-um').fill('20');
      await page.getByTestId('resolution-ok').waitFor({ state: 'visible', timeout: 2000 });
      await page.getByTestId('structure-um').fill('12');
      await page.getByTestId('resolution-report').scrollIntoViewIfNeeded();
      await save(page, 'heatmap-resolution-panel.png');
    });

    await t.test('signed analysis: for, against and signed differ', async () => {
      await page.getByTestId('signed-check').check();
      await zoomTo(page, edge.x, edge.y, 1.5);
      await analyse(page);
      assert.equal(await page.getByTestId('mode-signed').getAttribute('aria-checked'), 'true', 'a signed analysis opens on the signed view');
      const colours: Record<string, Rgb> = {};
      for (const mode of ['for', 'against', 'signed'] as const) {
        await page.getByTestId(`mode-${mode}`).click();
        await eventually(async () => {
          colours[mode] = await colourAt(await shot(page), page, edge.x + 8, edge.y);
          if (mode === 'for') assert.ok(dist(colours[mode], VIRIDIS_TOP) < 40, `for: ${colours[mode]}`);
        });
        assert.match(await page.getByTestId('mode-note').innerText(), mode === 'for' ? /FOR/ : mode === 'against' ? /AGAINST/ : /signed/);
      }
      assert.ok(dist(colours.against, VIRIDIS_BOTTOM) < 40, `against on the red shape is 0: ${colours.against}`);
      assert.ok(dist(colours.signed, [103, 0, 31]) < 60, `signed: the red end of the diverging map: ${colours.signed}`);
      assert.ok(dist(colours.for, colours.against) > 100 && dist(colours.for, colours.signed) > 100 && dist(colours.against, colours.signed) > 60);
      if (process.env.GLASSBOX_DEBUG_SHOTS) writeFileSync('/tmp/hm-signed.png', await page.screenshot());
    });

    await t.test('pause holds it, resume continues, cancel stops the work', async () => {
      await page.getByTestId('overlap-select').selectOption('0.5'); // not cached: a new analysis
      await analyse(page);
      await page.getByTestId('pause-button').click();
      await page.waitForSelector('[data-testid=analysis-progress][data-state=paused]', { timeout: 5000 });
      const held = await progressDone(page);
      await page.waitForTimeout(800);
      assert.ok((await progressDone(page)) - held <= 16, 'paused: at most the batch in flight finishes');
      await page.getByTestId('resume-button').click();
      await page.waitForSelector('[data-testid=analysis-progress][data-state=running]', { timeout: 5000 });
      await page.getByTestId('cancel-button').click();
      await page.waitForSelector('[data-testid=analysis-progress][data-state=cancelled]', { timeout: 10_000 });
      const n1 = await progressDone(page);
      await page.waitForTimeout(1000);
      assert.equal(await progressDone(page), n1, 'no more patches after cancel');
      assert.equal(await page.getByTestId('cancel-button').count(), 0);
    });

    await t.test('explain this patch: right-click on the red shape → its 8×8 map, patch image, predicted red; E re-explains at the cursor; Esc closes', async () => {
      await page.getByTestId('signed-check').uncheck();
      await page.getByTestId('method-select').selectOption('gradcam');
      await zoomTo(page, edge.x, edge.y, 1.5);
      const box = (await page.getByTestId('viewer').boundingBox())!;
      // 32 level-0 px inside the red edge: the 128-px patch centred there has 2 glass columns, then 6 red ones
      const p = await toScreen(page, RED.x + 32, edge.y);
      await page.mouse.click(box.x + p.x, box.y + p.y, { button: 'right' });
      const panel = page.getByTestId('explain-panel');
      await page.waitForSelector('[data-testid=explain-panel][data-state=done]', { timeout: 20_000 });
      assert.match(await page.getByTestId('explain-predicted').innerText(), /^red\b/);
      assert.match(await page.getByTestId('explain-what').innerText(), /probe · Grad-CAM · evidence for red/);
      assert.match(await page.getByTestId('explain-probabilities').innerText(), /red\s+\d+\.\d%\s+blue\s+\d+\.\d%/);
      assert.match(await page.getByTestId('explain-cell').innerText(), /8 µm \(16 px\)/);
      assert.equal(await page.getByTestId('explain-map').getAttribute('data-cells'), '8x8');
      await page.waitForFunction(() => {
        const img = document.querySelector('[data-testid=explain-image]') as HTMLImageElement | null;
        return !!img && img.complete && img.naturalWidth > 0;
      }, null, { timeout: 10_000 });
      // the map at full cell resolution: one canvas pixel per cell, viridis bottom on glass, top on red
      const cells = await page.getByTestId('explain-map').evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        return [...Array(c.width).keys()].map((col) => [d[(4 * c.width + col) * 4], d[(4 * c.width + col) * 4 + 1], d[(4 * c.width + col) * 4 + 2]] as Rgb);
      });
      assert.equal(cells.length, 8);
      for (const [col, rgb] of cells.entries()) {
        if (col < 2) assert.ok(dist(rgb, VIRIDIS_BOTTOM) < 30, `column ${col} (glass): ${rgb}`);
        else assert.ok(dist(rgb, VIRIDIS_TOP) < 40, `column ${col} (red): ${rgb}`);
      }
      assert.equal(await page.getByTestId('explain-outline').count(), 1, 'the patch is outlined on the slide');
      await settle(page); // a patch under the panel is panned into view
      const o = (await page.getByTestId('explain-outline').boundingBox())!;
      const pb = (await panel.boundingBox())!;
      assert.ok(o.x >= pb.x + pb.width, `the outlined patch (${o.x}) is clear of the panel (right edge ${pb.x + pb.width})`);
      if (process.env.GLASSBOX_DEBUG_SHOTS) {
        writeFileSync('/tmp/hm-explain.png', await page.screenshot());
        await page.setViewportSize({ width: 1920, height: 1080 });
        await settle(page);
        writeFileSync('/tmp/hm-explain-1080.png', await page.screenshot());
        await page.setViewportSize({ width: 1280, height: 720 });
        await settle(page);
      }
      // E explains the patch under the cursor (now deeper inside the red shape: a map hot everywhere)
      const view = (await page.getByTestId('viewer').getAttribute('data-view'))!.split(',').map(Number);
      const xE = Math.min(RED.x + 200, Math.floor(view[0] + view[2] * 0.9)); // on screen
      assert.ok(xE >= RED.x + 64, `a whole patch inside the red shape is on screen (${xE})`);
      const q = await toScreen(page, xE, edge.y);
      await page.mouse.move(box.x + q.x, box.y + q.y);
      await page.keyboard.press('e');
      await page.waitForFunction(() => {
        const c = document.querySelector('[data-testid=explain-map]') as HTMLCanvasElement | null;
        if (!c || document.querySelector('[data-testid=explain-panel]')?.getAttribute('data-state') !== 'done') return false;
        const d = c.getContext('2d')!.getImageData(0, 0, 1, 1).data;
        return d[0] > 200 && d[1] > 200; // column 0 is now red (viridis top)
      }, null, { timeout: 20_000 });
      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'detached', timeout: 5000 });
      assert.equal(await page.getByTestId('explain-outline').count(), 0);
      // off the slide a right-click explains nothing (and shows no browser menu)
      await page.keyboard.press('0');
      await settle(page);
      await page.mouse.click(box.x + 4, box.y + box.height / 2, { button: 'right' });
      await page.waitForTimeout(300);
      assert.equal(await panel.count(), 0);
    });

    await t.test('with the Electron bridge: "Add model folder…" asks main, shows why a folder is refused, adds and selects a package', async () => {
      const p2 = await browser!.newPage({ viewport: { width: 1280, height: 720 } });
      try {
        // a stand-in for the preload's window.glassbox: the first pick is cancelled, the second refused, then window.added
        // (a string: tsx's helpers would not exist in the page)
        await p2.addInitScript({
          content: `(() => {
            const results = [null, { ok: false, error: "model folder '/x/empty' has no config.json" }];
            window.addCalls = 0;
            window.glassbox = {
              showOpenDialog: async () => null,
              pathForFile: () => '',
              onMenu: () => () => undefined,
              addModelFolder: async () => { window.addCalls++; return results.length ? results.shift() : window.added; },
            };
          })();`,
        });
        await p2.goto(server!.url + '/');
        // (with a bridge Open… shows the native dialog) the host's open slide is shown at start
        await p2.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 30_000 });
        await p2.keyboard.press('a');
        await p2.getByTestId('model-select').waitFor({ state: 'visible', timeout: 10_000 });
        assert.equal(await p2.getByTestId('models-hint').count(), 0);
        const button = p2.getByTestId('add-model-folder');
        assert.equal(await button.innerText(), 'Add model folder…');
        await button.click(); // cancelled
        await p2.waitForFunction(() => (window as unknown as { addCalls?: number }).addCalls === 1);
        assert.equal(await p2.getByTestId('add-model-error').count(), 0);
        await button.click();
        assert.match(await p2.getByTestId('add-model-error').innerText(), /has no config\.json/);
        const probe = (await p2.evaluate(() => fetch('/api/models').then((r) => r.json()))).models.find((m: { name: string }) => m.name === 'probe');
        await p2.evaluate((m) => ((window as unknown as { added: unknown }).added = { ok: true, model: m }), probe);
        await button.click();
        await p2.waitForFunction((id) => (document.querySelector('[data-testid=model-select]') as HTMLSelectElement).value === id, probe.id);
        assert.equal(await p2.getByTestId('add-model-error').count(), 0);
      } finally {
        await p2.close();
      }
    });

    await t.test('no console errors', () => {
      assert.deepEqual(consoleErrors, []);
    });

    await t.test('the shipped model on an H&E-like slide: time to first heatmap; screenshots', async () => {
      const he = join(tmp, 'he.tif');
      await writeSyntheticSlide(he, { width: 8000, height: 6000, mpp: 0.5, levels: [1, 4, 16, 64], regions: presetRegions('he-demo', 8000, 6000) });
      await openSlide(page, he);
      if ((await page.getByTestId('heatmap-panel').count()) === 0) await page.getByTestId('heatmap-button').click();
      const options = await page.getByTestId('model-select').locator('option').allInnerTexts();
      const tiny = options.find((o) => /^tiny-crc-demo/.test(o));
      if (!tiny) return t.diagnostic('tiny-crc-demo not available: skipped');
      await page.getByTestId('model-select').selectOption({ label: tiny });
      await page.getByTestId('class-picker').getByLabel('STROMA', { exact: true }).check();
      await page.getByTestId('overlap-select').selectOption('0.5'); // seamless: overlapping patches are averaged
      await page.getByTestId('signed-check').check();
      await zoomTo(page, 8000 * 0.25, 6000 * 0.27, 0.35);
      const ms = await analyse(page);
      t.diagnostic(`tiny-crc-demo: first heatmap ${ms} ms after the click (${await page.getByTestId('first-draw').innerText()})`);
      // the target is < 2 s (met on an idle machine: ~0.9–1.5 s); the bound here only catches regressions on shared CPUs
      assert.ok(ms < 6000, `first heatmap of the shipped model after ${ms} ms`);
      await page.waitForTimeout(3000);
      await page.getByTestId('opacity').fill('0.7');
      await page.getByTestId('threshold').fill('0.05');
      await page.getByTestId('smooth-on').click();
      await page.getByTestId('display-class').selectOption('1'); // STROMA
      await page.getByTestId('mode-for').click();
      await page.waitForTimeout(500);
      await page.mouse.move(5, 5);
      await save(page, 'heatmap-high-zoom.png');
      await zoomTo(page, 0, 0, 0);
      await page.waitForSelector('[data-testid=analysis-progress][data-state=done]', { timeout: 120_000 });
      await page.mouse.move(5, 5);
      await page.waitForTimeout(300);
      await save(page, 'heatmap-low-zoom.png');
      await page.getByTestId('mode-signed').click();
      await page.waitForTimeout(300);
      await save(page, 'heatmap-signed-diverging.png');
      await page.setViewportSize({ width: 1920, height: 1080 });
      await page.waitForTimeout(500);
      await zoomTo(page, 0, 0, 0); // fit the bigger window
      await save(page, 'heatmap-signed-1920.png');
      await page.getByTestId('mode-for').click();
      await page.waitForTimeout(300);
      await save(page, 'heatmap-low-zoom-1920.png');
      if (SCREENSHOTS || process.env.GLASSBOX_DEBUG_SHOTS) {
        // explain this patch (right-click) on the shipped model: the signed STROMA map of one patch at full cell resolution
        await zoomTo(page, 8000 * 0.25, 6000 * 0.27, 0.35);
        const vb = (await page.getByTestId('viewer').boundingBox())!;
        await page.mouse.click(vb.x + vb.width * 0.62, vb.y + vb.height * 0.5, { button: 'right' });
        await page.waitForSelector('[data-testid=explain-panel][data-state=done]', { timeout: 30_000 });
        await page.waitForFunction(() => (document.querySelector('[data-testid=explain-image]') as HTMLImageElement | null)?.complete === true);
        await page.mouse.move(5, 5);
        await settle(page);
        await save(page, 'explain-patch.png');
        if (process.env.GLASSBOX_DEBUG_SHOTS) writeFileSync('/tmp/hm-explain-he.png', await page.screenshot());
        await page.keyboard.press('Escape');
      }
      await page.setViewportSize({ width: 1280, height: 720 });
    });
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

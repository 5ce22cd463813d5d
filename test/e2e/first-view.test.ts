/**
 * The first view and navigation in Chromium against the HTTP host (functional checks only; timings are in
 * bench/first-view.bench.ts): the fitted view never loads full-resolution tiles, a window resize refits the fitted view
 * (and keeps any other), the navigator does not cover the tissue at 1280×720, and over-zoomed tile edges show no seams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { HAVE_SHARED_SLIDES, SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt } from './support.js';

const SKIP = !existsSync(CHROMIUM) ? `${CHROMIUM} not found: e2e tests skipped` : SKIP_NO_SLIDES;
const CMU = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');
const OME = join(SHARED_SLIDES, '2048x2048_ome6_tiled.ome.tif');
/** GLASSBOX_SCREENSHOTS=DIR writes the over-zoomed shots there to look at */
const SHOTS = process.env.GLASSBOX_SCREENSHOTS_DIR;

interface Box { x: number; y: number; w: number; h: number }

/** waits for every visible tile drawn with no animation running */
async function settled(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForSelector('[data-testid=viewer][data-state=ready][data-moving="0"]', { timeout });
  await page.waitForTimeout(150);
  await page.waitForSelector('[data-testid=viewer][data-state=ready][data-moving="0"]', { timeout });
}

/** the slide's on-screen box (page px) from the viewer's data-view (level-0 rect of the viewer element) */
async function slideBox(page: Page, width: number, height: number): Promise<Box> {
  const v = page.getByTestId('viewer');
  const el = (await v.boundingBox())!;
  const [x, y, w, h] = (await v.getAttribute('data-view'))!.split(',').map(Number);
  const sx = el.width / w;
  const sy = el.height / h;
  return { x: el.x - x * sx, y: el.y - y * sy, w: width * sx, h: height * sy };
}

function intersects(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

async function zoom(page: Page): Promise<number> {
  return Number(await page.getByTestId('viewer').getAttribute('data-zoom'));
}

async function withSlide(slide: string, viewport: { width: number; height: number }, fn: (page: Page, server: RunningServer, tiles: string[]) => Promise<void>) {
  const tmp = mkdtempSync(join(tmpdir(), 'gb-firstview-'));
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ port: 0, staticDir: RENDERER_DIST, configDir: tmp, slides: [slide], log: () => undefined });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport });
    const tiles: string[] = [];
    page.on('request', (r) => {
      if (/\.jpe?g$/.test(r.url()) && !r.url().includes('/associated/')) tiles.push(r.url());
    });
    // the page time the viewer first reported every visible tile drawn
    await page.addInitScript(() => {
      performance.setResourceTimingBufferSize(100_000); // the default 250 entries could drop the late ones
      const w = window as unknown as { __readyAt?: number };
      new MutationObserver(() => {
        if (w.__readyAt === undefined && document.querySelector('[data-testid=viewer][data-state=ready]')) w.__readyAt = performance.now();
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
    });
    await page.goto(server.url + '/');
    await settled(page);
    await fn(page, server, tiles);
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('fitted view, resize and navigator at 1280×720 (CMU-1-Small-Region.svs, one level)', { skip: SKIP, timeout: 240_000 }, async (t) => {
  ensureRendererBuilt();
  await withSlide(CMU, { width: 1280, height: 720 }, async (page, server, tiles) => {
    const info = await server.service.get(server.opened[0]);
    const g = server.service.tiler(info.id).geometry;

    await t.test('the fitted view loads Deep Zoom tiles below full resolution only', () => {
      const levels = tiles.map((u) => Number(/_files\/(\d+)\//.exec(u)?.[1] ?? NaN));
      assert.ok(levels.length > 0 && levels.every((l) => Number.isInteger(l)), `Deep Zoom tiles were loaded: ${tiles.slice(0, 3).join(' ')}`);
      assert.ok(Math.max(...levels) < g.maxLevel, `no full-resolution (level ${g.maxLevel}) tile for the fitted view; levels: ${[...new Set(levels)].join(',')}`);
    });

    await t.test('the associated images (label, macro, thumbnail) are asked for only after the first view is drawn', async () => {
      // an <img> shows (it has a size) before its response ends, and a resource entry is recorded only at the end:
      // wait for the entry itself
      await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/associated/')), undefined, { timeout: 10_000 });
      const r = await page.evaluate(() => {
        const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
        return {
          readyAt: (window as unknown as { __readyAt?: number }).__readyAt ?? null,
          // the viewer opens the slide after the open slides' list arrives; its 3-s fallback counts from then
          listedAt: res.find((e) => /\/api\/slides$/.test(e.name))?.responseEnd ?? null,
          starts: res.filter((e) => e.name.includes('/associated/')).map((e) => e.startTime),
        };
      });
      assert.ok(r.readyAt !== null && r.listedAt !== null && r.starts.length >= 1, JSON.stringify(r)); // (the ones scrolled out of the panel load lazily)
      // after the first view, or (a slow machine) after the viewer's 3-s fallback — never with the first tiles
      const earliest = Math.min(r.readyAt!, r.listedAt! + 3000);
      assert.ok(r.starts.every((t) => t >= earliest), `associated images requested before the first view: ${JSON.stringify(r)}`);
    });

    await t.test('at 1280×720 the navigator does not cover the tissue: hidden at the fit, shown when zoomed in, N still toggles', async () => {
      const nav = page.locator('.navigator');
      const slide = await slideBox(page, info.width, info.height);
      if (await nav.isVisible()) {
        const nb = (await nav.boundingBox())!;
        assert.ok(!intersects({ x: nb.x, y: nb.y, w: nb.width, h: nb.height }, slide), 'navigator overlaps the fitted slide');
      }
      await page.locator('body').click({ position: { x: 3, y: 715 } }).catch(() => undefined);
      await page.keyboard.press('+');
      await settled(page);
      assert.equal(await nav.isVisible(), true, 'zoomed in: the navigator shows where the view is');
      const nb = (await nav.boundingBox())!;
      const vb = (await page.getByTestId('viewer').boundingBox())!;
      assert.ok(nb.width <= vb.width * 0.2 && nb.height <= vb.height * 0.35, `navigator is small: ${nb.width}×${nb.height} in ${vb.width}×${vb.height}`);
      await page.keyboard.press('n');
      assert.equal(await nav.isVisible(), false, 'N hides it');
      await page.keyboard.press('n');
      assert.equal(await nav.isVisible(), true, 'N shows it again');
      await page.keyboard.press('0');
      await settled(page);
      assert.equal(await nav.isVisible(), false, 'back at the fit: hidden again');
    });

    await t.test('a window resize refits the fitted view, and keeps a view the user chose', async () => {
      const fits = async () => {
        const s = await slideBox(page, info.width, info.height);
        const v = (await page.getByTestId('viewer').boundingBox())!;
        // fitted: inside the viewer, touching it (within the 12-px margins) on one axis, centred on both
        const inside = s.x >= v.x - 1 && s.y >= v.y - 1 && s.x + s.w <= v.x + v.width + 1 && s.y + s.h <= v.y + v.height + 1;
        const touching = Math.abs(s.w - (v.width - 24)) < 3 || Math.abs(s.h - (v.height - 24)) < 3;
        const centred = Math.abs(s.x + s.w / 2 - (v.x + v.width / 2)) < 3 && Math.abs(s.y + s.h / 2 - (v.y + v.height / 2)) < 3;
        return { ok: inside && touching && centred, s, v };
      };
      assert.ok((await fits()).ok, 'fitted to start with');
      for (const size of [{ width: 900, height: 620 }, { width: 1600, height: 900 }, { width: 1280, height: 720 }]) {
        await page.setViewportSize(size);
        await page.waitForTimeout(300);
        await settled(page);
        const f = await fits();
        assert.ok(f.ok, `refitted at ${size.width}×${size.height}: slide ${JSON.stringify(f.s)} in viewer ${JSON.stringify(f.v)}`);
      }
      // zoomed in: a resize keeps the zoom (the user's view is not thrown away)
      await page.keyboard.press('+');
      await settled(page);
      const z = await zoom(page);
      await page.setViewportSize({ width: 1000, height: 640 });
      await page.waitForTimeout(300);
      await settled(page);
      // (OpenSeadragon keeps the image size; its pan constraints may nudge the zoom by a percent or so)
      assert.ok(Math.abs((await zoom(page)) / z - 1) < 0.05, `zoom kept across a resize: ${z} → ${await zoom(page)}`);
      assert.equal((await fits()).ok, false, 'not refitted');
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.keyboard.press('0');
      await settled(page);
    });

    await t.test('over-zoomed (300 %), the 240-px tile grid leaves no seams', async () => {
      await seamCheck(page, g.tileSize, 'cmu');
    });
  });
});

test('over-zoomed OME-TIFF (smooth 16-bit gradients): no seams at tile edges', { skip: SKIP, timeout: 180_000 }, async () => {
  ensureRendererBuilt();
  await withSlide(OME, { width: 1280, height: 720 }, async (page, server) => {
    const g = server.service.tiler(server.opened[0]).geometry;
    await seamCheck(page, g.tileSize, 'ome');
  });
});

/**
 * Zooms to the maximum (300 %) around the centre and compares, for every tile edge on screen, the screen column / row
 * at the edge with its neighbours: D(x) = mean over the other axis of |P(x) − (P(x−1) + P(x+1)) / 2|. A seam (a line
 * lighter or darker than both sides) makes D at the edge stand out from the columns around it.
 */
async function seamCheck(page: Page, tileSize: number, name: string): Promise<void> {
  await page.mouse.move(640, 360);
  for (let i = 0; i < 12; i++) {
    const before = await zoom(page);
    await page.keyboard.press('+');
    await settled(page);
    if ((await zoom(page)) <= before * 1.001) break;
  }
  assert.ok((await zoom(page)) > 2.5, `over-zoomed: ${await zoom(page)}`);
  await settled(page);
  const v = page.getByTestId('viewer');
  const el = (await v.boundingBox())!;
  const png = await v.screenshot();
  if (SHOTS) writeFileSync(join(SHOTS, `seams-${name}.png`), png);
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [vx, vy, vw, vh] = (await v.getAttribute('data-view'))!.split(',').map(Number);
  const W = info.width;
  const H = info.height;
  const px = (x: number, y: number, c: number) => data[(y * W + x) * 3 + c];
  const D = (pos: number, vertical: boolean) => {
    let s = 0;
    const n = vertical ? H : W;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const [a, b, d] = vertical ? [px(pos - 1, i, c), px(pos, i, c), px(pos + 1, i, c)] : [px(i, pos - 1, c), px(i, pos, c), px(i, pos + 1, c)];
        s += Math.abs(b - (a + d) / 2);
      }
    }
    return s / (n * 3);
  };
  let checked = 0;
  for (const vertical of [true, false]) {
    const [v0, vlen, size] = vertical ? [vx, vw, W] : [vy, vh, H];
    const scale = size / vlen; // screen px per level-0 px (CSS px == screenshot px here)
    for (let k = Math.ceil(v0 / tileSize); k * tileSize < v0 + vlen; k++) {
      const edge = Math.round((k * tileSize - v0) * scale);
      if (edge < 12 || edge > size - 13) continue;
      const at = Math.max(D(edge - 1, vertical), D(edge, vertical), D(edge + 1, vertical));
      const around: number[] = [];
      for (let d = 3; d <= 10; d++) around.push(D(edge - d, vertical), D(edge + d, vertical));
      const ref = Math.max(...around);
      assert.ok(at <= ref * 1.5 + 1, `${name}: ${vertical ? 'column' : 'row'} at the tile edge ${k * tileSize} (screen ${edge}) stands out: ${at.toFixed(2)} vs ≤ ${ref.toFixed(2)} around it`);
      checked++;
    }
  }
  assert.ok(checked > 0, `${name}: a tile edge was on screen (el ${el.width}×${el.height})`);
}

if (!HAVE_SHARED_SLIDES) test('shared slides', { skip: SKIP_NO_SLIDES }, () => undefined);

/**
 * End-to-end: the built renderer in Chromium (playwright-core) against the REAL HTTP host (app/server),
 * opening slides the way a user does (Open dialog with a path field).
 * GLASSBOX_SCREENSHOTS=1 also writes docs/screenshots/cmu-{low,high}-zoom.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { HAVE_SHARED_SLIDES, REPO_ROOT, SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt, pixelStats, pyramidalTiffFixture, writeGarbageSlide } from './support.js';

const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: e2e viewer tests skipped`;
const CMU = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');
const TCGA = join(SHARED_SLIDES, 'tcga-cr-7395-01a-01-ts1.svs');
const SCREENSHOTS = process.env.GLASSBOX_SCREENSHOTS === '1';

async function openViaDialog(page: Page, path: string): Promise<void> {
  await page.getByTestId('open-button').click();
  const input = page.getByTestId('path-input');
  await input.waitFor({ state: 'visible' });
  await input.fill(path);
  await input.press('Enter');
}

/** waits until the viewer reports every visible tile drawn, then lets the blend finish */
async function waitForTiles(page: Page, timeout = 20000): Promise<void> {
  const t0 = Date.now();
  await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout });
  // then until the picture stops changing (blending done, no late tiles)
  let prev = await page.getByTestId('viewer').screenshot();
  while (Date.now() - t0 < timeout) {
    await page.waitForTimeout(350);
    const cur = await page.getByTestId('viewer').screenshot();
    if (cur.equals(prev) && (await page.getByTestId('viewer').getAttribute('data-state')) === 'ready') return;
    prev = cur;
  }
  throw new Error(`viewer did not settle within ${timeout} ms`);
}

async function zoom(page: Page): Promise<number> {
  return Number(await page.getByTestId('viewer').getAttribute('data-zoom'));
}

async function viewerPixels(page: Page) {
  return pixelStats(await page.getByTestId('viewer').screenshot());
}

test('viewer end-to-end in Chromium against the HTTP host', { skip: SKIP_NO_CHROMIUM, timeout: 180_000 }, async (t) => {
  const built = ensureRendererBuilt();
  t.diagnostic(`renderer build: ${built}`);
  const tmp = mkdtempSync(join(tmpdir(), 'glassbox-e2e-'));
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ port: 0, host: '127.0.0.1', staticDir: RENDERER_DIST, configDir: tmp, log: () => undefined });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(server.url + '/');

    await t.test('start screen: welcome card, no blank page, CSP meta present', async () => {
      await page.getByTestId('welcome').waitFor({ state: 'visible' });
      const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
      assert.match(csp ?? '', /script-src 'self'/);
      // Ctrl+O opens the path dialog, Esc closes it
      await page.keyboard.press('Control+o');
      await page.getByTestId('open-dialog').waitFor({ state: 'visible', timeout: 3000 });
      await page.keyboard.press('Escape');
      await page.getByTestId('open-dialog').waitFor({ state: 'detached', timeout: 3000 });
      // a file dropped on a browser tab has no path: the dialog opens and says drop needs the desktop app
      await page.evaluate(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['x'], 'dropped.svs'));
        window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      });
      const dlg = page.getByTestId('open-dialog');
      await dlg.waitFor({ state: 'visible', timeout: 3000 });
      assert.match(await dlg.innerText(), /needs the desktop app.*dropped\.svs/s);
      await page.keyboard.press('Escape');
    });

    await t.test('generated pyramidal TIFF: opens via the dialog, tiles draw, scale bar in µm', async () => {
      const fixture = await pyramidalTiffFixture();
      await openViaDialog(page, fixture);
      await waitForTiles(page);
      const st = await viewerPixels(page);
      assert.ok(st.stdev > 10 && st.contentFraction > 0.2, `viewer shows content: ${JSON.stringify(st)}`);
      await assert.doesNotReject(page.getByTestId('scalebar').waitFor({ state: 'visible', timeout: 5000 }));
      assert.match(await page.getByTestId('scalebar').innerText(), /^\d+(\.\d+)? (µm|mm)$/);
      // no heatmap yet: no WebGL layer in the page (its context and per-frame compositing cost the first view time)
      assert.equal(await page.locator('canvas.gbx-heatmap').count(), 0);
    });

    await t.test('CMU-1-Small-Region.svs: tiles draw at low and high zoom, µm scale bar, keyboard zoom', { skip: SKIP_NO_SLIDES }, async () => {
      await openViaDialog(page, CMU);
      await waitForTiles(page);
      assert.equal(await page.getByTestId('open-dialog').count(), 0, 'dialog closed after a successful open');
      const low = await viewerPixels(page);
      assert.ok(low.stdev > 10 && low.contentFraction > 0.05, `low zoom shows tissue: ${JSON.stringify(low)}`);
      assert.match(await page.getByTestId('info-panel').innerText(), /2,220 × 2,967/);
      assert.match(await page.getByTestId('magnification').innerText(), /^≈ \d+(\.\d+)?×$/);
      if (SCREENSHOTS) writeFileSync(join(REPO_ROOT, 'docs/screenshots/cmu-low-zoom.png'), await page.screenshot());

      // keyboard: '+' zooms in (focus on the page body, not an input)
      await page.locator('body').click({ position: { x: 5, y: 795 } }).catch(() => undefined);
      const z0 = await zoom(page);
      await page.keyboard.press('+');
      await page.waitForTimeout(900);
      const z1 = await zoom(page);
      assert.ok(z1 > z0 * 1.3, `'+' zoomed in: ${z0} → ${z1}`);
      await page.keyboard.press('-');
      await page.waitForTimeout(900);
      assert.ok((await zoom(page)) < z1 / 1.3, `'-' zoomed out from ${z1}`);

      // zoom in further with the wheel over the viewer centre until ≥ 100 %
      const box = (await page.getByTestId('viewer').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5);
      for (let i = 0; i < 12 && (await zoom(page)) < 1.2; i++) {
        await page.mouse.wheel(0, -300);
        await page.waitForTimeout(250);
      }
      await page.waitForTimeout(800);
      assert.ok((await zoom(page)) >= 1.0, `wheel zoomed to ${await zoom(page)}`);
      await waitForTiles(page);
      const high = await viewerPixels(page);
      assert.ok(high.stdev > 8 && high.contentFraction > 0.05, `high zoom shows tissue: ${JSON.stringify(high)}`);
      const bar = await page.getByTestId('scalebar').innerText();
      assert.match(bar, /^\d+(\.\d+)? µm$/, `scale bar at high zoom reads µm: ${bar}`);
      assert.match(await page.getByTestId('cursor').innerText(), /µm.*px/);
      if (SCREENSHOTS) writeFileSync(join(REPO_ROOT, 'docs/screenshots/cmu-high-zoom.png'), await page.screenshot());
    });

    await t.test('I and N toggle the info panel and the navigator', async () => {
      await page.keyboard.press('i');
      await page.getByTestId('info-panel').waitFor({ state: 'detached', timeout: 3000 });
      await page.keyboard.press('i');
      await page.getByTestId('info-panel').waitFor({ state: 'visible', timeout: 3000 });
      const nav = page.locator('.navigator');
      assert.equal(await nav.isVisible(), true);
      await page.keyboard.press('n');
      await page.waitForTimeout(100);
      assert.equal(await nav.isVisible(), false);
      await page.keyboard.press('n');
    });

    await t.test('a garbage .svs: a visible error names the file and the problem', async () => {
      const bad = writeGarbageSlide(tmp);
      await page.getByTestId('open-button').click();
      // the dialog lists what was opened before
      assert.match(await page.getByTestId('open-dialog').innerText(), /recent[\s\S]*pyramid-3000x2000-0\.5um\.tif/i);
      await page.keyboard.press('Escape');
      await openViaDialog(page, bad);
      const err = page.getByTestId('error').first();
      await err.waitFor({ state: 'visible', timeout: 10000 });
      const text = await err.innerText();
      assert.match(text, /garbage\.svs/);
      assert.ok(text.length > 30, `error explains the problem: ${text}`);
      await page.keyboard.press('Escape'); // closes the dialog
      await page.getByRole('button', { name: 'Dismiss' }).first().click();
      assert.equal(await page.getByTestId('error').count(), 0, 'error dismissed');
    });

    await t.test('TCGA JPEG 2000 slide without mpp: "resolution unknown" notice, sizes in px; the mpp override shows the scale bar and µm', { skip: SKIP_NO_SLIDES }, async () => {
      await openViaDialog(page, TCGA);
      const notice = page.getByTestId('mpp-notice');
      await notice.waitFor({ state: 'visible', timeout: 20000 });
      assert.match(await notice.innerText(), /Resolution unknown — scale bar hidden/);
      assert.equal(await page.getByTestId('scalebar').count(), 0);
      await waitForTiles(page, 60000);
      const st = await viewerPixels(page);
      assert.ok(st.stdev > 5 && st.contentFraction > 0.05, `J2K tiles draw: ${JSON.stringify(st)}`);
      // a rectangle drawn without a pixel size: measured in level-0 px, and the panel says why
      await page.keyboard.press('l');
      await page.getByTestId('annotation-panel').waitFor({ state: 'visible' });
      await page.keyboard.press('r');
      const vb = (await page.getByTestId('viewer').boundingBox())!;
      await page.mouse.move(vb.x + vb.width * 0.3, vb.y + vb.height * 0.5);
      await page.mouse.down();
      await page.mouse.move(vb.x + vb.width * 0.45, vb.y + vb.height * 0.7, { steps: 5 });
      await page.mouse.up();
      const dl = page.getByTestId('ann-measurements');
      await page.waitForSelector('[data-testid=ann-measurements][data-unit=px]', { timeout: 10_000 });
      const areaPx = Number(await dl.getAttribute('data-area-px'));
      assert.ok(areaPx > 1000, `a drawn area: ${areaPx} px²`);
      assert.equal(await page.getByTestId('ann-area').innerText(), `${Math.round(areaPx).toLocaleString('en-US')} px²`);
      assert.match(await page.getByTestId('ann-px-note').innerText(), /µm per pixel is unknown: sizes are in level-0 pixels/);
      await page.getByTestId('mpp-input').fill('0.5');
      await page.getByTestId('mpp-input').press('Enter');
      await page.getByTestId('scalebar').waitFor({ state: 'visible', timeout: 5000 });
      assert.equal(await page.getByTestId('mpp-notice').count(), 0);
      // the same annotation, now in µm²: 0.25 µm² a pixel
      await page.waitForSelector('[data-testid=ann-measurements][data-unit=um]', { timeout: 10_000 });
      assert.ok(Math.abs(Number(await dl.getAttribute('data-area')) - areaPx * 0.25) < 1e-6 * areaPx, `${await dl.getAttribute('data-area')} µm² for ${areaPx} px²`);
      assert.equal(await page.getByTestId('ann-px-note').count(), 0);
      await page.keyboard.press('i');
      assert.match(await page.getByTestId('mpp-info').innerText(), /0\.5000 × 0\.5000 µm\/px\s*user/);
    });

    await t.test('lost host: tile requests fail → a visible "lost connection" error, page still there', async () => {
      await openViaDialog(page, await pyramidalTiffFixture());
      await waitForTiles(page);
      await server!.close();
      server = null;
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('+');
        await page.waitForTimeout(300);
      }
      const err = page.getByTestId('error').filter({ hasText: 'Lost connection to the Glassbox host' });
      await err.first().waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await page.getByTestId('viewer').count(), 1, 'viewer still on the page');
      const st = await viewerPixels(page);
      assert.ok(st.contentFraction > 0.1, 'already drawn tiles stay visible');
    });

    await t.test('no uncaught page errors', () => {
      const fatal = consoleErrors.filter((m) => m.startsWith('pageerror'));
      assert.deepEqual(fatal, []);
    });
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

if (!HAVE_SHARED_SLIDES) test('shared slides', { skip: SKIP_NO_SLIDES }, () => undefined);

/**
 * `glassbox serve SLIDE`: a slide the host opened at start-up is shown at once, without the Open dialog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt, pixelStats, pyramidalTiffFixture } from './support.js';

const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: e2e tests skipped`;

test('a slide given to the host on start-up is shown without the Open dialog', { skip: SKIP_NO_CHROMIUM, timeout: 120_000 }, async () => {
  ensureRendererBuilt();
  const slide = await pyramidalTiffFixture();
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ port: 0, staticDir: RENDERER_DIST, configDir: mkdtempSync(join(tmpdir(), 'gb-pre-')), slides: [slide], log: () => undefined });
    assert.equal(server.opened.length, 1);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 30_000 });
    assert.equal(await page.getByTestId('welcome').count(), 0, 'the welcome card is gone');
    assert.equal(await page.getByTestId('open-dialog').count(), 0, 'no Open dialog was needed');
    await page.waitForTimeout(800);
    const px = await pixelStats(await page.getByTestId('viewer').screenshot());
    assert.ok(px.contentFraction > 0.05 && px.stdev > 10, `tiles drew: ${JSON.stringify(px)}`);
    assert.match(await page.locator('body').innerText(), /pyramid-3000x2000-0\.5um\.tif/);
  } finally {
    await browser?.close();
    await server?.close();
  }
});

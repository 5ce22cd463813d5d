/**
 * `glassbox serve --root DIR A B`: every slide given is open and reachable through the slide tabs, and the Open
 * dialog browses the root folders (sub-folders, slide files) and opens a slide from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt, pyramidalTiffFixture } from './support.js';

const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: e2e tests skipped`;
const SHOTS = process.env.GLASSBOX_SCREENSHOTS; // a folder to keep screenshots in (for looking at them)

test('several slides: tabs switch between all of them; --root: the Open dialog browses and opens from the folders', { skip: SKIP_NO_CHROMIUM, timeout: 180_000 }, async () => {
  ensureRendererBuilt();
  const fixture = await pyramidalTiffFixture();
  const top = mkdtempSync(join(tmpdir(), 'gb-serve-folders-'));
  const root = join(top, 'slides');
  mkdirSync(join(root, 'cases', 'case-7'), { recursive: true });
  const a = join(root, 'alpha.tif'), b = join(root, 'beta.tif'), c = join(root, 'cases', 'case-7', 'gamma.tif');
  for (const p of [a, b, c]) copyFileSync(fixture, p);
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ port: 0, staticDir: RENDERER_DIST, configDir: join(top, 'config'), slides: [a, b], roots: [root], log: () => undefined });
    assert.equal(server.opened.length, 2);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 30_000 });
    const tabs = page.getByTestId('slide-tabs').locator('button');
    assert.deepEqual(await tabs.allInnerTexts(), ['alpha.tif', 'beta.tif'], 'both slides given to serve are offered');
    assert.equal(await page.getByTestId('slide-tab-0').getAttribute('aria-current'), 'page');
    await page.getByTestId('slide-tab-1').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=slide-tab-1]')?.getAttribute('aria-current') === 'page');
    await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 30_000 });
    assert.match(await page.getByTestId('info-panel').innerText(), /beta\.tif/, 'the info panel shows the second slide');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'serve-tabs.png') });

    // the Open dialog lists the root, walks into a sub-folder and opens a slide from it
    await page.getByTestId('open-button').click();
    const browserList = page.getByTestId('folder-browser');
    await browserList.waitFor({ timeout: 10_000 });
    await browserList.getByRole('button', { name: /slides/ }).click();
    await page.waitForFunction(() => /alpha\.tif/.test(document.querySelector('[data-testid=folder-browser]')?.textContent ?? ''));
    const names = await browserList.locator('.entry').allInnerTexts();
    assert.deepEqual(names, ['cases/', 'alpha.tif', 'beta.tif'], 'folders first (marked with /), then slides');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'serve-browse-root.png') });
    await browserList.getByRole('button', { name: /cases/ }).click();
    await browserList.getByRole('button', { name: /case-7/ }).click();
    await page.waitForFunction(() => /gamma\.tif/.test(document.querySelector('[data-testid=folder-browser]')?.textContent ?? ''));
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'serve-browse.png') });
    await browserList.getByRole('button', { name: 'gamma.tif' }).click();
    await page.getByTestId('open-dialog').waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=slide-tabs] button').length === 3);
    assert.deepEqual(await tabs.allInnerTexts(), ['alpha.tif', 'beta.tif', 'gamma.tif'], 'the opened slide joins the tabs');
    assert.match(await page.getByTestId('info-panel').innerText(), /gamma\.tif/);
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(top, { recursive: true, force: true });
  }
});

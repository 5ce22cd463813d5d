/** Setup shared by the trust e2e tests: a generated H&E-like slide ('he-demo' layout), the HTTP host, Chromium. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../app/server/index.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { SPEC } from '../trust/fixtures.js';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_DIST, ensureRendererBuilt } from './support.js';

export const TRUST_E2E_SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: e2e trust test skipped`;

/** run `fn` on a page of a fresh host with the synthetic slide written (not opened); no page errors allowed */
export async function withTrustViewer(fn: (page: Page, server: RunningServer, slide: string) => Promise<void>): Promise<void> {
  ensureRendererBuilt();
  const tmp = mkdtempSync(join(tmpdir(), 'glassbox-e2e-trust-'));
  const slide = join(tmp, 'he.tif');
  await writeSyntheticSlide(slide, { ...SPEC, levels: [1, 4] });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ port: 0, staticDir: RENDERER_DIST, configDir: tmp, log: () => undefined, analysis: { cache: null } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url + '/');
    await fn(page, server, slide);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await server?.close();
  }
}

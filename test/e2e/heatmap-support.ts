/** Helpers of the heatmap-layer e2e test (heatmap.test.ts): opening a slide, level-0 ↔ screen, sampling colours of
 * the viewer, settling, zooming as a user does, retries while cells stream in, screenshots. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/paths.js';

export const SCREENSHOTS = process.env.GLASSBOX_SCREENSHOTS === '1';
const SHOTS = join(REPO_ROOT, 'docs', 'screenshots');

export type Rgb = [number, number, number];

export async function openSlide(page: Page, path: string): Promise<void> {
  await page.getByTestId('open-button').click();
  const input = page.getByTestId('path-input');
  await input.waitFor({ state: 'visible' });
  await input.fill(path);
  await input.press('Enter');
  await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 30_000 });
}

/** level-0 (x, y) → viewer-element CSS px, from the view rectangle the viewer publishes (data-view) */
export async function toScreen(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const view = (await page.getByTestId('viewer').getAttribute('data-view'))!.split(',').map(Number);
  const box = (await page.getByTestId('viewer').boundingBox())!;
  return { x: ((x - view[0]) / view[2]) * box.width, y: ((y - view[1]) / view[3]) * box.height };
}

/** mean RGB of a 3×3 block of the viewer's screenshot around level-0 (x, y) */
export async function colourAt(png: Buffer, page: Page, x: number, y: number): Promise<Rgb> {
  const p = await toScreen(page, x, y);
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const cx = Math.round(p.x), cy = Math.round(p.y);
  assert.ok(cx >= 1 && cy >= 1 && cx < info.width - 1 && cy < info.height - 1, `(${x}, ${y}) is on screen at (${cx}, ${cy})`);
  const s = [0, 0, 0];
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) for (let c = 0; c < 3; c++) s[c] += data[((cy + dy) * info.width + cx + dx) * 3 + c];
  return s.map((v) => Math.round(v / 9)) as Rgb;
}

export const dist = (a: Rgb, b: Rgb) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
export const VIRIDIS_TOP: Rgb = [253, 231, 37];
export const VIRIDIS_BOTTOM: Rgb = [68, 1, 84];
export const GLASS: Rgb = [255, 255, 255];

export async function shot(page: Page): Promise<Buffer> {
  return page.getByTestId('viewer').screenshot();
}

/** waits until the viewer has settled (tiles drawn, no animation) */
export async function settle(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 20_000 });
  let prev = await shot(page);
  for (let i = 0; i < 12; i++) {
    await page.waitForTimeout(250);
    const cur = await shot(page);
    if (cur.equals(prev)) return;
    prev = cur;
  }
}

export async function zoomOf(page: Page): Promise<number> {
  return Number(await page.getByTestId('viewer').getAttribute('data-zoom'));
}

/** fit the slide (key 0), then wheel-zoom around level-0 (x, y) as a user would until ≥ `zoom` screen px per px */
export async function zoomTo(page: Page, x: number, y: number, zoom: number): Promise<void> {
  await page.locator('body').click({ position: { x: 2, y: 60 } }).catch(() => undefined);
  await page.keyboard.press('0');
  await settle(page);
  const box = (await page.getByTestId('viewer').boundingBox())!;
  for (let i = 0; i < 30 && (await zoomOf(page)) < zoom; i++) {
    const p = await toScreen(page, x, y);
    await page.mouse.move(box.x + p.x, box.y + p.y);
    await page.mouse.wheel(0, -120);
    await page.waitForTimeout(120);
  }
  await settle(page);
}

/** retries a pixel check while cells stream in */
export async function eventually(fn: () => Promise<void>, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() - t0 > ms) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export async function analyse(page: Page): Promise<number> {
  const t0 = Date.now();
  const prog = page.getByTestId('analysis-progress');
  const before = (await prog.count()) ? await prog.getAttribute('data-id') : null;
  await page.getByTestId('analyse-button').click();
  await page.waitForFunction((prev) => {
    const p = document.querySelector('[data-testid=analysis-progress]');
    return !!p && p.getAttribute('data-id') !== prev && document.querySelector('[data-testid=viewer]')?.getAttribute('data-heatmap') === 'drawn';
  }, before, { timeout: 20_000 });
  return Date.now() - t0;
}

export const progressDone = async (page: Page) => Number((await page.getByTestId('progress-text').innerText()).split('/')[0].replace(/[^\d]/g, ''));

export async function save(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(SHOTS, name), await page.screenshot());
}

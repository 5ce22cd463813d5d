/**
 * End-to-end: the trust check on a region's patches, in Chromium against the HTTP host. On a generated H&E-like
 * slide (2000 px at 0.5 µm/px) with the shipped model he-cellularity (224 level-0 px patches), draw a rectangle
 * annotation over x 880..1420, y 250..520 (the grid centres inside: (1008, 336) and (1232, 336)), name it, and
 * "Check explanations in this region…" from the annotation panel: the trust panel says which patches, runs the
 * randomization check on both, and shows the verdict and the chart with a band over the 2 patches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { TrustJobDTO } from '../../main/contract/trust.js';
import { TRUST_E2E_SKIP, withTrustViewer } from './trust-support.js';

async function toScreen(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const view = (await page.getByTestId('viewer').getAttribute('data-view'))!.split(',').map(Number);
  const box = (await page.getByTestId('viewer').boundingBox())!;
  return { x: box.x + ((x - view[0]) / view[2]) * box.width, y: box.y + ((y - view[1]) / view[3]) * box.height };
}

test('trust check from a selected region annotation: its patches, progress, verdict, chart', { skip: TRUST_E2E_SKIP, timeout: 240_000 }, async () => {
  await withTrustViewer(async (page, server, slide) => {
    const posted: unknown[] = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/trust')) posted.push(r.postDataJSON()); });
    await page.getByTestId('open-button').click();
    await page.getByTestId('path-input').fill(slide);
    await page.getByTestId('path-input').press('Enter');
    await page.waitForSelector('[data-testid=viewer][data-state=ready]', { timeout: 90_000 });
    await page.keyboard.press('l');
    await page.getByTestId('annotation-panel').waitFor({ state: 'visible' });
    await page.keyboard.press('0'); // fit the slide into the narrower stage
    await page.waitForTimeout(900);
    // a rectangle (R, drag): selected once drawn
    await page.keyboard.press('r');
    const a = await toScreen(page, 880, 250), b = await toScreen(page, 1420, 520);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 6 });
    await page.mouse.up();
    await page.getByTestId('annotation-details').waitFor({ state: 'visible', timeout: 10_000 });
    await page.getByTestId('ann-name').fill('Tumour 1');
    await page.getByTestId('ann-name').press('Tab');
    await page.getByTestId('ann-trust-region').click();
    const panel = page.getByTestId('trust-panel');
    await panel.waitFor({ state: 'visible' });
    assert.match(await page.getByTestId('trust-region').innerText(), /centres lie inside region Tumour 1: at most 16/);
    await panel.getByLabel('curves').uncheck(); // the randomization check only: keeps the test short
    await page.getByTestId('trust-run').click();
    await page.getByTestId('trust-progress').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal((await page.getByTestId('trust-region').innerText()).trim(), '2 patches from region Tumour 1');
    await page.waitForSelector('[data-testid=trust-panel][data-state=done]', { timeout: 200_000 });
    // the request carried the annotation's rectangle, not points
    const body = posted[0] as { region: { name: string; geometry: { type: string; coordinates: number[][][] } }; points?: unknown };
    assert.equal(body.points, undefined);
    assert.equal(body.region.name, 'Tumour 1');
    assert.equal(body.region.geometry.type, 'Polygon');
    const xs = body.region.geometry.coordinates[0].map((p) => p[0]), ys = body.region.geometry.coordinates[0].map((p) => p[1]);
    assert.ok(Math.abs(Math.min(...xs) - 880) < 30 && Math.abs(Math.max(...ys) - 520) < 30, JSON.stringify(body.region.geometry));
    assert.match(await page.getByTestId('trust-verdict').innerText(), /^Spearman .*\(thresholds: mean Spearman < 0\.3/);
    const chart = page.getByTestId('trust-chart');
    assert.equal(await chart.getAttribute('data-blocks'), '6');
    assert.equal((await chart.locator('polyline[data-metric=spearman]').getAttribute('points'))!.trim().split(/\s+/).length, 7);
    assert.match(await panel.innerText(), /band: min–max over 2 patches/);
    const href = (await page.getByTestId('trust-export-json').getAttribute('href'))!;
    const job = await (await page.request.get(server.url + href.replace(/\/report\.json$/, ''))).json() as TrustJobDTO;
    assert.deepEqual(job.patches, [{ x: 896, y: 224, w: 224, h: 224 }, { x: 1120, y: 224, w: 224, h: 224 }]);
    assert.deepEqual(job.sanity!.inputs.names, ['Tumour 1: patch (896, 224) 224×224 px', 'Tumour 1: patch (1120, 224) 224×224 px']);
    assert.equal(job.faithfulness, null);
    if (process.env.GLASSBOX_DEBUG_SHOTS) writeFileSync('/tmp/trust-region-e2e.png', await page.screenshot());
    await page.getByTestId('trust-close').click();
    await panel.waitFor({ state: 'detached' });
  });
});

/**
 * End-to-end: the trust check on a region's patches, in Chromium against the HTTP host. On a generated H&E-like
 * slide (2000 px at 0.5 µm/px) with the shipped model he-cellularity (224 level-0 px patches), draw a rectangle
 * annotation over x 880..1420, y 250..520 (the grid centres inside: (1008, 336) and (1232, 336)), name it, and
 * "Check explanations in this region…" from the annotation panel: the trust panel says which patches (outlined and
 * numbered on the slide while it is open), runs the randomization check on both, and shows the verdict and the chart
 * with a band over the 2 patches.
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
    // the two patches outlined on the slide, numbered in the report's order, where the grid puts them
    const marks = page.getByTestId('trust-patch');
    assert.equal(await marks.count(), 2);
    // the dialog sits over the region: the slide pans them into view beside it
    const outlinesClear = async (when: string) => {
      await page.waitForSelector('[data-testid=viewer][data-moving="0"]', { timeout: 10_000 });
      await page.waitForTimeout(300);
      await page.waitForSelector('[data-testid=viewer][data-moving="0"]', { timeout: 10_000 });
      const dialog = (await page.locator('[data-testid=trust-panel]').boundingBox())!;
      const stage = (await page.getByTestId('viewer').boundingBox())!;
      for (let i = 0; i < 2; i++) {
        const box = (await marks.nth(i).boundingBox())!;
        const clear = box.x + box.width <= dialog.x || box.x >= dialog.x + dialog.width || box.y + box.height <= dialog.y || box.y >= dialog.y + dialog.height;
        assert.ok(clear, `${when}: patch ${i + 1} ${JSON.stringify(box)} is clear of the dialog ${JSON.stringify(dialog)}`);
        const inside = box.x >= stage.x && box.y >= stage.y && box.x + box.width <= stage.x + stage.width && box.y + box.height <= stage.y + stage.height;
        assert.ok(inside, `${when}: patch ${i + 1} ${JSON.stringify(box)} is in view ${JSON.stringify(stage)}`);
      }
    };
    await outlinesClear('while running');
    for (const [i, x] of [896, 1120].entries()) {
      const box = (await marks.nth(i).boundingBox())!;
      const a = await toScreen(page, x, 224), b = await toScreen(page, x + 224, 448);
      const near = (u: number, v: number) => Math.abs(u - v) < 3;
      assert.ok(near(box.x, a.x) && near(box.y, a.y) && near(box.x + box.width, b.x) && near(box.y + box.height, b.y), `patch ${i + 1} outline ${JSON.stringify(box)} vs ${JSON.stringify([a, b])}`);
      assert.equal((await marks.nth(i).innerText()).trim(), String(i + 1));
    }
    await page.waitForSelector('[data-testid=trust-panel][data-state=done]', { timeout: 200_000 });
    await outlinesClear('with the result shown (the dialog grew)');
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
    assert.equal(await page.getByTestId('trust-patch').count(), 0, 'the outlines go with the panel');
  });
});

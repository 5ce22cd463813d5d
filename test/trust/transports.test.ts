/**
 * The trust routes behind both hosts: HTTP (app/server) and the Electron glassbox:// protocol (main/electron/compose)
 * serve the same check — a job started, polled to the end, its report downloaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ModelListDTO, SlideInfoDTO } from '../../main/contract/index.js';
import { trustUrls, type TrustJobDTO } from '../../main/contract/trust.js';
import { electronTransport, httpTransport } from '../contract/transports.js';
import { writeSyntheticSlide } from '../fixtures/synthetic-slide.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { SPEC } from './fixtures.js';

const modelsDir = join(REPO_ROOT, 'models');
const HOSTS = [['HTTP', () => httpTransport({}, { modelsDir })], ['Electron', () => electronTransport({ modelsDir })]] as const;

for (const [name, make] of HOSTS) {
  test(`trust check over the ${name} host`, async () => {
    const t = await make();
    try {
      const slidePath = join(t.tmp, 'he.tif');
      await writeSyntheticSlide(slidePath, { ...SPEC, levels: [1, 4] });
      const post = (path: string, body: unknown) => t.fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const slide = (await (await post('/api/slides', { path: slidePath })).json()) as SlideInfoDTO;
      const models = ((await (await t.fetch('/api/models')).json()) as ModelListDTO).models;
      const model = models.find((m) => m.name === 'tiny-crc-demo')!;
      const res = await post(trustUrls.jobs(), { slideId: slide.id, modelId: model.id, points: [{ x: 1300, y: 420 }], method: 'gradcam', mode: 'independent', faithfulness: false });
      assert.equal(res.status, 202, await res.clone().text());
      let j = (await res.json()) as TrustJobDTO;
      while (j.state === 'running') {
        await new Promise((r) => setTimeout(r, 100));
        j = (await (await t.fetch(trustUrls.job(j.id))).json()) as TrustJobDTO;
      }
      assert.equal(j.state, 'done', JSON.stringify(j.error));
      assert.equal(j.sanity!.mode, 'independent');
      assert.equal(j.sanity!.layers.length, 9);
      assert.equal(j.faithfulness, null);
      const html = await t.fetch(trustUrls.reportHtml(j.id));
      assert.equal(html.status, 200);
      assert.match(await html.text(), /Model parameter randomization: gradcam, independent/);
    } finally {
      await t.close();
    }
  });
}

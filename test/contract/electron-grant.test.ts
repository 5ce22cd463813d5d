/** The Electron host opens only paths the user chose (GrantedPaths + the recent list); others get 403 FORBIDDEN. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { urls, type SlideInfoDTO } from '../../main/contract/slides.js';
import { createElectronHost } from '../../main/electron/compose.js';
import { GrantedPaths } from '../../main/electron/granted-paths.js';
import { pyramidTiff } from './fixture.js';
import { electronTransport, directTransport } from './transports.js';

const post = (value: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

test('Electron host: an unchosen path is refused with 403 FORBIDDEN; once granted it opens', async () => {
  const fixture = await pyramidTiff();
  const granted = new GrantedPaths();
  const t = await electronTransport({ granted });
  try {
    const r = await t.fetch(urls.slides(), post({ path: fixture }));
    assert.equal(r.status, 403);
    const j = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(j.error.code, 'FORBIDDEN');
    assert.ok(j.error.message.includes(fixture), 'the message names the path');
    assert.deepEqual(await (await t.fetch(urls.slides())).json(), [], 'nothing was opened');
    assert.deepEqual(await (await t.fetch(urls.recent())).json(), [], 'nothing went into the recent list');
    granted.add(fixture);
    const ok = await t.fetch(urls.slides(), post({ path: fixture }));
    assert.equal(ok.status, 200);
    // the recent list counts as chosen: a new host (next launch) with the same config opens it without a new grant
    const next = createElectronHost({ configDir: t.configDir, staticDir: t.staticDir, version: '0.1.0' });
    try {
      const again = await next.handle(new Request(`glassbox://app${urls.slides()}`, post({ path: fixture })));
      assert.equal(again.status, 200, await again.clone().text());
      assert.match(((await again.json()) as SlideInfoDTO).id, /^[A-Za-z0-9_-]{22}$/);
      const other = await next.handle(new Request(`glassbox://app${urls.slides()}`, post({ path: fixture + '.other' })));
      assert.equal(other.status, 403);
    } finally {
      await next.service.closeAll();
    }
  } finally {
    await t.close();
  }
});

test('HTTP host keeps open-by-path (its guard blocks cross-site use)', async () => {
  const fixture = await pyramidTiff();
  const t = await directTransport();
  try {
    assert.equal((await t.fetch(urls.slides(), post({ path: fixture }))).status, 200);
  } finally {
    await t.close();
  }
});

/** The same API cases over both transports (direct handler and real HTTP). */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, basename, join } from 'node:path';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ERROR_STATUS, SLIDE_ID_RE, urls, type SlideInfoDTO, type RecentFileDTO } from '../../main/contract/slides.js';
import { DeepZoomGeometry } from '../../main/engine/tiles/index.js';
import { openSlide } from '../../main/engine/slide/index.js';
import type { Slide } from '../../main/engine/slide/types.js';
import { HAVE_SHARED_SLIDES, SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { FIXTURE, pyramidTiff } from './fixture.js';
import { TRANSPORTS, type Transport } from './transports.js';
import { VERSION } from '../../app/cli/version.js';

const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const body = async (r: Response) => new Uint8Array(await r.arrayBuffer());
const post = (value: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
const put = (value: unknown) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

async function expectError(r: Response, status: number, code: string, re?: RegExp) {
  assert.equal(r.status, status, `status of ${r.url}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  const j = (await r.json()) as { error: { code: string; message: string } };
  assert.equal(j.error.code, code);
  assert.equal(typeof j.error.message, 'string');
  assert.ok(j.error.message.length > 5, 'the message names the problem');
  if (re) assert.match(j.error.message, re);
}

for (const make of TRANSPORTS) {
  describe(`contract over ${make.name}`, () => {
    let t: Transport;
    let fixture: string;
    let ref: Slide;
    let info: SlideInfoDTO;
    before(async () => {
      fixture = await pyramidTiff();
      ref = await openSlide(fixture);
      t = await make();
    });
    after(async () => {
      await ref?.close();
      await t?.close();
    });

    test('host info', async () => {
      const r = await t.fetch(urls.hostInfo());
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { app: 'glassbox', version: VERSION, host: t.host, browse: false }, 'every host reports package.json\'s version');
    });

    test('open a slide: DTO with an opaque id and no paths', async () => {
      const r = await t.fetch(urls.slides(), post({ path: fixture }));
      assert.equal(r.status, 200);
      info = (await r.json()) as SlideInfoDTO;
      assert.match(info.id, SLIDE_ID_RE);
      assert.equal(info.name, basename(fixture));
      assert.deepEqual([info.width, info.height], [FIXTURE.width, FIXTURE.height]);
      assert.equal(info.levels[0].tileWidth, FIXTURE.tile);
      assert.ok(info.levels.length >= 3);
      assert.deepEqual(info.mpp, { x: FIXTURE.mpp, y: FIXTURE.mpp, source: 'tiff-resolution' });
      assert.equal(info.dziUrl, urls.dzi(info.id));
      // the inline descriptor says what the .dzi says, and its tiles URL serves the tiles
      const xml = await (await t.fetch(info.dziUrl)).text();
      const attr = (n: string) => new RegExp(`${n}="([^"]*)"`).exec(xml)?.[1];
      assert.deepEqual(
        { tileSize: String(info.deepZoom.tileSize), overlap: String(info.deepZoom.overlap), format: info.deepZoom.format, w: String(info.width), h: String(info.height) },
        { tileSize: attr('TileSize'), overlap: attr('Overlap'), format: attr('Format'), w: attr('Width'), h: attr('Height') },
      );
      assert.equal(info.deepZoom.tilesUrl + '0/0_0.jpeg', urls.dziTile(info.id, 0, 0, 0));
      assert.ok(!JSON.stringify(info).includes(dirname(fixture)), 'no directory leaks into the DTO');
      // opening the same file again (another tab) gives its own id over the same slide: one DELETE never breaks the other
      const again = (await (await t.fetch(urls.slides(), post({ path: fixture }))).json()) as SlideInfoDTO;
      assert.match(again.id, SLIDE_ID_RE);
      assert.notEqual(again.id, info.id);
      assert.deepEqual({ ...again, id: info.id, dziUrl: info.dziUrl, deepZoom: { ...again.deepZoom, tilesUrl: info.deepZoom.tilesUrl } }, info);
      assert.equal((await t.fetch(urls.slide(again.id), { method: 'DELETE' })).status, 204);
      const tile = await t.fetch(urls.dziTile(info.id, 0, 0, 0));
      assert.equal(tile.status, 200, 'the first open still serves tiles after the second one closed');
      assert.ok(isJpeg(await body(tile)));
      await expectError(await t.fetch(urls.slide(again.id)), 404, 'NOT_FOUND');
    });

    test('list, info, recent', async () => {
      const list = (await (await t.fetch(urls.slides())).json()) as SlideInfoDTO[];
      assert.deepEqual(list.map((s) => s.id), [info.id]);
      const one = await t.fetch(urls.slide(info.id));
      assert.equal(one.status, 200);
      assert.deepEqual(await one.json(), info);
      const recent = (await (await t.fetch(urls.recent())).json()) as RecentFileDTO[];
      assert.equal(recent[0].path, fixture);
      assert.equal(recent[0].name, basename(fixture));
      assert.ok(!Number.isNaN(Date.parse(recent[0].openedAt)));
      // persisted as JSON in the config dir
      const saved = JSON.parse(readFileSync(join(t.configDir, 'recent.json'), 'utf8')) as RecentFileDTO[];
      assert.equal(saved[0].path, fixture);
    });

    test('.dzi descriptor', async () => {
      const r = await t.fetch(urls.dzi(info.id));
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/xml/);
      const xml = await r.text();
      // default config 'native': the file's 256×256 tiles, no overlap
      assert.match(xml, /TileSize="256"/);
      assert.match(xml, /Overlap="0"/);
      assert.match(xml, /Format="jpeg"/);
      assert.match(xml, new RegExp(`<Size Width="${FIXTURE.width}" Height="${FIXTURE.height}"/>`));
    });

    test('Deep Zoom tiles: JPEG, right size, immutable, file tiles passed through', async () => {
      const g = new DeepZoomGeometry(FIXTURE.width, FIXTURE.height, 256, 0);
      for (const [l, c, r] of [[g.maxLevel, 0, 0], [g.maxLevel, 1, 1], [g.maxLevel, g.levels[g.maxLevel].cols - 1, g.levels[g.maxLevel].rows - 1], [g.maxLevel - 1, 0, 0], [8, 0, 0], [0, 0, 0]]) {
        const res = await t.fetch(urls.dziTile(info.id, l, c, r));
        assert.equal(res.status, 200, `tile ${l}/${c}_${r}`);
        assert.equal(res.headers.get('content-type'), 'image/jpeg');
        assert.match(res.headers.get('cache-control') ?? '', /immutable/);
        const b = await body(res);
        assert.ok(isJpeg(b));
        const m = await sharp(b).metadata();
        const rect = g.tileRect(l, c, r);
        assert.deepEqual([m.width, m.height], [rect.w, rect.h], `tile ${l}/${c}_${r} size`);
      }
      // interior tiles of DZ levels that are file levels 0 and 1 are the file's JPEG bytes
      for (const [dl, sl] of [[g.maxLevel, 0], [g.maxLevel - 1, 1]]) {
        const b = await body(await t.fetch(urls.dziTile(info.id, dl, 1, 1)));
        assert.deepEqual(Buffer.from(b), Buffer.from((await ref.readEncodedTile(sl, 1, 1))!.bytes), `DZ level ${dl} = file level ${sl}`);
      }
      // an edge tile (cropped, re-encoded) has readRegion's pixels
      const rect = g.tileRect(g.maxLevel, 5, 4);
      const res = await t.fetch(urls.dziTile(info.id, g.maxLevel, 5, 4));
      const px = await sharp(await body(res)).raw().toBuffer();
      const want = await ref.readRegion(rect.x, rect.y, 0, rect.w, rect.h);
      let d = 0;
      for (let i = 0; i < px.length; i++) d += Math.abs(px[i] - want.data[i]);
      assert.ok(d / px.length < 3, `tile vs readRegion differ by ${d / px.length}`);
    });

    test('native tiles: pass-through bytes, cropped edges', async () => {
      const res = await t.fetch(urls.nativeTile(info.id, 0, 1, 1));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      const file = await ref.readEncodedTile(0, 1, 1);
      assert.ok(file, 'the fixture has JPEG tiles');
      assert.deepEqual(Buffer.from(await body(res)), Buffer.from(file.bytes));
      const edge = await sharp(await body(await t.fetch(urls.nativeTile(info.id, 0, 5, 4)))).metadata();
      assert.deepEqual([edge.width, edge.height], [FIXTURE.width - 5 * 256, FIXTURE.height - 4 * 256]);
      const l1 = await t.fetch(urls.nativeTile(info.id, 1, 0, 0));
      assert.equal(l1.status, 200);
    });

    test('region PNG: OpenSlide read_region pixels', async () => {
      const res = await t.fetch(urls.region(info.id, { x: 1400, y: 1000, w: 150, h: 120, level: 0 }));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      const { data, info: m } = await sharp(await body(res)).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([m.width, m.height, m.channels], [150, 120, 3]);
      const want = await ref.readRegion(1400, 1000, 0, 150, 120);
      assert.deepEqual(Buffer.from(data), Buffer.from(want.data));
      // beyond the slide: white
      assert.deepEqual([...data.subarray(data.length - 3)], [255, 255, 255]);
      const l1 = await t.fetch(urls.region(info.id, { x: 0, y: 0, w: 10, h: 10, level: 1 }));
      assert.equal(l1.status, 200);
    });

    test('associated images: 404 for a name the slide does not have', async () => {
      await expectError(await t.fetch(urls.associated(info.id, 'label')), 404, 'NOT_FOUND', /label/);
    });

    test('mpp override and clearing it', async () => {
      let r = await t.fetch(urls.mpp(info.id), put({ mpp: { x: 0.25, y: 0.26 } }));
      assert.equal(r.status, 200);
      assert.deepEqual(((await r.json()) as SlideInfoDTO).mpp, { x: 0.25, y: 0.26, source: 'user' });
      assert.deepEqual(((await (await t.fetch(urls.slide(info.id))).json()) as SlideInfoDTO).mpp, { x: 0.25, y: 0.26, source: 'user' });
      r = await t.fetch(urls.mpp(info.id), put({ mpp: null }));
      assert.deepEqual(((await r.json()) as SlideInfoDTO).mpp, { x: FIXTURE.mpp, y: FIXTURE.mpp, source: 'tiff-resolution' });
      await expectError(await t.fetch(urls.mpp(info.id), put({ mpp: { x: -1, y: 0.5 } })), 400, 'BAD_REQUEST', /mpp\.x/);
      await expectError(await t.fetch(urls.mpp(info.id), put({ mpp: { x: 'a', y: 0.5 } })), 400, 'BAD_REQUEST');
    });

    test('bad ids, unopened ids, out-of-range levels and tiles', async () => {
      await expectError(await t.fetch('/api/slides/bad!id'), 400, 'BAD_REQUEST', /slide id/);
      await expectError(await t.fetch('/api/slides/short'), 400, 'BAD_REQUEST', /slide id/);
      await expectError(await t.fetch(urls.slide('AAAAAAAAAAAAAAAAAAAAAA')), 404, 'NOT_FOUND', /no open slide/);
      await expectError(await t.fetch(urls.dziTile('AAAAAAAAAAAAAAAAAAAAAA', 0, 0, 0)), 404, 'NOT_FOUND');
      await expectError(await t.fetch(urls.dziTile(info.id, 99, 0, 0)), 404, 'OUT_OF_RANGE', /level 99/);
      await expectError(await t.fetch(urls.dziTile(info.id, 11, 6, 0)), 404, 'OUT_OF_RANGE', /outside/);
      await expectError(await t.fetch(urls.dziTile(info.id, 11, 0, 5)), 404, 'OUT_OF_RANGE', /outside/);
      await expectError(await t.fetch(`/api/slides/${info.id}_files/11/-1_0.jpeg`), 400, 'BAD_REQUEST', /col/);
      await expectError(await t.fetch(`/api/slides/${info.id}_files/1.5/0_0.jpeg`), 400, 'BAD_REQUEST', /level/);
      await expectError(await t.fetch(urls.dziTile(info.id, 0, 0, 0, 'png')), 404, 'NOT_FOUND', /jpeg only/);
      await expectError(await t.fetch(urls.nativeTile(info.id, 9, 0, 0)), 404, 'OUT_OF_RANGE', /level 9/);
      await expectError(await t.fetch(urls.nativeTile(info.id, 0, 6, 0)), 404, 'OUT_OF_RANGE');
      await expectError(await t.fetch(urls.region(info.id, { x: 0, y: 0, w: 0, h: 10, level: 0 })), 400, 'BAD_REQUEST', /w/);
      await expectError(await t.fetch(urls.region(info.id, { x: 0, y: 0, w: 100000, h: 10, level: 0 })), 400, 'BAD_REQUEST');
      await expectError(await t.fetch(`/api/slides/${info.id}/region.png?x=0&y=0&w=5`), 400, 'BAD_REQUEST', /h/);
      await expectError(await t.fetch(urls.region(info.id, { x: 0, y: 0, w: 5, h: 5, level: 7 })), 404, 'OUT_OF_RANGE');
      await expectError(await t.fetch('/api/nope'), 404, 'NOT_FOUND', /no such API route/);
      const m = await t.fetch(urls.slide(info.id), { method: 'PATCH' });
      assert.equal(m.status, 405);
      assert.match(m.headers.get('allow') ?? '', /DELETE/);
    });

    test('bad open requests: malformed JSON, missing/relative/non-existent/non-slide paths', async () => {
      await expectError(await t.fetch(urls.slides(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path": ' }), 400, 'BAD_REQUEST', /malformed JSON/);
      await expectError(await t.fetch(urls.slides(), post({ nope: 1 })), 400, 'BAD_REQUEST', /path/);
      await expectError(await t.fetch(urls.slides(), post({ path: 'relative/slide.svs' })), 400, 'BAD_REQUEST', /absolute/);
      await expectError(await t.fetch(urls.slides(), post({ path: join(t.tmp, 'missing.svs') })), 404, 'NOT_FOUND', /missing\.svs/);
      const r = await t.fetch(urls.slides(), post({ path: join(t.staticDir, 'index.html') }));
      assert.equal(r.status, ERROR_STATUS.UNSUPPORTED_FORMAT);
      const j = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(j.error.code, 'UNSUPPORTED_FORMAT');
      await expectError(await t.fetch(urls.slides(), { method: 'POST', body: 'x'.repeat(70 * 1024) }), 413, 'LIMIT', /too large/);
    });

    test('static files: index.html with CSP, assets, traversal refused', async () => {
      const r = await t.fetch('/');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(r.headers.get('content-security-policy'), t.csp);
      assert.match(await r.text(), /<title>glassbox<\/title>/);
      const js = await t.fetch('/assets/app.js');
      assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
      // the glassbox:// protocol wrapper puts the CSP on every response; HTTP only on documents
      assert.equal(js.headers.get('content-security-policy'), t.host === 'electron' ? t.csp : null);
      for (const p of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/..%5csecret.txt', '/link.txt', '/missing.js']) {
        const res = await t.fetch(p);
        assert.ok(res.status === 400 || res.status === 404, `${p}: ${res.status}`);
        assert.ok(!(await res.text()).includes('TOP-SECRET'), `${p} leaked the file`);
      }
    });

    test('close: DELETE, then the id is gone', async () => {
      const r = await t.fetch(urls.slide(info.id), { method: 'DELETE' });
      assert.equal(r.status, 204);
      await expectError(await t.fetch(urls.slide(info.id)), 404, 'NOT_FOUND');
      await expectError(await t.fetch(urls.dziTile(info.id, 0, 0, 0)), 404, 'NOT_FOUND');
      assert.deepEqual(await (await t.fetch(urls.slides())).json(), []);
    });

    test('real scanner file: CMU-1-Small-Region.svs associated images and tiles', { skip: SKIP_NO_SLIDES }, async () => {
      if (!HAVE_SHARED_SLIDES) return;
      const path = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');
      const s = (await (await t.fetch(urls.slides(), post({ path }))).json()) as SlideInfoDTO;
      assert.equal(s.vendor, 'aperio');
      assert.deepEqual([s.width, s.height], [2220, 2967]);
      assert.deepEqual([...s.associatedImages].sort(), ['label', 'macro', 'thumbnail']);
      for (const name of s.associatedImages) {
        const r = await t.fetch(urls.associated(s.id, name));
        assert.equal(r.status, 200, name);
        assert.ok(isJpeg(await body(r)));
      }
      const tile = await t.fetch(urls.dziTile(s.id, 12, 3, 4));
      assert.equal((await sharp(await body(tile)).metadata()).width, 240);
      const edge = await t.fetch(urls.dziTile(s.id, 12, 9, 12));
      const em = await sharp(await body(edge)).metadata();
      assert.deepEqual([em.width, em.height], [2220 - 9 * 240, 2967 - 12 * 240]);
      const svs = await openSlide(path);
      try {
        const nt = await t.fetch(urls.nativeTile(s.id, 0, 2, 2));
        assert.deepEqual(Buffer.from(await body(nt)), Buffer.from((await svs.readEncodedTile(0, 2, 2))!.bytes));
      } finally {
        await svs.close();
      }
      assert.equal((await t.fetch(urls.slide(s.id), { method: 'DELETE' })).status, 204);
    });
  });
}

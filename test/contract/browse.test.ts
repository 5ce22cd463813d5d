/**
 * `glassbox serve --root DIR`: the Open dialog's folder browser lists sub-folders and slide files under the roots
 * and nothing else — no '..', no path outside, no symlink that leads out, validated at the transport too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { urls, type BrowseDTO } from '../../main/contract/slides.js';
import { ServiceError, SlideServiceImpl } from '../../main/services/index.js';
import { createHandler } from '../../main/transport/index.js';

const top = mkdtempSync(join(tmpdir(), 'glassbox-browse-'));
after(() => rmSync(top, { recursive: true, force: true }));
const root = join(top, 'slides');
const outside = join(top, 'private');
mkdirSync(join(root, 'case 2', 'series'), { recursive: true });
mkdirSync(join(root, 'case 10'));
mkdirSync(outside);
writeFileSync(join(root, 'CMU-1.svs'), 'x'.repeat(10));
writeFileSync(join(root, 'b.ome.tiff'), 'x');
writeFileSync(join(root, 'notes.txt'), 'not a slide');
writeFileSync(join(root, '.hidden.svs'), 'x');
writeFileSync(join(root, 'case 2', 'series', 'f1.dcm'), 'x');
writeFileSync(join(outside, 'secret.svs'), 'x');
symlinkSync(outside, join(root, 'escape')); // a link out of the root: never listed, never followed
symlinkSync(join(outside, 'secret.svs'), join(root, 'escape.svs'));
symlinkSync(join(root, 'case 2'), join(root, 'inner-link')); // a link that stays inside: listed

const svc = new SlideServiceImpl({ host: 'http', browseRoots: [root] });
const code = (c: string) => (e: unknown) => e instanceof ServiceError && e.code === c;

test('no path: the roots; a root: its folders (numeric order) then its slide files, hidden and other files left out', async () => {
  assert.deepEqual(await svc.browse(), { path: null, parent: null, entries: [{ name: 'slides', path: root, kind: 'dir' }], truncated: false });
  const l = await svc.browse(root);
  assert.equal(l.parent, null, 'nothing above a root');
  assert.deepEqual(l.entries.map((e) => `${e.kind}:${e.name}`), ['dir:case 2', 'dir:case 10', 'dir:inner-link', 'slide:b.ome.tiff', 'slide:CMU-1.svs']);
  assert.equal(l.entries.find((e) => e.name === 'CMU-1.svs')!.size, 10);
  assert.equal(l.entries.find((e) => e.name === 'CMU-1.svs')!.path, join(root, 'CMU-1.svs'));
  const sub = await svc.browse(join(root, 'case 2', 'series'));
  assert.equal(sub.parent, join(root, 'case 2'));
  assert.deepEqual(sub.entries.map((e) => e.name), ['f1.dcm']);
  assert.deepEqual((await svc.browse(join(root, 'inner-link'))).entries.map((e) => e.name), ['series'], 'a link inside the root is followed');
});

test('escape attempts are refused: outside, .., a symlink out, relative, a file, NUL', async () => {
  await assert.rejects(svc.browse(outside), code('FORBIDDEN'));
  await assert.rejects(svc.browse('/'), code('FORBIDDEN'));
  await assert.rejects(svc.browse(`${root}/..`), code('BAD_REQUEST'));
  await assert.rejects(svc.browse(`${root}/case 2/../../private`), code('BAD_REQUEST'));
  await assert.rejects(svc.browse(join(root, 'escape')), code('FORBIDDEN'));
  await assert.rejects(svc.browse('slides'), code('BAD_REQUEST'));
  await assert.rejects(svc.browse(join(root, 'CMU-1.svs')), code('BAD_REQUEST'));
  await assert.rejects(svc.browse(`${root}\0`), code('BAD_REQUEST'));
  await assert.rejects(svc.browse(join(root, 'no-such-folder')), code('FORBIDDEN'));
  // a root that is a prefix of a sibling's name does not admit the sibling
  mkdirSync(`${root}-evil`, { recursive: true });
  await assert.rejects(svc.browse(`${root}-evil`), code('FORBIDDEN'));
});

test('a host without roots has no browser (NOT_FOUND naming --root)', async () => {
  const plain = new SlideServiceImpl({ host: 'http' });
  assert.equal((await plain.hostInfo()).browse, false, 'host info tells the renderer not to ask');
  assert.equal((await svc.hostInfo()).browse, true);
  await assert.rejects(plain.browse(), (e: unknown) => code('NOT_FOUND')(e) && /glassbox serve --root DIR/.test((e as Error).message));
});

test('GET /api/browse over the handler: listing, 403 outside, 400 for .. and unknown parameters', async () => {
  const handle = createHandler({ service: svc });
  const get = (u: string) => handle(new Request(`http://127.0.0.1${u}`));
  const ok = await get(urls.browse(join(root, 'case 2')));
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as BrowseDTO).entries.map((e) => e.name), ['series']);
  assert.equal((await get(urls.browse())).status, 200);
  assert.equal((await get(urls.browse(outside))).status, 403);
  const dots = await get(urls.browse(`${root}/../private`));
  assert.equal(dots.status, 400);
  assert.match(((await dots.json()) as { error: { message: string } }).error.message, /must not contain '\.\.'/);
  assert.equal((await get('/api/browse?path=/x&other=1')).status, 400);
  assert.equal((await get(urls.browse(join(root, 'escape')))).status, 403);
});

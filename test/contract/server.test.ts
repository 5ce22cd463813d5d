/** HTTP host specifics: binding, raw (un-normalised) paths, client disconnect -> AbortSignal -> slide reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../app/server/index.js';
import { urls, type SlideInfoDTO } from '../../main/contract/slides.js';
import { FakeSlide } from '../tiles/fake-slide.js';

function raw(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the HTTP host binds 127.0.0.1 by default and prints its URL', async () => {
  const lines: string[] = [];
  const srv = await startServer({ port: 0, log: (l) => lines.push(l) });
  try {
    assert.equal(srv.host, '127.0.0.1');
    assert.equal((srv.server.address() as { address: string }).address, '127.0.0.1');
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(lines, [`glassbox: serving on ${srv.url}/`]);
    // no static dir: the API alone
    const r = await fetch(srv.url + '/');
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /no renderer build/);
  } finally {
    await srv.close();
  }
});

test('raw traversal paths over the wire never escape the static dir', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gbx-srv-'));
  mkdirSync(join(tmp, 'static'));
  writeFileSync(join(tmp, 'static', 'index.html'), '<!doctype html>ok');
  writeFileSync(join(tmp, 'secret.txt'), 'TOP-SECRET');
  const srv = await startServer({ port: 0, staticDir: join(tmp, 'static'), log: () => {} });
  try {
    for (const p of ['/../secret.txt', '/static/../../secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/.%2e/secret.txt', '//etc/passwd', '/..\\secret.txt']) {
      const r = await raw(srv.port, p);
      assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
      assert.ok(!r.body.includes('TOP-SECRET') && !r.body.includes('root:'), `${p} leaked`);
    }
    assert.equal((await raw(srv.port, '/')).status, 200);
  } finally {
    await srv.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a client that disconnects aborts the slide reads behind its tile', async () => {
  const fake = await FakeSlide.create({ width: 1000, height: 700, downsamples: [1], tile: 256, jpeg: false, delayMs: 150 });
  const srv = await startServer({ port: 0, log: () => {}, service: { openSlide: async () => fake, tiles: { tileSize: 254, overlap: 1, decoder: 'slide' } } });
  try {
    const info = (await (await fetch(srv.url + urls.slides(), { method: 'POST', body: JSON.stringify({ path: '/fake/slide.tif' }) })).json()) as SlideInfoDTO;
    const ctrl = new AbortController();
    const p = fetch(srv.url + urls.dziTile(info.id, 10, 1, 1), { signal: ctrl.signal });
    await new Promise((r) => setTimeout(r, 50));
    ctrl.abort();
    await assert.rejects(p);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.calls.region, 1, 'the read started');
    assert.equal(fake.calls.aborted, 1, 'and saw its signal abort');
    assert.equal(srv.service.tiler(info.id).stats.encoded, 0, 'nothing was encoded');
    // the same tile still works for the next client
    const ok = await fetch(srv.url + urls.dziTile(info.id, 10, 1, 1));
    assert.equal(ok.status, 200);
  } finally {
    await srv.close();
  }
});

test('a protocol-relative request path stays a path on this host', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gbx-srv-'));
  mkdirSync(join(tmp, 'static', 'etc'), { recursive: true });
  writeFileSync(join(tmp, 'static', 'etc', 'x.txt'), 'inside');
  const srv = await startServer({ port: 0, staticDir: join(tmp, 'static'), log: () => {} });
  try {
    // `new URL('//etc/x.txt', origin)` would make 'etc' the host; the path must be served from the static dir
    const r = await raw(srv.port, '//etc/x.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'inside');
    const api = await raw(srv.port, '//api/host');
    assert.equal(api.status, 404);
  } finally {
    await srv.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

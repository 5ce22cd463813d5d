/** The HTTP host refuses cross-site writes and DNS-rebinding Host headers, and binds 127.0.0.1 by default. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../app/server/index.js';
import { rejectForeignRequest } from '../../app/server/guard.js';

type Srv = Awaited<ReturnType<typeof startServer>>;
let srv: Srv;

before(async () => {
  srv = await startServer({ port: 0, configDir: mkdtempSync(join(tmpdir(), 'gb-guard-')), log: () => {} });
});
after(async () => srv.close());

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : null }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const openBody = JSON.stringify({ path: '/nonexistent/slide.svs' });

test('binds to 127.0.0.1 unless told otherwise', () => {
  assert.equal(srv.host, '127.0.0.1');
});

test('a foreign Host header (DNS rebinding) is refused with 403 FORBIDDEN', async () => {
  const r = await send('GET', '/api/slides', { host: `evil.example:${srv.port}` });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'FORBIDDEN');
  assert.match(r.json.error.message, /evil\.example/);
});

test('a rebinding host name that merely starts with 127. is not loopback', async () => {
  const r = await send('GET', '/api/recent', { host: `127.0.0.1.attacker.example:${srv.port}` });
  assert.equal(r.status, 403);
  const p = await send('POST', '/api/slides', {
    host: `127.0.0.1.attacker.example:${srv.port}`,
    origin: `http://127.0.0.1.attacker.example:${srv.port}`,
    'content-type': 'application/json',
  }, openBody);
  assert.equal(p.status, 403);
  const other = await send('GET', '/api/recent', { host: `127.0.0.9:${srv.port}` });
  assert.equal(other.status, 200, 'any 127/8 dotted quad is loopback');
});

test('a cross-origin POST is refused before it can open a file', async () => {
  const r = await send('POST', '/api/slides', { 'content-type': 'application/json', origin: 'http://evil.example' }, openBody);
  assert.equal(r.status, 403);
  assert.match(r.json.error.message, /cross-origin POST from 'http:\/\/evil\.example'/);
  const s = await send('POST', '/api/slides', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, openBody);
  assert.equal(s.status, 403);
});

test('same-origin and non-browser requests go through to the API', async () => {
  const own = await send('POST', '/api/slides', { 'content-type': 'application/json', origin: `http://127.0.0.1:${srv.port}` }, openBody);
  assert.equal(own.status, 404, JSON.stringify(own.json)); // reached the service: the file does not exist
  assert.equal(own.json.error.code, 'NOT_FOUND');
  const cli = await send('GET', '/api/slides', {});
  assert.equal(cli.status, 200);
  assert.ok(Array.isArray(cli.json));
  const localhost = await send('GET', '/api/slides', { host: `localhost:${srv.port}` });
  assert.equal(localhost.status, 200);
});

test('guard rules: wrong port, opaque origin, non-loopback binding', () => {
  const srvInfo = { boundAddress: '127.0.0.1', port: 8642 };
  assert.match(rejectForeignRequest('GET', { host: '127.0.0.1:9999' }, srvInfo) ?? '', /not this loopback server/);
  assert.match(rejectForeignRequest('DELETE', { host: '127.0.0.1:8642', origin: 'null' }, srvInfo) ?? '', /opaque origin/);
  assert.equal(rejectForeignRequest('GET', { host: '127.0.0.1:8642', origin: 'http://evil.example' }, srvInfo), null);
  // bound to all interfaces on purpose: any Host, but still no cross-origin writes
  const open = { boundAddress: '0.0.0.0', port: 8642 };
  assert.equal(rejectForeignRequest('GET', { host: 'workstation.lan:8642' }, open), null);
  assert.notEqual(rejectForeignRequest('PUT', { host: 'workstation.lan:8642', origin: 'http://other.lan' }, open), null);
});

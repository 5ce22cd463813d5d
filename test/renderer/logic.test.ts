import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandForKey, parseMenuCommand, SHORTCUTS } from '../../renderer/src/lib/shortcuts.js';
import { formatPosition, parseMpp } from '../../renderer/src/lib/format.js';
import { ApiError, createApi, errorFromBody } from '../../renderer/src/lib/api.js';

test('keyboard shortcuts map to commands, and are ignored while typing', () => {
  assert.equal(commandForKey({ key: 'o', ctrlKey: true }), 'open');
  assert.equal(commandForKey({ key: 'O', metaKey: true }), 'open');
  assert.equal(commandForKey({ key: 'o' }), 'ann-tool-ellipse', 'o alone is the ellipse tool, not open');
  assert.equal(commandForKey({ key: '+' }), 'zoom-in');
  assert.equal(commandForKey({ key: '=' }), 'zoom-in');
  assert.equal(commandForKey({ key: '-' }), 'zoom-out');
  assert.equal(commandForKey({ key: '0' }), 'home');
  assert.equal(commandForKey({ key: 'Home' }), 'home');
  assert.equal(commandForKey({ key: 'ArrowLeft' }), 'pan-left');
  assert.equal(commandForKey({ key: 'n' }), 'toggle-navigator');
  assert.equal(commandForKey({ key: 'I' }), 'toggle-info');
  assert.equal(commandForKey({ key: 'f' }), 'fullscreen');
  assert.equal(commandForKey({ key: '?' }), 'help');
  assert.equal(commandForKey({ key: 'e' }), 'explain-patch');
  assert.equal(commandForKey({ key: 'E' }), 'explain-patch');
  assert.equal(commandForKey({ key: 'e', inEditable: true }), null);
  assert.equal(commandForKey({ key: 'Escape', inEditable: true }), 'escape');
  assert.equal(commandForKey({ key: '+', inEditable: true }), null);
  assert.equal(commandForKey({ key: 'n', ctrlKey: true }), null);
  assert.ok(SHORTCUTS.length >= 10);
});

test('menu commands parse, open-recent carries its path, unknown ones are dropped', () => {
  assert.deepEqual(parseMenuCommand('zoom-in'), { command: 'zoom-in' });
  assert.deepEqual(parseMenuCommand('open-recent:/data/a b.svs'), { command: 'open-recent', path: '/data/a b.svs' });
  assert.equal(parseMenuCommand('open-recent:'), null);
  assert.equal(parseMenuCommand('rm -rf'), null);
});

test('parseMpp accepts plain and unit-suffixed numbers, refuses nonsense', () => {
  assert.deepEqual(parseMpp('0.25'), { ok: true, value: 0.25 });
  assert.deepEqual(parseMpp(' 0,5 µm/px '), { ok: true, value: 0.5 });
  assert.equal(parseMpp('').ok, false);
  assert.equal(parseMpp('abc').ok, false);
  assert.equal(parseMpp('-1').ok, false);
  assert.equal(parseMpp('5000').ok, false);
});

test('formatPosition shows µm with mpp and pixels always', () => {
  assert.equal(formatPosition({ x: 1000, y: 2000 }, { x: 0.5, y: 0.5 }), '500.0 µm, 1000.0 µm  (1,000, 2,000 px)');
  assert.equal(formatPosition({ x: 1000, y: 2000 }, null), '1,000, 2,000 px');
  assert.match(formatPosition({ x: 40000, y: 10 }, { x: 0.5, y: 0.5 }), /^20\.00 mm, 5\.0 µm/);
});

test('API errors carry the server envelope; a dead host gives HOST_UNREACHABLE', async () => {
  const e = errorFromBody(415, 'Unsupported Media Type', JSON.stringify({ error: { code: 'UNSUPPORTED_FORMAT', message: 'x.svs: not a TIFF' } }));
  assert.equal(e.code, 'UNSUPPORTED_FORMAT');
  assert.equal(e.message, 'x.svs: not a TIFF');
  assert.equal(e.status, 415);
  const plain = errorFromBody(502, 'Bad Gateway', '<html>oops</html>');
  assert.equal(plain.code, 'BAD_RESPONSE');
  assert.match(plain.message, /HTTP 502 Bad Gateway/);

  const seen: { url: string; init?: RequestInit }[] = [];
  const api = createApi(async (url, init) => {
    seen.push({ url, init });
    if (url === '/api/slides') return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such file: /x' } }), { status: 404 });
    throw new TypeError('Failed to fetch');
  });
  await assert.rejects(api.open('/x'), (err: ApiError) => err.code === 'NOT_FOUND' && err.message === 'no such file: /x');
  assert.equal(seen[0].init?.method, 'POST');
  assert.deepEqual(JSON.parse(String(seen[0].init?.body)), { path: '/x' });
  await assert.rejects(api.recent(), (err: ApiError) => err.code === 'HOST_UNREACHABLE' && /Cannot reach/.test(err.message));
});

// Electron policy with fakes: tests never import electron (main/electron uses `import type` only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APP_CSP, APP_ENTRY_URL, checkSender, guardNavigation, hardenWebContents, isAppUrl, mainWindowOptions,
  permissionCheckHandler, permissionRequestHandler, webPreferences, windowOpenHandler,
} from '../../main/electron/security.js';

test('isAppUrl accepts glassbox://app only', () => {
  assert.equal(isAppUrl('glassbox://app/index.html'), true);
  assert.equal(isAppUrl('glassbox://app/api/slides?x=1'), true);
  assert.equal(APP_ENTRY_URL, 'glassbox://app/index.html');
  for (const bad of ['https://app/index.html', 'glassbox://evil/index.html', 'glassbox://app.evil.com/', 'glassbox://user@app/',
    'glassbox://app:81/', 'file:///etc/passwd', 'javascript:alert(1)', 'about:blank', '', 'not a url', null, undefined]) {
    assert.equal(isAppUrl(bad as string), false, String(bad));
  }
});

test('webPreferences: isolated, sandboxed, no node, web security on, our preload', () => {
  const w = webPreferences('/x/preload.cjs');
  assert.equal(w.contextIsolation, true);
  assert.equal(w.sandbox, true);
  assert.equal(w.nodeIntegration, false);
  assert.equal(w.nodeIntegrationInWorker, false);
  assert.equal(w.nodeIntegrationInSubFrames, false);
  assert.equal(w.webSecurity, true);
  assert.equal(w.allowRunningInsecureContent, false);
  assert.equal(w.webviewTag, false);
  assert.equal(w.preload, '/x/preload.cjs');
  assert.equal(w.v8CacheOptions, 'bypassHeatCheck', 'the bundle\'s compiled code is cached from the first start');
  assert.deepEqual(mainWindowOptions('/x/preload.cjs').webPreferences, w);
});

const fakeEvent = (senderId: number, url: string | null) => ({ sender: { id: senderId }, senderFrame: url === null ? null : { url } });

test('checkSender: only our window, only from the app origin', () => {
  const ours = { id: 7 };
  assert.deepEqual(checkSender(fakeEvent(7, 'glassbox://app/index.html'), ours), { ok: true });
  const other = checkSender(fakeEvent(8, 'glassbox://app/index.html'), ours);
  assert.equal(other.ok, false);
  assert.match((other as { reason: string }).reason, /not the app window/);
  const foreign = checkSender(fakeEvent(7, 'https://evil.example/'), ours);
  assert.equal(foreign.ok, false);
  assert.match((foreign as { reason: string }).reason, /evil\.example.*not on glassbox:\/\/app/);
  assert.equal(checkSender(fakeEvent(7, null), ours).ok, false);
  assert.equal(checkSender(fakeEvent(7, 'glassbox://app/'), null).ok, false);
});

test('navigation away from the app origin is prevented', () => {
  let prevented = 0;
  const ev = { preventDefault: () => void prevented++ };
  assert.equal(guardNavigation(ev, 'glassbox://app/index.html'), true);
  assert.equal(prevented, 0);
  assert.equal(guardNavigation(ev, 'https://example.com/'), false);
  assert.equal(guardNavigation(ev, 'file:///etc/passwd'), false);
  assert.equal(prevented, 2);
});

test('window.open is always denied; only https links go to the OS browser', () => {
  const opened: string[] = [];
  const h = windowOpenHandler((u) => opened.push(u));
  assert.deepEqual(h({ url: 'https://openslide.org/' }), { action: 'deny' });
  assert.deepEqual(h({ url: 'http://insecure.example/' }), { action: 'deny' });
  assert.deepEqual(h({ url: 'file:///etc/passwd' }), { action: 'deny' });
  assert.deepEqual(h({ url: 'glassbox://app/index.html' }), { action: 'deny' });
  assert.deepEqual(opened, ['https://openslide.org/']);
});

test('hardenWebContents wires navigation, redirect, webview and window-open guards', () => {
  const listeners = new Map<string, (e: { preventDefault(): void }, url: string) => void>();
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  const contents = {
    on: (ev: string, l: (e: { preventDefault(): void }, url: string) => void) => void listeners.set(ev, l),
    setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' }) => void (openHandler = h),
  };
  hardenWebContents(contents, () => undefined);
  assert.deepEqual([...listeners.keys()].sort(), ['will-attach-webview', 'will-navigate', 'will-redirect']);
  let prevented = 0;
  const ev = { preventDefault: () => void prevented++ };
  listeners.get('will-navigate')!(ev, 'https://evil.example/');
  listeners.get('will-redirect')!(ev, 'http://evil.example/');
  listeners.get('will-attach-webview')!(ev, '');
  listeners.get('will-navigate')!(ev, 'glassbox://app/index.html');
  assert.equal(prevented, 3);
  assert.deepEqual(openHandler!({ url: 'https://x.example/' }), { action: 'deny' });
});

test('permission requests are denied (fullscreen only for the app origin)', () => {
  const ask = (perm: string, url: string) => {
    let granted: boolean | null = null;
    permissionRequestHandler(null, perm, (g) => (granted = g), { requestingUrl: url });
    return granted;
  };
  for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'midi', 'pointerLock']) {
    assert.equal(ask(p, 'glassbox://app/index.html'), false, p);
  }
  assert.equal(ask('fullscreen', 'glassbox://app/index.html'), true);
  assert.equal(ask('fullscreen', 'https://evil.example/'), false);
  assert.equal(permissionCheckHandler(null, 'media', 'glassbox://app'), false);
});

test('the app CSP is strict', () => {
  for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'"]) {
    assert.ok(APP_CSP.includes(d), d);
  }
  assert.ok(!/unsafe-eval/.test(APP_CSP));
  assert.ok(!/script-src[^;]*unsafe-inline/.test(APP_CSP));
});

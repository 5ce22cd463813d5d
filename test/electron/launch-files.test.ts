import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LaunchQueue, slidePathsFromArgv } from '../../main/electron/launch-files.js';

test('slide paths from argv: existing files only, relative to the cwd, flags and folders ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gb-argv-'));
  writeFileSync(join(dir, 'a.svs'), 'x');
  mkdirSync(join(dir, 'folder'));
  const argv = ['/opt/electron', '.', '--inspect', 'a.svs', 'missing.svs', 'folder', join(dir, 'a.svs')];
  assert.deepEqual(slidePathsFromArgv(argv, { isPackaged: false, cwd: dir }), [join(dir, 'a.svs')]);
  // packaged apps have no '.' argument: the first argument is already a file
  assert.deepEqual(slidePathsFromArgv(['/opt/Glassbox', 'a.svs'], { isPackaged: true, cwd: dir }), [join(dir, 'a.svs')]);
  assert.deepEqual(slidePathsFromArgv(['/opt/Glassbox', 'a.svs'], { isPackaged: false, cwd: dir }), []);
});

test('launch queue holds paths until the renderer is ready, then delivers each once, in order', () => {
  const sent: string[] = [];
  let accept = true;
  const q = new LaunchQueue((c) => (accept ? (sent.push(c), true) : false));
  q.add(['/s/1.svs', '/s/2.ndpi']);
  assert.deepEqual(sent, []);
  q.rendererReady();
  assert.deepEqual(sent, ['open-recent:/s/1.svs', 'open-recent:/s/2.ndpi']);
  q.add(['/s/3.tif']);
  assert.equal(sent.at(-1), 'open-recent:/s/3.tif');
  q.rendererGone();
  q.add(['/s/4.tif']);
  assert.equal(sent.length, 3);
  accept = false;
  q.rendererReady(); // delivery refused (window closing): stays queued
  accept = true;
  q.rendererReady();
  assert.deepEqual(sent, ['open-recent:/s/1.svs', 'open-recent:/s/2.ndpi', 'open-recent:/s/3.tif', 'open-recent:/s/4.tif']);
});

test('launch queue grants every path as it arrives (argv / open-file are chosen by the user)', () => {
  const granted: string[] = [];
  const q = new LaunchQueue(() => true, (p) => void granted.push(p));
  q.add(['/s/1.svs']);
  assert.deepEqual(granted, ['/s/1.svs'], 'granted before the renderer is ready');
  q.rendererReady();
  assert.deepEqual(granted, ['/s/1.svs'], 'flushing does not grant twice');
  q.add(['/s/2.svs']);
  assert.deepEqual(granted, ['/s/1.svs', '/s/2.svs']);
});

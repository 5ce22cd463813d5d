/**
 * `npm start` (scripts/start.mjs): when the Electron binary is missing and cannot be downloaded, it says so and
 * offers `npm run serve` instead of a bare "fetch failed"; when the binary is there it runs it on the app.
 * A fake electron package folder (GLASSBOX_ELECTRON_DIR) stands in for node_modules/electron.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const LAUNCHER = join(REPO_ROOT, 'scripts', 'start.mjs');

function fakeElectron(opts: { installs: boolean; binary?: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'glassbox-fake-electron-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'electron', version: '45.0.0' }));
  // like electron's install.js offline: @electron/get's fetch fails
  const install = opts.installs
    ? "const fs=require('fs'),p=require('path');fs.mkdirSync(p.join(__dirname,'dist'),{recursive:true});fs.writeFileSync(p.join(__dirname,'dist','electron'),'#!/bin/sh\\necho \"ran electron $*\"\\n',{mode:0o755});fs.writeFileSync(p.join(__dirname,'path.txt'),'electron');"
    : "console.error('TypeError: fetch failed'); process.exit(1);";
  writeFileSync(join(dir, 'install.js'), install);
  if (opts.binary) {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'electron'), '#!/bin/sh\necho "ran electron $*"\n');
    chmodSync(join(dir, 'dist', 'electron'), 0o755);
    writeFileSync(join(dir, 'path.txt'), 'electron');
  }
  return dir;
}

function start(dir: string, args: string[] = []) {
  const env: NodeJS.ProcessEnv = { ...process.env, GLASSBOX_ELECTRON_DIR: dir };
  delete env.ELECTRON_OVERRIDE_DIST_PATH;
  return spawnSync(process.execPath, [LAUNCHER, ...args], { env, encoding: 'utf8', timeout: 30_000 });
}

test('a failed Electron download ends in a clear message offering npm run serve, not a bare "fetch failed"', () => {
  const dir = fakeElectron({ installs: false });
  try {
    const r = start(dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /glassbox: npm start cannot run the desktop app: the Electron binary could not be downloaded \(TypeError: fetch failed\)\./);
    assert.match(r.stderr, /npm run serve +then open http:\/\/127\.0\.0\.1:8642\//);
    assert.doesNotMatch(r.stderr, /npm run build|vite/, 'nothing was built before the failure');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no electron package at all: the same advice', () => {
  const r = start(join(tmpdir(), 'glassbox-no-such-electron-dir'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the 'electron' package is not installed \(run npm install\)/);
  assert.match(r.stderr, /npm run serve/);
});

test('a binary that is there (or downloads) runs on the app folder with the extra arguments', () => {
  for (const opts of [{ installs: false, binary: true }, { installs: true }]) {
    const dir = fakeElectron(opts);
    try {
      const r = start(dir, ['--no-build', '--', '--enable-logging']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').pop(), 'ran electron . --enable-logging');
      if (opts.installs) assert.match(r.stderr, /fetching it once/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

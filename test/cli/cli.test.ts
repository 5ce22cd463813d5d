/** `bin/glassbox.mjs` as a child process: info, region, dzi, serve, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { FIXTURE, pyramidTiff } from '../contract/fixture.js';
import { openSlide } from '../../main/engine/slide/index.js';
import { DeepZoomGeometry } from '../../main/engine/tiles/index.js';

import { CHILD_CONFIG, cli, oneLineError, spawnCli } from './run-cli.js';


test('info --json: one JSON object with the slide properties', async () => {
  const f = await pyramidTiff();
  const r = await cli(['info', f, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.format, 'generic-tiff');
  assert.deepEqual([j.width, j.height], [FIXTURE.width, FIXTURE.height]);
  assert.deepEqual(j.levels[0], { width: 1500, height: 1100, downsample: 1, tileWidth: 256, tileHeight: 256 });
  assert.deepEqual(j.levels[1], { width: 750, height: 550, downsample: 2, tileWidth: 256, tileHeight: 256 });
  assert.deepEqual(j.mpp, { x: 0.5, y: 0.5, source: 'tiff-resolution' });
  assert.equal(j.objectivePower, null);
  assert.deepEqual(j.associatedImages, []);
  assert.ok('vendor' in j && typeof j.properties === 'object');
  const human = await cli(['info', f]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /size\s+1500 × 1100 px/);
  assert.match(human.stdout, /levels:/);
});

test('info --json on CMU-1-Small-Region.svs agrees with OpenSlide\'s property dump', { skip: SKIP_NO_SLIDES }, async () => {
  const name = 'CMU-1-Small-Region.svs';
  const props = Object.fromEntries(
    [...readFileSync(join(SHARED_SLIDES, 'info', `${name}.openslide-properties.txt`), 'utf8').matchAll(/^([\w.[\]-]+): '([^']*)'$/gm)].map((m) => [m[1], m[2]]),
  );
  const r = await cli(['info', join(SHARED_SLIDES, name), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.vendor, props['openslide.vendor']);
  assert.equal(j.width, Number(props['openslide.level[0].width']));
  assert.equal(j.height, Number(props['openslide.level[0].height']));
  assert.equal(j.levels.length, Number(props['openslide.level-count']));
  assert.equal(j.levels[0].tileWidth, Number(props['openslide.level[0].tile-width']));
  assert.deepEqual(j.mpp, { x: Number(props['openslide.mpp-x']), y: Number(props['openslide.mpp-y']), source: 'vendor' });
  assert.equal(j.objectivePower, Number(props['openslide.objective-power']));
  assert.deepEqual([...j.associatedImages].sort(), ['label', 'macro', 'thumbnail']);
  assert.equal(j.properties['aperio.AppMag'], props['aperio.AppMag']);
});

test('region: PNG of the requested size with readRegion\'s pixels', async () => {
  const f = await pyramidTiff();
  const dir = mkdtempSync(join(tmpdir(), 'gbx-cli-'));
  try {
    const out = join(dir, 'r.png');
    const r = await cli(['region', f, '--x', '1450', '--y', '-5', '--w', '80', '--h', '60', '--level', '1', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels, info.format], [80, 60, 3, 'raw']);
    const s = await openSlide(f);
    try {
      const want = await s.readRegion(1450, -5, 1, 80, 60);
      assert.deepEqual(Buffer.from(data), Buffer.from(want.data));
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dzi: a complete Deep Zoom export matching the geometry', async () => {
  const f = await pyramidTiff();
  const dir = mkdtempSync(join(tmpdir(), 'gbx-cli-'));
  try {
    const r = await cli(['dzi', f, dir, '--tile-size', '200', '--overlap', '2', '--quality', '80']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /dzi: \d+\/\d+ tiles \(100%\)/);
    const name = 'pyramid-1500x1100-t256-q90';
    const g = new DeepZoomGeometry(FIXTURE.width, FIXTURE.height, 200, 2);
    assert.equal(readFileSync(join(dir, `${name}.dzi`), 'utf8'), g.xml());
    const levels = readdirSync(join(dir, `${name}_files`)).map(Number).sort((a, b) => a - b);
    assert.deepEqual(levels, g.levels.map((_, i) => i));
    for (const l of levels) {
      const L = g.levels[l];
      assert.equal(readdirSync(join(dir, `${name}_files`, String(l))).length, L.cols * L.rows, `level ${l}`);
      const c = L.cols - 1, rr = L.rows - 1;
      const m = await sharp(join(dir, `${name}_files`, String(l), `${c}_${rr}.jpeg`)).metadata();
      const rect = g.tileRect(l, c, rr);
      assert.deepEqual([m.format, m.width, m.height], ['jpeg', rect.w, rect.h], `level ${l} last tile`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors: non-zero exit and one line naming the problem', async () => {
  oneLineError(await cli(['info', '/definitely/missing.svs']), 'info', /missing\.svs/);
  oneLineError(await cli(['info']), 'info', /SLIDE/);
  const f = await pyramidTiff();
  oneLineError(await cli(['region', f, '--x', '0', '--y', '0', '--w', '10', '--out', '/tmp/x.png']), 'region', /--h/);
  oneLineError(await cli(['region', f, '--x', 'a', '--y', '0', '--w', '10', '--h', '10', '--out', '/tmp/x.png']), 'region', /--x must be an integer/);
  oneLineError(await cli(['region', f, '--x', '0', '--y', '0', '--w', '10', '--h', '10', '--level', '9', '--out', '/tmp/x.png']), 'region', /level 9/);
  oneLineError(await cli(['region', f, '--x', '0', '--y', '0', '--w', '10', '--h', '10', '--out', '/tmp/x.jpg']), 'region', /\.png/);
  oneLineError(await cli(['dzi', f, '/tmp/gbx-never', '--tile-size', '0']), 'dzi', /tile-size/);
  oneLineError(await cli(['dzi', f]), 'dzi', /OUTDIR/);
  oneLineError(await cli(['info', f, '--bogus']), 'info', /bogus/);
  oneLineError(await cli(['serve', '--port', 'x']), 'serve', /--port/);
  const u = await cli(['frobnicate']);
  assert.equal(u.code, 2);
});

test('serve: starts on 127.0.0.1, opens the given slide, stops on SIGINT', async () => {
  const f = await pyramidTiff();
  const child = spawnCli(['serve', '--port', '0', f]);
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20000);
      child.stdout.on('data', (c) => {
        out += c;
        const m = out.match(/serving on (http:\/\/127\.0\.0\.1:\d+)\//);
        if (m && /opened /.test(out)) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    const list = (await (await fetch(`${url}/api/slides`)).json()) as Array<{ name: string }>;
    assert.deepEqual(list.map((s) => s.name), ['pyramid-1500x1100-t256-q90.tif']);
    // the recent list went to the child's throw-away XDG_CONFIG_HOME, never the user's real ~/.config
    const recent = join(CHILD_CONFIG, 'glassbox', 'recent.json');
    assert.ok(existsSync(recent), `serve wrote its recent list under the test's XDG_CONFIG_HOME (${recent})`);
    assert.match(readFileSync(recent, 'utf8'), /pyramid-1500x1100-t256-q90\.tif/);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

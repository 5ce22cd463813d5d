/** CLI review fixes: dzi into an existing export, negative numbers in flags, EPIPE when piped into head. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeepZoomGeometry } from '../../main/engine/tiles/index.js';
import { FIXTURE, pyramidTiff } from '../contract/fixture.js';
import { cli, oneLineError, spawnCli } from './run-cli.js';

const NAME = 'pyramid-1500x1100-t256-q90';


function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

test('dzi into an earlier export: refused without --force; --force replaces only <name>.dzi and <name>_files', async () => {
  const f = await pyramidTiff();
  const dir = mkdtempSync(join(tmpdir(), 'gbx-dzi-'));
  try {
    assert.equal((await cli(['dzi', f, dir, '--tile-size', '64', '-q'])).code, 0);
    const filesDir = join(dir, `${NAME}_files`);
    const before = countFiles(filesDir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    mkdirSync(join(dir, 'other_files'));
    writeFileSync(join(dir, 'other_files', 'x.jpeg'), 'not ours');
    const refused = await cli(['dzi', f, dir, '-q']);
    oneLineError(refused, 'dzi', /already exist.*--force/);
    assert.equal(countFiles(filesDir), before, 'a refused export touches nothing');
    const r = await cli(['dzi', f, dir, '-q', '--force']);
    assert.equal(r.code, 0, r.stderr);
    const g = new DeepZoomGeometry(FIXTURE.width, FIXTURE.height, 254, 1);
    const want = g.levels.reduce((s, l) => s + l.cols * l.rows, 0);
    assert.equal(countFiles(filesDir), want, 'only the new pyramid\'s tiles are left');
    assert.equal(readFileSync(join(dir, `${NAME}.dzi`), 'utf8'), g.xml());
    assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'mine', 'other files in OUTDIR are untouched');
    assert.equal(readFileSync(join(dir, 'other_files', 'x.jpeg'), 'utf8'), 'not ours');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('negative numbers in flags: a validation error naming the flag, not parseArgs\' "ambiguous"', async () => {
  const f = await pyramidTiff();
  const region = (extra: string[]) => cli(['region', f, '--x', '0', '--y', '0', '--w', '10', '--h', '10', '--out', '/tmp/gbx-never.png', ...extra]);
  oneLineError(await region(['--w', '-5']), 'region', /--w must be a positive integer \(got -5\)/);
  oneLineError(await region(['--h', '-1']), 'region', /--h must be a positive integer/);
  oneLineError(await region(['--level', '-2']), 'region', /--level must be a non-negative integer/);
  oneLineError(await region(['--w', '-1.5']), 'region', /--w must be an integer/);
  oneLineError(await cli(['dzi', f, '/tmp/gbx-never', '--tile-size', '-1']), 'dzi', /--tile-size must be a positive integer/);
  oneLineError(await cli(['dzi', f, '/tmp/gbx-never', '--overlap', '-1']), 'dzi', /--overlap must be an integer in 0\.\./);
  oneLineError(await cli(['dzi', f, '/tmp/gbx-never', '--quality', '-80']), 'dzi', /--quality must be a positive integer/);
  for (const r of [await region(['--w', '-5']), await cli(['dzi', f, '/tmp/gbx-never', '--tile-size', '-1'])]) {
    assert.ok(!/ambiguous/.test(r.stderr), r.stderr);
  }
});

test('dzi --tile-size above 4096 is refused (the encode buffers grow with the square of the tile size)', async () => {
  const f = await pyramidTiff();
  oneLineError(await cli(['dzi', f, '/tmp/gbx-never', '--tile-size', '8192']), 'dzi', /--tile-size must be a positive integer ≤ 4096 \(got 8192\)/);
});

test('EPIPE: `glassbox info … | head -1` ends quietly when the reader goes away', async () => {
  const f = await pyramidTiff();
  for (const args of [['info', f], ['info', f, '--json']]) {
    const child = spawnCli(args);
    child.stdout.destroy(); // the reader exits before anything is written
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(err, '', `no stack trace on stderr: ${err}`);
    assert.equal(code, 0);
  }
});

/**
 * Every command's --help; the clear errors a newcomer meets (--out into a missing folder, a folder as --input,
 * --ep webgpu without a GPU); explain --mode for|against|signed against the library's maps; --batch changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExplainer } from '../../main/engine/explain/index.js';
import { mayHaveGpu } from '../../main/engine/explain/session.js';
import { readNpy, writeNpy } from '../../main/engine/explain/npy.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { pyramidTiff } from '../contract/fixture.js';
import { cli, oneLineError } from './run-cli.js';

const PKG = join(REPO_ROOT, 'models', 'tiny-crc-demo');
const dir = mkdtempSync(join(tmpdir(), 'gbx-cli-flags-'));
const INPUT = join(dir, 'x.npy');
const N = 5;
{
  const a = new Float32Array(N * 3 * 112 * 112);
  let s = 11;
  for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; a[i] = (s / 0x7fffffff) * 4 - 2; }
  await writeNpy(INPUT, { data: a, dims: [N, 3, 112, 112] });
}

test('--help on every command: exit 0, usage on stdout, nothing on stderr', async () => {
  const cmds = ['info', 'region', 'dzi', 'serve', 'layers', 'explain', 'analyze'];
  const runs = await Promise.all(cmds.map((c) => cli([c, '--help'])));
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, `${cmds[i]} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`usage: glassbox ${cmds[i]}\\b`), `${cmds[i]} --help prints its usage`);
    assert.equal(r.stderr, '');
  });
  // -h too, and --help wins over other (even invalid) flags
  const r = await cli(['region', 'no-such-slide', '--w', 'x', '-h']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /usage: glassbox region/);
});

test('--out into a missing folder: one line naming the folder, before any work', async () => {
  const f = await pyramidTiff();
  const missing = join(dir, 'no', 'such');
  const r = await cli(['region', f, '--x', '0', '--y', '0', '--w', '8', '--h', '8', '--out', join(missing, 'a.png')]);
  oneLineError(r, 'region', new RegExp(`folder '${missing}' does not exist`));
  const e = await cli(['explain', '--model', PKG, '--input', INPUT, '--out', join(missing, 'm.npy')]);
  oneLineError(e, 'explain', new RegExp(`folder '${missing}' does not exist`));
});

test('a folder as --input is called a folder', async () => {
  const folder = join(dir, 'images');
  mkdirSync(folder, { recursive: true });
  const r = await cli(['explain', '--model', PKG, '--input', folder, '--out', join(dir, 'm.npy')]);
  oneLineError(r, 'explain', /--input '.*images' is a folder/);
  assert.doesNotMatch(r.stderr, /unsupported image format/);
});

test('--ep webgpu without a GPU device: exactly one clean line (no driver noise)', { skip: mayHaveGpu() ? 'this machine has a GPU device node' : false }, async () => {
  const r = await cli(['explain', '--model', PKG, '--input', INPUT, '--ep', 'webgpu', '--out', join(dir, 'w.npy')]);
  oneLineError(r, 'explain', /--ep webgpu: execution provider 'webgpu' is not available: no GPU device/);
  assert.doesNotMatch(r.stderr, /Vulkan|onnxruntime_src|\.cc:\d+/);
});

test('explain --mode for|against|signed writes the library\'s gradcam-for / -against / -signed maps', async () => {
  const { loadModelPackage } = await import('../../main/engine/model/index.js');
  const cfg = (await loadModelPackage(PKG)).config!;
  const ex = await createExplainer(join(PKG, 'model.onnx'), { layer: cfg.target_layer, methods: ['gradcam'], ep: 'cpu' });
  const x = await readNpy(INPUT);
  // a class whose signed map has both signs on this input (so for/against are both exercised)
  let k = 0;
  let lib: Record<string, { data: Float32Array }> = {};
  try {
    for (; k < 8; k++) {
      lib = (await ex.explain(x, { data: Float32Array.from({ length: 8 }, (_, j) => (j === k ? 1 : 0)), dims: [8] })).maps;
      const L = lib['gradcam-signed'].data;
      if (L.some((v) => v < 0) && L.some((v) => v > 0)) break;
    }
  } finally {
    await ex.dispose();
  }
  assert.ok(k < 8, 'some class has a signed map with both signs');
  const out = (m: string) => join(dir, `mode-${m}.npy`);
  const runs = await Promise.all(['for', 'against', 'signed'].map((m) => cli(['explain', '--model', PKG, '--input', INPUT, '--class', String(k), '--mode', m, '--ep', 'cpu', '--out', out(m)])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const [pos, neg, signed] = await Promise.all(['for', 'against', 'signed'].map((m) => readNpy(out(m))));
  assert.deepEqual(pos.data, lib['gradcam-for'].data);
  assert.deepEqual(neg.data, lib['gradcam-against'].data);
  assert.deepEqual(signed.data, lib['gradcam-signed'].data);
  // the signs: for = max(0, L), against = max(0, −L), and both sides occur in this random input
  for (let i = 0; i < signed.data.length; i++) {
    const L = signed.data[i];
    assert.equal(pos.data[i], Math.max(0, L));
    assert.ok(Math.abs(neg.data[i] - Math.max(0, -L)) <= 1e-6 * Math.max(1, Math.abs(L)));
  }
  // --signed is --mode signed; contradictions and methods without the mode are refused
  const bad = await cli(['explain', '--model', PKG, '--input', INPUT, '--signed', '--mode', 'for', '--out', out('x')]);
  oneLineError(bad, 'explain', /--signed contradicts --mode for/);
  const noAgainst = await cli(['explain', '--model', PKG, '--input', INPUT, '--method', 'hirescam', '--mode', 'against', '--out', out('x')]);
  oneLineError(noAgainst, 'explain', /--mode against is only valid with --method gradcam/);
});

test('explain --batch N: the same maps and predictions as one image at a time', async () => {
  const out = (b: string) => join(dir, `batch-${b}.npy`);
  const runs = await Promise.all(['1', '2', '64'].map((b) => cli(['explain', '--model', PKG, '--input', INPUT, '--batch', b, '--ep', 'cpu', '--out', out(b)])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const items = (s: string) => s.split('\n').filter((l) => l.startsWith('item '));
  assert.equal(items(runs[0].stdout).length, N);
  assert.deepEqual(items(runs[1].stdout), items(runs[0].stdout));
  assert.deepEqual(items(runs[2].stdout), items(runs[0].stdout));
  assert.match(runs[1].stdout, /batch 2\b/);
  const [m1, m2, m64] = await Promise.all(['1', '2', '64'].map((b) => readNpy(out(b))));
  assert.deepEqual(m1.dims, [N, 7, 7]);
  assert.deepEqual(m2, m1);
  assert.deepEqual(m64, m1);
  const bad = await cli(['explain', '--model', PKG, '--input', INPUT, '--batch', '0', '--out', out('x')]);
  oneLineError(bad, 'explain', /--batch must be an integer 1\.\.1024/);
});

test('explain start-up cache: a second process reuses the probe and the optimised session; maps unchanged', async () => {
  const cache = join(dir, 'cache');
  const args = (o: string) => ['explain', '--model', PKG, '--input', INPUT, '--class', '1', '--ep', 'cpu', '--out', join(dir, o)];
  const off = await cli(args('off.npy'), { GLASSBOX_EXPLAIN_CACHE: '0', GLASSBOX_CACHE_DIR: cache });
  assert.equal(off.code, 0, off.stderr);
  assert.throws(() => readdirSync(join(cache, 'explain')), 'GLASSBOX_EXPLAIN_CACHE=0 writes nothing');
  const first = await cli(args('first.npy'), { GLASSBOX_CACHE_DIR: cache });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(readdirSync(join(cache, 'explain', 'probe')).length, 1);
  const sessions = readdirSync(join(cache, 'explain', 'sessions'));
  assert.equal(sessions.length, 1, 'one optimised model (the explanation graph)');
  const second = await cli(args('second.npy'), { GLASSBOX_CACHE_DIR: cache });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(readdirSync(join(cache, 'explain', 'sessions')), sessions, 'reused, not rebuilt');
  const [a, b, c] = await Promise.all(['off', 'first', 'second'].map((o) => readNpy(join(dir, `${o}.npy`))));
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
  // another graph (saliency's backward pass reaches the input) is another entry; HiRes-CAM needs the same graph
  // as Grad-CAM (both are computed from A and dS/dA) and shares its entry
  const same = await cli(['explain', '--model', PKG, '--input', INPUT, '--class', '1', '--method', 'hirescam', '--ep', 'cpu', '--out', join(dir, 'h.npy')], { GLASSBOX_CACHE_DIR: cache });
  assert.equal(same.code, 0, same.stderr);
  assert.equal(readdirSync(join(cache, 'explain', 'sessions')).length, 1);
  const other = await cli(['explain', '--model', PKG, '--input', INPUT, '--class', '1', '--method', 'saliency', '--ep', 'cpu', '--out', join(dir, 'h.npy')], { GLASSBOX_CACHE_DIR: cache });
  assert.equal(other.code, 0, other.stderr);
  assert.equal(readdirSync(join(cache, 'explain', 'sessions')).length, 2);
});

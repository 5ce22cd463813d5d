/**
 * `glassbox sanity` and `glassbox faithfulness` as child processes on the shipped demo package tiny-crc-demo:
 * report.json in the shape, the HTML report with its chart, progress on stderr, --help, clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../main/engine/explain/npy.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { rng } from '../helpers/rng.js';
import { main } from '../../app/cli/main.js';
import { spreadInputs } from '../../app/cli/commands/sanity.js';

const BIN = join(REPO_ROOT, 'bin', 'glassbox.mjs');
const PKG = join(REPO_ROOT, 'models', 'tiny-crc-demo');
const dir = mkdtempSync(join(tmpdir(), 'glassbox-trust-cli-'));
const INPUT = join(dir, 'x.npy');
const r = rng(9);
await writeNpy(INPUT, { data: Float32Array.from({ length: 2 * 3 * 112 * 112 }, () => 2 * r() - 1), dims: [2, 3, 112, 112] });

function glassbox(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('sanity: report.json as the issue specifies, HTML with the chart, progress on stderr', async () => {
  const out = join(dir, 'report.json'), html = join(dir, 'report.html');
  const res = await glassbox('sanity', '--model', PKG, '--input', INPUT, '--class', 'STROMA', '--mode', 'independent', '--seed', '2', '--blocks', '3', '--ep', 'cpu', '--out', out, '--html', html);
  assert.equal(res.code, 0, res.stderr);
  const rep = JSON.parse(readFileSync(out, 'utf8'));
  for (const k of ['model', 'layer', 'method', 'mode', 'seed', 'layers']) assert.ok(k in rep, k);
  assert.deepEqual([rep.model, rep.method, rep.mode, rep.seed], ['tiny-crc-demo', 'gradcam', 'independent', 2]);
  assert.deepEqual(rep.layers.map((l: { name: string }) => l.name), ['head', 'features/features.21', 'features/features.18']);
  for (const l of rep.layers) for (const m of ['spearman', 'spearman_abs', 'ssim', 'hog']) {
    assert.equal(l[m].per_input.length, 2);
    assert.ok('mean' in l[m]);
  }
  assert.deepEqual(rep.classes.map((c: { name: string }) => c.name), ['STROMA', 'STROMA']);
  assert.match(res.stdout, /blocks \(logits → input\): head, features\/features\.21, /);
  assert.match(res.stdout, /^verdict: .*\(thresholds: mean Spearman < 0\.3/m);
  assert.match(res.stderr, /1\/3 randomizing features\/features\.21/);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<svg[^>]*>.*<polyline/s);
  assert.ok(!/<script(?! type="application\/json")/.test(page) && !/src="http/.test(page), 'self-contained, no scripts');
  assert.ok(page.includes(rep.verdict.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')));
});

test('faithfulness: several methods, curves and AUCs in report.json', async () => {
  const out = join(dir, 'faith.json');
  const res = await glassbox('faithfulness', '--model', PKG, '--input', INPUT, '--method', 'gradcam,eigencam', '--steps', '5', '--baseline', 'mean', '--ep', 'cpu', '--out', out);
  assert.equal(res.code, 0, res.stderr);
  const rep = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(rep.methods.map((m: { method: string }) => m.method), ['gradcam', 'eigencam', 'random']);
  assert.deepEqual(rep.x, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  for (const m of rep.methods) {
    assert.equal(m.deletion.mean.length, 6);
    assert.equal(m.insertion.auc.per_input.length, 2);
  }
  assert.match(res.stdout, /^gradcam\s+7×7\s+\d\.\d{3}\s+\d\.\d{3}$/m);
});

/** in-process (no child start-up per case): main() prints one error line like the binary */
async function inProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const code = await main(args, { out: (s) => { stdout += s + '\n'; }, err: (s) => { stderr += s + '\n'; } });
  return { code, stdout, stderr };
}

test('--help and clear errors before any computing', async () => {
  for (const cmd of ['sanity', 'faithfulness']) {
    const h = await inProcess(cmd, '--help');
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`^usage: glassbox ${cmd} --model M --input X`));
  }
  const cases: Array<[string[], RegExp]> = [
    [['sanity', '--model', PKG, '--input', INPUT, '--mode', 'sideways'], /--mode 'sideways' is not one of cascading, independent/],
    [['sanity', '--model', PKG, '--input', INPUT, '--method', 'magic'], /--method 'magic' is not one of gradcam/],
    [['sanity', '--model', PKG, '--input', INPUT, '--seed', 'x'], /--seed 'x' must be an integer/],
    [['sanity', '--model', PKG, '--input', INPUT, '--out', join(dir, 'nope', 'r.json')], /folder .* does not exist/],
    [['sanity', '--model', PKG, '--input', INPUT, '--class', 'KIDNEY'], /--class: /],
    [['sanity', '--model', PKG], /--input is required/],
    [['faithfulness', '--model', PKG, '--input', INPUT], /--out is required/],
    [['faithfulness', '--model', PKG, '--input', INPUT, '--steps', '1', '--out', join(dir, 'f.json')], /--steps '1' must be an integer 2…1000/],
    [['faithfulness', '--model', PKG, '--input', INPUT, '--baseline', 'mean', '--sigma', '2', '--out', join(dir, 'f.json')], /--sigma is only valid with --baseline blur/],
    [['sanity', '--model', PKG, '--input', INPUT, '--layer', 'nope'], /--layer: /],
  ];
  for (const [args, re] of cases) {
    const res = await inProcess(...args);
    assert.notEqual(res.code, 0, args.join(' '));
    assert.match(res.stderr, re, args.join(' '));
    assert.equal(res.stderr.trim().split('\n').length, 1, `one error line: ${res.stderr}`);
  }
  assert.ok(!existsSync(join(dir, 'f.json')));
  // a shell glob after --input: every file is an input
  assert.deepEqual(spreadInputs(['--input', 'a.png', 'b.png', '--mode', 'x', '--input', 'c.png']), ['--input', 'a.png', '--input', 'b.png', '--mode', 'x', '--input', 'c.png']);
});

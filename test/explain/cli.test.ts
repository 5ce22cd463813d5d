/**
 * `glassbox layers` / `glassbox explain` as child processes (bin/glassbox.mjs) on the shipped demo package
 * models/tiny-crc-demo (input 3×112×112, 8 classes, target = last ReLU, 64×7×7, stride 16).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExplainer } from '../../main/engine/explain/index.js';
import { readNpy, writeNpy } from '../../main/engine/explain/npy.js';
import { REPO_ROOT, SHARED_PATCHES, SKIP_NO_PATCHES } from '../helpers/paths.js';

const BIN = join(REPO_ROOT, 'bin', 'glassbox.mjs');
const PKG = join(REPO_ROOT, 'models', 'tiny-crc-demo');
const CONFIG = JSON.parse(readFileSync(join(PKG, 'config.json'), 'utf8')) as { class_names: string[]; target_layer: string };
const dir = mkdtempSync(join(tmpdir(), 'glassbox-cli-'));

interface Run { code: number; stdout: string; stderr: string }
function glassbox(...args: string[]): Promise<Run> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; a[i] = (s / 0x7fffffff) * 4 - 2; }
  return a;
}
const INPUT = join(dir, 'x.npy');
await writeNpy(INPUT, { data: rand(3 * 3 * 112 * 112, 7), dims: [3, 3, 112, 112] });

test('layers: table with the default marked, and --json', async () => {
  const [t, j] = await Promise.all([glassbox('layers', '--model', PKG), glassbox('layers', '--model', PKG, '--json')]);
  assert.equal(t.code, 0, t.stderr);
  const star = t.stdout.split('\n').filter((l) => l.startsWith('*'));
  assert.equal(star.length, 1, t.stdout);
  assert.ok(star[0].includes(CONFIG.target_layer) && star[0].includes('64×7×7') && /\b16$/.test(star[0]), star[0]);
  assert.match(t.stdout, /candidate layer\(s\)/);
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { default: string; layers: { name: string; stride: number; channels: number; isDefault: boolean }[] };
  assert.equal(parsed.default, CONFIG.target_layer);
  assert.ok(parsed.layers.length >= 4, 'several candidates');
  const d = parsed.layers.find((l) => l.name === CONFIG.target_layer);
  assert.ok(d && d.stride === 16 && d.channels === 64);
  // the first block's conv output has stride 2
  assert.ok(parsed.layers.some((l) => l.stride === 2));
});

test('explain: .npy batch used as given → (N, h, w) map, predictions, layer, stride, EP printed', async () => {
  const out = join(dir, 'm.npy');
  const r = await glassbox('explain', '--model', PKG, '--input', INPUT, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const m = await readNpy(out);
  assert.deepEqual(m.dims, [3, 7, 7]);
  assert.ok(m.data.every((v) => v >= 0 && Number.isFinite(v)), 'ReLU\'d Grad-CAM is ≥ 0');
  for (let i = 0; i < 3; i++) assert.match(r.stdout, new RegExp(`item ${i}: predicted \\d '(${CONFIG.class_names.join('|')})', logit -?\\d+\\.\\d+`));
  assert.match(r.stdout, new RegExp(`layer: ${CONFIG.target_layer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(Relu, 64×7×7\\), stride 16`));
  assert.match(r.stdout, /execution provider: cpu/);
  assert.match(r.stdout, /target: each item's predicted class/);
});

test('explain: --class by name, --contrast, --signed, other methods, saliency at input size', async () => {
  const o = (n: string) => join(dir, `${n}.npy`);
  const runs = await Promise.all([
    glassbox('explain', '--model', PKG, '--input', INPUT, '--class', 'LYMPHO', '--out', o('cls')),
    glassbox('explain', '--model', PKG, '--input', INPUT, '--class', '3', '--signed', '--out', o('signed')),
    glassbox('explain', '--model', PKG, '--input', INPUT, '--contrast', 'TUMOR,STROMA', '--method', 'hirescam', '--out', o('contrast')),
    glassbox('explain', '--model', PKG, '--input', INPUT, '--method', 'saliency', '--ep', 'cpu', '--out', o('sal')),
  ]);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.match(runs[0].stdout, /target: class 3 'LYMPHO'/);
  assert.match(runs[2].stdout, /target: contrast 0 'TUMOR' rather than 1 'STROMA'/);
  const cls = await readNpy(o('cls'));
  const signed = await readNpy(o('signed'));
  assert.deepEqual(signed.dims, [3, 7, 7]);
  // ReLU'd map = max(0, signed map) for the same class and input
  for (let i = 0; i < cls.data.length; i++) assert.ok(Math.abs(cls.data[i] - Math.max(0, signed.data[i])) <= 1e-5 * (1 + Math.abs(cls.data[i])));
  // the signed map itself against its formula, L = Σ_k mean_uv(∂S/∂A^k) · A^k, evaluated here in float64 from the
  // library's A and ∂S/∂A for the same model, layer, input and class (one-hot seed at class 3)
  const x = await readNpy(INPUT);
  const ex = await createExplainer(join(PKG, 'model.onnx'), { layer: CONFIG.target_layer, methods: ['gradcam'], ep: 'cpu', keepTensors: true });
  try {
    const seed = new Float32Array(CONFIG.class_names.length);
    seed[3] = 1;
    const { activations: A, gradients: G } = await ex.explain(x, { data: seed, dims: [seed.length] });
    const [N, K, h, w] = A!.dims, P = h * w;
    let worst = 0, negatives = 0;
    for (let n = 0; n < N; n++) {
      for (let p = 0; p < P; p++) {
        let L = 0, terms = 0;
        for (let k = 0; k < K; k++) {
          const base = (n * K + k) * P;
          let mean = 0;
          for (let q = 0; q < P; q++) mean += G!.data[base + q] / P;
          L += mean * A!.data[base + p];
          terms += Math.abs(mean * A!.data[base + p]);
        }
        const got = signed.data[n * P + p];
        worst = Math.max(worst, Math.abs(got - L) / Math.max(terms, 1e-30));
        if (got < 0) negatives++;
        // where the ReLU'd map is 0 the signed map holds the (negative) evidence against the class
        if (cls.data[n * P + p] === 0) assert.ok(got <= 0, `cell ${n},${p}: ReLU'd map 0 but signed map ${got} > 0`);
      }
    }
    assert.ok(worst <= 1e-6, `--signed map vs Σ_k α_k A^k: ${worst} of Σ_k|α_k A^k|`);
    assert.equal(negatives, cls.data.filter((v) => v === 0).length, 'negative signed cells = zero cells of the ReLU\'d map');
  } finally { await ex.dispose(); }
  assert.deepEqual((await readNpy(o('contrast'))).dims, [3, 7, 7]);
  const sal = await readNpy(o('sal'));
  assert.deepEqual(sal.dims, [3, 112, 112]);
  assert.match(runs[3].stdout, /saliency/);
});

test('explain/layers: bad flags → exit ≠ 0 and one stderr line naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['explain', '--input', INPUT, '--out', join(dir, 'e.npy')], /--model is required/],
    [['explain', '--model', PKG, '--out', join(dir, 'e.npy')], /--input is required/],
    [['explain', '--model', PKG, '--input', INPUT], /--out is required/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.txt')], /--out '.*e\.txt' must end in \.npy/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--method', 'gradcam+++'], /--method 'gradcam\+\+\+' is not one of/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--method', 'hirescam', '--signed'], /--signed is only valid with --method gradcam/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--ep', 'tpu'], /--ep 'tpu' is not one of/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--class', '8'], /--class: class index 8 out of range/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--class', 'BONE'], /--class: unknown class 'BONE'/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--contrast', 'TUMOR'], /--contrast 'TUMOR' must be two classes/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--class', '1', '--contrast', '1,2'], /--class and --contrast are mutually exclusive/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--layer', 'no.such.layer'], /--layer: .*no\.such\.layer/],
    [['explain', '--model', join(dir, 'missing.onnx'), '--input', INPUT, '--out', join(dir, 'e.npy')], /--model: model '.*missing\.onnx' not found/],
    [['explain', '--model', PKG, '--input', join(REPO_ROOT, 'package.json'), '--out', join(dir, 'e.npy')], /--input: .*package\.json: cannot decode image/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--bogus'], /Unknown option '--bogus'/],
    [['layers'], /--model is required/],
    [['layers', '--model', PKG, '--out', 'x'], /Unknown option '--out'/],
  ];
  const wrong = join(dir, 'wrong.npy');
  await writeNpy(wrong, { data: new Float32Array(2 * 3 * 64 * 64), dims: [2, 3, 64, 64] });
  // the model's input shape is known only once the explainer exists: --ep cpu, because where 'auto' probes WebGPU the
  // native Dawn library may print its own lines to stderr (not ours)
  cases.push([['explain', '--model', PKG, '--ep', 'cpu', '--input', wrong, '--out', join(dir, 'e.npy')], /--input: .*wrong\.npy has dims \(2, 3, 64, 64\); the model expects an NCHW tensor \(N, 3, 112, 112\)/]);
  // a forced provider that is not installed (the CUDA provider library is not downloaded here: see .npmrc)
  const cudaLib = join(REPO_ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(cudaLib)) cases.push([['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'e.npy'), '--ep', 'cuda'], /--ep cuda: .*not available/]);
  // run in small groups (2 cores shared)
  for (let i = 0; i < cases.length; i += 4) {
    const group = cases.slice(i, i + 4);
    const results = await Promise.all(group.map(([args]) => glassbox(...args)));
    results.forEach((r, k) => {
      const [args, re] = group[k];
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: one stderr line, got:\n${r.stderr}`);
      assert.match(lines[0], new RegExp(`^glassbox ${args[0]}: `));
      assert.match(lines[0], re, args.join(' '));
    });
  }
});

test('explain: the 24 Kather patches through the demo package predict their own classes (it memorised them)', { skip: SKIP_NO_PATCHES }, async () => {
  const root = join(SHARED_PATCHES, 'kather2016-texture');
  const files: string[] = [];
  const truth: string[] = [];
  for (const cls of readdirSync(root).sort()) {
    for (const f of readdirSync(join(root, cls)).sort()) {
      files.push(join(root, cls, f));
      truth.push(cls.replace(/^\d+_/, ''));
    }
  }
  assert.equal(files.length, 24);
  const out = join(dir, 'kather.npy');
  const r = await glassbox('explain', '--model', 'tiny-crc-demo', ...files.flatMap((f) => ['--input', f]), '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await readNpy(out)).dims.join(','), '24,7,7');
  const pred = [...r.stdout.matchAll(/^item (\d+): predicted \d+ '(\w+)'/gm)].map((m) => m[2]);
  assert.equal(pred.length, 24);
  const correct = pred.filter((p, i) => p === truth[i]).length;
  assert.equal(correct, 24, `predictions ${pred.join(',')}`);
});

test('explain: an image with a bare .onnx is resized to the model input and says so on stderr', { skip: SKIP_NO_PATCHES }, async () => {
  const cls = join(SHARED_PATCHES, 'kather2016-texture', '07_ADIPOSE');
  const img = join(cls, readdirSync(cls).sort()[0]);
  const out = join(dir, 'bare.npy');
  const r = await glassbox('explain', '--model', join(PKG, 'model.onnx'), '--input', img, '--class', '6', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /bare \.onnx model \(no config\.json\): image resized to 112×112, scaled to \[0, 1\], not normalised/);
  assert.match(r.stdout, /target: class 6\b/);
  assert.match(r.stdout, /item 0: predicted \d, logit/); // no class names for a bare .onnx
  assert.deepEqual((await readNpy(out)).dims, [1, 7, 7]);
});

test('explain/layers: input, package and flag problems found before computing, each with a clear one-line error', async () => {
  const { copyFileSync, mkdirSync, writeFileSync: wf } = await import('node:fs');
  const pkgWith = (name: string, patch: Record<string, unknown>) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    copyFileSync(join(PKG, 'model.onnx'), join(d, 'model.onnx'));
    wf(join(d, 'config.json'), JSON.stringify({ ...CONFIG, ...patch }));
    return d;
  };
  const five = pkgWith('five', { num_classes: 5, class_names: CONFIG.class_names.slice(0, 5) });
  const badLayer = pkgWith('badlayer', { target_layer: 'no.such.tensor' });
  const nan = join(dir, 'nan.npy');
  const x = rand(2 * 3 * 112 * 112, 3);
  x[1 * 3 * 112 * 112 + 2 * 112 * 112 + 5 * 112 + 7] = NaN;
  await writeNpy(nan, { data: x, dims: [2, 3, 112, 112] });
  const inf = join(dir, 'inf.npy');
  await writeNpy(inf, { data: new Float32Array(3 * 112 * 112).fill(Infinity), dims: [1, 3, 112, 112] });
  const broken = join(dir, 'broken.onnx');
  wf(broken, new Uint8Array(2000).fill(7));
  const e = join(dir, 'e.npy');
  const cases: [string[], RegExp][] = [
    [['explain', '--model', PKG, '--input', nan, '--out', e], /--input: .*nan\.npy holds a non-finite value \(NaN\) at index \(1, 2, 5, 7\)/],
    [['explain', '--model', PKG, '--input', inf, '--out', e], /non-finite value \(Infinity\) at index \(0, 0, 0, 0\)/],
    [['explain', '--model', five, '--ep', 'cpu', '--input', INPUT, '--out', e], /num_classes is 5 but the model .*model\.onnx outputs 8 logits/],
    [['explain', '--model', PKG, '--input', INPUT, '--class', '-1', '--out', e], /--class: class index -1 is negative: the model has 8 classes \(0\.\.7\)/],
    [['explain', '--model', PKG, '--input', INPUT, '--contrast', '-2,1', '--out', e], /--contrast: class index -2 is negative/],
    [['explain', '--model', badLayer, '--ep', 'cpu', '--input', INPUT, '--out', e], /badlayer\/config\.json target_layer: tensor 'no\.such\.tensor' not found/],
    [['explain', '--model', PKG, '--input', INPUT, '--out', join(dir, 'no', 'such', 'folder', 'm.npy')], /--out '.*m\.npy': folder '.*no\/such\/folder' does not exist/],
    [['layers', '--model', broken], /broken\.onnx/],
  ];
  for (let i = 0; i < cases.length; i += 4) {
    const group = cases.slice(i, i + 4);
    const results = await Promise.all(group.map(([args]) => glassbox(...args)));
    results.forEach((r, k) => {
      const [args, re] = group[k];
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: one stderr line, got:\n${r.stderr}`);
      assert.match(lines[0], re, args.join(' '));
      assert.doesNotMatch(lines[0], /ambiguous|ENOENT|bytes in memory|--layer/, args.join(' '));
    });
  }
  assert.ok(!existsSync(e), 'nothing written');
});

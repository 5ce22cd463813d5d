/**
 * models/tools/export_package.py: a torchvision classifier and a WSInfer-layout TorchScript model become Glassbox
 * packages that loadModelPackage and createExplainer accept; the engine's logits match PyTorch's (written by the
 * script as .npy), and config.target_layer / stride name a layer whose stride the engine measures the same and the
 * architecture says it must be (ResNet-18: layer4 = 32, layer3 = 16). Bad options fail with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExplainer, type Tensor } from '../../main/engine/explain/index.js';
import { readNpy } from '../../main/engine/explain/npy.js';
import { loadModelPackage, checkPackageAgainstModel } from '../../main/engine/model/index.js';
import { PYTHON, REPO_ROOT } from '../helpers/paths.js';

const SCRIPT = join(REPO_ROOT, 'models', 'tools', 'export_package.py');
const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8' });
const SKIP_NO_TORCH = probe.status === 0 ? false : `${PYTHON} cannot import torch/torchvision/onnx: export tool tests skipped`;
const dir = mkdtempSync(join(tmpdir(), 'glassbox-export-'));

function run(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', cwd: opts.cwd ?? dir, env: { ...process.env, OMP_NUM_THREADS: '2' }, timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** the package through the engine: logits against PyTorch's reference, the target layer's stride */
async function checkPackage(pkgDir: string, refDir: string, expect: { stride: number; classes: string[]; inputSize: number; layerIsDefault: boolean }) {
  const pkg = await loadModelPackage(pkgDir);
  const cfg = pkg.config!;
  assert.deepEqual(cfg.class_names, expect.classes);
  assert.equal(cfg.stride, expect.stride, 'config.stride');
  assert.ok(cfg.target_layer, 'config.target_layer is set');
  const ex = await createExplainer(pkg.modelPath, { layer: cfg.target_layer, methods: ['gradcam'], ep: 'cpu' });
  try {
    checkPackageAgainstModel(pkg, ex.numClasses);
    assert.deepEqual(ex.inputShape, [3, expect.inputSize, expect.inputSize], 'static spatial size = patch after Resize');
    assert.equal(ex.layer.name, cfg.target_layer);
    assert.equal(ex.layer.stride, expect.stride, `engine's stride of ${cfg.target_layer}`);
    assert.equal(ex.layer.isDefault, expect.layerIsDefault, 'whether the target is the engine default (last activation before pooling)');
    const x = await readNpy(join(refDir, 'input.npy'));
    const want = await readNpy(join(refDir, 'logits.npy'));
    assert.equal(x.dims[0], 2, 'a batch of 2: the batch axis is dynamic');
    const input: Tensor = { data: Float32Array.from(x.data), dims: x.dims };
    const seed: Tensor = { data: Float32Array.from(cfg.class_names, (_, i) => (i === 0 ? 1 : 0)), dims: [cfg.num_classes] };
    const out = await ex.explain(input, seed);
    assert.deepEqual(out.logits.dims, want.dims);
    let maxRef = 0, maxDiff = 0;
    for (let i = 0; i < want.data.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(Number(want.data[i])));
      maxDiff = Math.max(maxDiff, Math.abs(out.logits.data[i] - Number(want.data[i])));
    }
    // float32 vs float32 on different kernels: far below 1e-4 of the logits' scale; a wrong export misses by O(1)
    assert.ok(maxDiff <= 1e-4 * Math.max(1, maxRef), `engine logits vs PyTorch: max |diff| ${maxDiff} (max |logit| ${maxRef})`);
    const cam = out.maps.gradcam;
    assert.deepEqual(cam.dims, [2, expect.inputSize / expect.stride, expect.inputSize / expect.stride], 'map size = input / stride');
  } finally { await ex.dispose(); }
}

test('torchvision resnet18 (3 classes, random weights) → package; engine logits = PyTorch logits; layer4 stride 32', { skip: SKIP_NO_TORCH, timeout: 300_000 }, async () => {
  const out = join(dir, 'tv'), ref = join(dir, 'tv-ref');
  const r = run([SCRIPT, '--torchvision', 'resnet18', '--class-names', 'tumor,stroma,other', '--patch-size', '96', '--spacing', '0.5',
    '--seed', '3', '--out', out, '--reference', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /logits match PyTorch/);
  await checkPackage(out, ref, { stride: 32, classes: ['tumor', 'stroma', 'other'], inputSize: 96, layerIsDefault: true });
});

test('WSInfer layout (traced TorchScript + config.json with Resize) → package keeps the config; layer3 stride 16', { skip: SKIP_NO_TORCH, timeout: 300_000 }, async () => {
  const ws = join(dir, 'wsinfer');
  mkdirSync(ws);
  const wsConfig = {
    spec_version: '1.0', architecture: 'resnet18', num_classes: 2, class_names: ['Other', 'Tumor'],
    patch_size_pixels: 128, spacing_um_px: 0.5,
    transform: [
      { name: 'Resize', arguments: { size: 64 } },
      { name: 'ToTensor' },
      { name: 'Normalize', arguments: { mean: [0.7, 0.6, 0.7], std: [0.2, 0.2, 0.2] } },
    ],
  };
  writeFileSync(join(ws, 'config.json'), JSON.stringify(wsConfig));
  // a WSInfer zoo model is a TorchScript file: trace a resnet18 with its BN statistics moved off their defaults
  const make = `
import sys, torch, torchvision
torch.manual_seed(7); torch.set_num_threads(2)
m = torchvision.models.resnet18(num_classes=2)
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.1, 0.1); mod.running_var.uniform_(0.5, 1.5)
torch.jit.trace(m.eval(), torch.zeros(1, 3, 64, 64)).save(sys.argv[1])
sys.argv = ['export_package.py', '--wsinfer', sys.argv[2], '--target-layer', 'layer3', '--out', sys.argv[3], '--reference', sys.argv[4]]
sys.path.insert(0, ${JSON.stringify(join(REPO_ROOT, 'models', 'tools'))})
import export_package
sys.exit(export_package.main())
`;
  const out = join(dir, 'ws-pkg'), ref = join(dir, 'ws-ref');
  const r = run(['-c', make, join(ws, 'torchscript_model.pt'), ws, out, ref]);
  assert.equal(r.status, 0, r.stderr);
  const pkg = await loadModelPackage(out);
  for (const k of Object.keys(wsConfig) as (keyof typeof wsConfig)[]) assert.deepEqual(pkg.config![k], wsConfig[k], `WSInfer field ${k} kept`);
  assert.equal(pkg.config!.model_path, 'model.onnx');
  await checkPackage(out, ref, { stride: 16, classes: ['Other', 'Tumor'], inputSize: 64, layerIsDefault: false });
});

test('export_package.py refuses bad options with one line', { skip: SKIP_NO_TORCH, timeout: 60_000 }, () => {
  const noModel = join(dir, 'config-only');
  mkdirSync(noModel);
  writeFileSync(join(noModel, 'config.json'), '{}');
  const cases: [string[], RegExp][] = [
    [['--torchvision', 'resnet18', '--num-classes', '3', '--class-names', 'a,b', '--patch-size', '64', '--spacing', '0.5'], /--class-names has 2 names but --num-classes is 3/],
    [['--torchvision', 'resnet18', '--num-classes', '3'], /--patch-size and --spacing are required/],
    [['--torchvision', 'resnet18', '--num-classes', '2', '--patch-size', '64', '--spacing', '0.5', '--std', '0.2,0,0.2'], /--std must not contain 0/],
    [['--wsinfer', join(dir, 'nowhere')], /no config\.json/],
    [['--wsinfer', noModel], /no torchscript_model\.pt beside config\.json/],
  ];
  for (const [args, re] of cases) {
    const r = run([SCRIPT, ...args, '--out', join(dir, 'bad')]);
    assert.equal(r.status, 1, `${args.join(' ')}: exit status`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

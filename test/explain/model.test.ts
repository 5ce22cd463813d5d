import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  parseModelConfig, loadModelPackage, listModelPackages, resolveClass, applyTransforms, decodeRgb, resizedSize,
  preprocessImage, bareTransforms, stackBatch, ModelPackageError, checkPackageAgainstModel,
} from '../../main/engine/model/index.js';
import { readNpy } from '../../main/engine/explain/npy.js';
import { PYTHON, REPO_ROOT, SHARED_PATCHES, SKIP_NO_PATCHES } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-model-'));

const good = () => ({
  spec_version: '1.0',
  architecture: 'resnet18',
  num_classes: 3,
  class_names: ['tumor', 'stroma', 'fat'],
  patch_size_pixels: 150,
  spacing_um_px: 0.495,
  transform: [
    { name: 'Resize', arguments: { size: 64 } },
    { name: 'ToTensor' },
    { name: 'Normalize', arguments: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } },
  ],
});

test('a WSInfer spec-1.0 config loads unchanged, with our optional fields beside it', () => {
  const c = parseModelConfig(good());
  assert.equal(c.num_classes, 3);
  const ours = parseModelConfig({ ...good(), target_layer: 'layer4', stride: 32, description: 'x', model_path: 'm.onnx', extra_field: 1 });
  assert.equal(ours.target_layer, 'layer4');
  assert.equal(ours.stride, 32);
});

test('config validation errors name the file and the field', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...good(), spec_version: '2.0' }, /spec_version/],
    [{ ...good(), class_names: ['a', 'b'] }, /class_names: has 2 names but num_classes is 3/],
    [{ ...good(), class_names: ['a', 'a', 'b'] }, /class_names: duplicate class name 'a'/],
    [{ ...good(), num_classes: 0 }, /num_classes/],
    [{ ...good(), num_classes: 2.5 }, /num_classes/],
    [{ ...good(), spacing_um_px: -1 }, /spacing_um_px/],
    [{ ...good(), patch_size_pixels: '150' }, /patch_size_pixels/],
    [(() => { const g: Record<string, unknown> = good(); delete g.architecture; return g; })(), /architecture/],
    [{ ...good(), transform: [{ name: 'Blur', arguments: {} }, { name: 'ToTensor' }] }, /transform\[0\]/],
    [{ ...good(), transform: [{ name: 'ToTensor' }, { name: 'Normalize', arguments: { mean: [0, 0], std: [1, 1, 1] } }] }, /transform\[1\]\.arguments\.mean/],
    [{ ...good(), transform: [{ name: 'ToTensor' }, { name: 'Normalize', arguments: { mean: [0, 0, 0], std: [1, 0, 1] } }] }, /transform\[1\]\.arguments\.std: std must not contain 0/],
    [{ ...good(), transform: [{ name: 'Resize', arguments: { size: 64, interpolation: 'bicubic' } }, { name: 'ToTensor' }] }, /transform\[0\]\.arguments\.interpolation/],
    [{ ...good(), transform: [{ name: 'ToTensor' }, { name: 'Resize', arguments: { size: 64 } }] }, /transform\[1\]: Resize after ToTensor/],
    [{ ...good(), transform: [{ name: 'Normalize', arguments: { mean: [0, 0, 0], std: [1, 1, 1] } }, { name: 'ToTensor' }] }, /transform\[0\]: Normalize before ToTensor/],
    [{ ...good(), transform: [{ name: 'Resize', arguments: { size: 64 } }] }, /transform: needs a ToTensor step/],
    [{ ...good(), model_path: '../x.onnx' }, /model_path: must be a path inside the package folder/],
    [{ ...good(), stride: 0 }, /stride/],
  ];
  for (const [cfg, re] of bad) {
    assert.throws(() => parseModelConfig(cfg, '/x/config.json'), (e: unknown) => e instanceof ModelPackageError && e.message.startsWith('/x/config.json: invalid model config') && re.test(e.message), `${re}`);
  }
});

test('loadModelPackage: folder, config.json, bare .onnx and the errors', async () => {
  const pkg = join(dir, 'pkg');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'config.json'), JSON.stringify(good()));
  await assert.rejects(loadModelPackage(pkg), /model file 'model.onnx' not found/);
  writeFileSync(join(pkg, 'model.onnx'), 'not really onnx, the loader does not parse it');
  writeFileSync(join(pkg, 'MODEL_CARD.md'), '# card');
  const a = await loadModelPackage(pkg);
  assert.equal(a.id, 'pkg');
  assert.equal(a.modelPath, join(pkg, 'model.onnx'));
  assert.equal(a.config?.class_names[2], 'fat');
  assert.equal(a.modelCardPath, join(pkg, 'MODEL_CARD.md'));
  const b = await loadModelPackage(join(pkg, 'config.json'));
  assert.equal(b.modelPath, a.modelPath);
  const c = await loadModelPackage(join(pkg, 'model.onnx'));
  assert.equal(c.config, null);
  assert.equal(c.id, 'model');
  await assert.rejects(loadModelPackage(join(dir, 'nope')), /model '.*nope' not found/);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'm.onnx'), '');
  await assert.rejects(loadModelPackage(empty), /has no config\.json \(it holds m\.onnx/);
  const broken = join(dir, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'config.json'), '{"spec_version": "1.0",');
  await assert.rejects(loadModelPackage(broken), /broken\/config\.json: not valid JSON/);
  writeFileSync(join(dir, 'x.txt'), '');
  await assert.rejects(loadModelPackage(join(dir, 'x.txt')), /neither an \.onnx file/);
  const listed = await listModelPackages(dir);
  assert.deepEqual(listed.packages.map((p) => p.id), ['pkg']);
  assert.equal(listed.errors.length, 1);
  assert.match(listed.errors[0], /broken/);
});

test('resolveClass by index, name, case-insensitive name; clear errors', () => {
  const names = ['TUMOR', 'STROMA', 'Fat'];
  assert.equal(resolveClass('1', 3, names), 1);
  assert.equal(resolveClass('STROMA', 3, names), 1);
  assert.equal(resolveClass('fat', 3, names), 2);
  assert.equal(resolveClass('2', 3, null), 2);
  assert.throws(() => resolveClass('3', 3, names), /class index 3 out of range: the model has 3 classes \(0\.\.2\)/);
  assert.throws(() => resolveClass('bone', 3, names), /unknown class 'bone': expected an index 0\.\.2 or one of 'TUMOR', 'STROMA', 'Fat'/);
  assert.throws(() => resolveClass('TUMOR', 3, null), /no class names/);
});

test('torchvision Resize output size (int = shorter side, [h, w] exact, max_size)', () => {
  assert.deepEqual(resizedSize(100, 200, 50), [50, 100]);
  assert.deepEqual(resizedSize(200, 100, 50), [100, 50]);
  assert.deepEqual(resizedSize(150, 150, [224]), [224, 224]);
  assert.deepEqual(resizedSize(23, 37, 16), [16, 25]); // int(16 * 37 / 23) = 25
  assert.deepEqual(resizedSize(100, 200, [30, 40]), [30, 40]);
  assert.deepEqual(resizedSize(100, 300, 50, 120), [40, 120]);
});

test('ToTensor + Normalize by hand on a 2×1 image', () => {
  const img = { data: Uint8Array.from([0, 128, 255, 51, 102, 204]), width: 2, height: 1 };
  const t = applyTransforms(img, [{ name: 'ToTensor' }, { name: 'Normalize', arguments: { mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] } }]);
  assert.deepEqual(t.dims, [1, 3, 1, 2]);
  const expect = [(0 / 255 - 0.5) / 0.5, (51 / 255 - 0.5) / 0.5, (128 / 255 - 0.25) / 0.25, (102 / 255 - 0.25) / 0.25, 255 / 255 / 2, 204 / 255 / 2];
  t.data.forEach((v, i) => assert.ok(Math.abs(v - expect[i]) < 1e-6, `${i}: ${v} vs ${expect[i]}`));
});

const haveTorchvision = spawnSync(PYTHON, ['-c', 'import torchvision, PIL, numpy'], { stdio: 'ignore' }).status === 0;
const SKIP_NO_TV = haveTorchvision ? false : `${PYTHON} with torchvision/PIL not available: torchvision comparison skipped`;

test('transforms equal torchvision on PIL images (shrink, enlarge, [h, w], odd sizes)', { skip: SKIP_NO_TV }, async () => {
  // a random 37×23 RGB PNG written by sharp, read by both sides
  const w = 37, h = 23;
  const rgb = Buffer.alloc(w * h * 3);
  let s = 12345;
  for (let i = 0; i < rgb.length; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; rgb[i] = s & 0xff; }
  const png = join(dir, 'tiny.png');
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(png);
  const cases = {
    shrink: [{ name: 'Resize', arguments: { size: 16 } }, { name: 'ToTensor' }, { name: 'Normalize', arguments: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } }],
    enlarge: [{ name: 'Resize', arguments: { size: 50 } }, { name: 'ToTensor' }],
    exact: [{ name: 'Resize', arguments: { size: [10, 29] } }, { name: 'ToTensor' }, { name: 'Normalize', arguments: { mean: [0.1, 0.2, 0.3], std: [0.7, 0.8, 0.9] } }],
    none: [{ name: 'ToTensor' }],
  } as const;
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
  execFileSync(PYTHON, ['-W', 'ignore', '-c', `
import json, sys, numpy as np
from PIL import Image
import torchvision.transforms as T
d = sys.argv[1]
img = Image.open(d + '/tiny.png').convert('RGB')
for name, steps in json.load(open(d + '/cases.json')).items():
    ts = [getattr(T, s['name'])(**s.get('arguments', {})) for s in steps]
    np.save('%s/tv-%s.npy' % (d, name), T.Compose(ts)(img).unsqueeze(0).numpy())
`, dir]);
  for (const [name, steps] of Object.entries(cases)) {
    const ours = await preprocessImage(png, steps as never);
    const ref = await readNpy(join(dir, `tv-${name}.npy`));
    assert.deepEqual(ours.dims, ref.dims, name);
    let m = 0;
    for (let i = 0; i < ref.data.length; i++) m = Math.max(m, Math.abs(ours.data[i] - ref.data[i]));
    assert.ok(m <= 1e-6, `${name}: max |ours − torchvision| = ${m}`);
  }
});

test('kather TIFF patch decodes like PIL and preprocesses to [1, 3, 150, 150]', { skip: SKIP_NO_PATCHES || SKIP_NO_TV }, async () => {
  const cls = join(SHARED_PATCHES, 'kather2016-texture', '01_TUMOR');
  const file = join(cls, readdirSync(cls).sort()[0]);
  const img = await decodeRgb(file);
  assert.equal(img.width, 150);
  const sum = execFileSync(PYTHON, ['-c', 'import sys, numpy as np; from PIL import Image; print(int(np.asarray(Image.open(sys.argv[1]).convert("RGB"), dtype=np.int64).sum()))', file]).toString().trim();
  assert.equal(img.data.reduce((a, v) => a + v, 0), Number(sum));
  const t = await preprocessImage(file, bareTransforms(150, 150));
  assert.deepEqual(t.dims, [1, 3, 150, 150]);
  assert.deepEqual(t.source, { width: 150, height: 150 });
  assert.deepEqual(stackBatch([t, t]).dims, [2, 3, 150, 150]);
});

test('undecodable image → error naming the file', async () => {
  const f = join(dir, 'bad.png');
  writeFileSync(f, 'not an image');
  await assert.rejects(decodeRgb(f), (e: unknown) => e instanceof ModelPackageError && e.message.includes(f) && /cannot decode image/.test(e.message));
});

test('the shipped demo package (models/*) validates', async () => {
  const { packages, errors } = await listModelPackages(join(REPO_ROOT, 'models'));
  assert.deepEqual(errors, []);
  assert.ok(packages.length >= 1, 'at least one shipped model package');
  for (const p of packages) {
    assert.ok(p.config && p.config.class_names.length === p.config.num_classes);
    assert.ok(p.modelCardPath, `${p.id}: MODEL_CARD.md`);
  }
});

test('negative class indices and a config whose num_classes / class_names disagree with the model are refused', () => {
  assert.throws(() => resolveClass('-1', 8, null), /class index -1 is negative: the model has 8 classes \(0\.\.7\)/);
  assert.throws(() => resolveClass(' -3 ', 8, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']), /class index -3 is negative/);
  const config = parseModelConfig(good());
  const pkg = { id: 'p', modelPath: '/x/model.onnx', configPath: '/x/config.json', config, modelCardPath: null };
  checkPackageAgainstModel(pkg, 3);
  assert.throws(() => checkPackageAgainstModel(pkg, 8), (e: Error) => e instanceof ModelPackageError && /\/x\/config\.json: num_classes is 3 but the model \/x\/model\.onnx outputs 8 logits/.test(e.message));
  // class_names checked on its own too (a config built in code, not through the schema)
  const odd = { ...pkg, config: { ...config, num_classes: 8, class_names: ['a', 'b'] } };
  assert.throws(() => checkPackageAgainstModel(odd, 8), /class_names has 2 names but the model \/x\/model\.onnx outputs 8 logits/);
  checkPackageAgainstModel({ ...pkg, configPath: null, config: null }, 8); // a bare .onnx: nothing to check
});

/**
 * GPU check (not a test, not run by `npm run bench`): CPU vs WebGPU maps and speed through createExplainer.
 *   node --import tsx bench/explain-gpu-check.ts DIR
 * DIR holds conf/manifest.json + conf/<model>/ (model.onnx, input.npy, seed-onehot.npy and the first layer's
 * onehot references of some CACHE_DIR/conformance-<hash> folders) and sits beside models/ (the demo model).
 * First, single-op MaxPool backward graphs (both scatter paths of rules/maxpool.ts) WebGPU vs CPU. Per model: logits
 * and every map, WebGPU vs CPU and vs PyTorch (max|diff| / max|ref|), the provider 'auto' picks (and its
 * fallbackReason, if any), and forward / Grad-CAM images/s on CPU and WebGPU at batch 16 (the input tiled).
 * Writes $OUT/gpu-check.json.
 *
 * Carried to a device machine without Node (git-ignored folder .devcarry = DIR, plus .gl, both named in `carry`):
 *   esbuild bench/explain-gpu-check.ts --bundle --platform=node --format=esm --external:onnxruntime-node
 *     --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
 *     --outfile=.devcarry/check.mjs
 *   .devcarry/node.xz (xz of the node binary), .devcarry/node_modules/{onnxruntime-node (package.json, dist/,
 *   bin/napi-v6/linux/x64 with libonnxruntime.so.1 as .xz), onnxruntime-common}, .devcarry/conf/…;
 *   .gl = the Vulkan loader and libglvnd .debs (see the device README), unpacked with dpkg -x there.
 * Run there (from the repo root; .devcarry/run.sh does this): `for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig`,
 * unpack the .xz files with python3's lzma, then
 * `VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json .devcarry/node .devcarry/check.mjs .devcarry`.
 * 2026-11-26, H200: 45 s for 6 models (vgg11_bn, mobilenet_v2, shufflenet_v2, squeezenet1_1, densenet, convnext).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createExplainer } from '../main/engine/explain/index.js';
import { readNpy } from '../main/engine/explain/npy.js';
import { CAM_METHODS, type Tensor } from '../main/engine/explain/types.js';
import * as ort from 'onnxruntime-node';
import { buildBackward } from '../main/engine/explain/backward.js';
import { Emitter } from '../main/engine/explain/emit.js';
import { buildGraphInfo } from '../main/engine/explain/graph-info.js';
import { DT, decodeModelBytes, encodeModel, onnx, valueInfo, type AttrValue } from '../main/engine/explain/onnx-io.js';
import { buildModel } from '../test/explain/onnx-build.js';

const root = process.argv[2];
const SECONDS = Number(process.env.GPU_CHECK_SECONDS ?? 1);
const out: Record<string, unknown> = {};
const save = () => writeFileSync(join(process.env.OUT ?? '/tmp', 'gpu-check.json'), JSON.stringify(out, null, 1));
const rel = (a: Float32Array, b: Float32Array) => { let d = 0, m = 0; for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); } return m ? d / m : d; };
const msg = (e: unknown) => String((e as Error)?.message ?? e).slice(0, 400);

async function speed(model: string, ep: 'cpu' | 'webgpu', x: Tensor, seed: Tensor, layer?: string) {
  const ex = await createExplainer(model, { methods: ['gradcam'], ep, layer });
  const r: Record<string, unknown> = { ep: ex.executionProvider };
  try {
    for (const [k, f] of [['fwd', () => ex.predict(x)], ['gradcam', () => ex.explain(x, seed)]] as const) {
      await f(); await f();
      const t0 = performance.now(); let n = 0;
      while (performance.now() - t0 < SECONDS * 1000) { await f(); n++; }
      r[k] = Math.round((n * x.dims[0] * 1000) / (performance.now() - t0));
    }
  } finally { await ex.dispose(); }
  return r;
}
function tile(x: Tensor, n: number): Tensor {
  const per = x.data.length / x.dims[0];
  const data = new Float32Array(n * per);
  for (let i = 0; i < n; i++) data.set(x.data.subarray((i % x.dims[0]) * per, (i % x.dims[0] + 1) * per), i * per);
  return { data, dims: [n, ...x.dims.slice(1)] };
}

/** single-op MaxPool VJP graphs (both scatter paths, odd / even K) on WebGPU vs CPU: dX = Σ dy ⊙ dMaxPool/dX */
async function maxPoolProbe(dims: number[], attrs: Record<string, AttrValue>) {
  const bytes = buildModel({ inputs: [{ name: 'x', dims }], outputs: ['y'], nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs }] });
  const n = dims.reduce((p, v) => p * v, 1);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  const feeds = { x: new ort.Tensor('float32', x, dims) };
  const info = await buildGraphInfo(decodeModelBytes(bytes), bytes, 'probe', feeds);
  const e = new Emitter(info.opset);
  const [gx] = buildBackward(info, e, { output: 'y', seed: 'dy', wrt: ['x'] });
  const proto = decodeModelBytes(bytes);
  const g = proto.graph!;
  g.node!.push(...e.nodes, onnx.NodeProto.create({ opType: 'Identity', input: [gx], output: ['dx'], name: 'dx' }));
  g.initializer!.push(...e.initializers);
  const yd = info.dims.get('y')!;
  g.input!.push(valueInfo('dy', DT.FLOAT, yd));
  g.output = [valueInfo('dx')];
  const dy = Float32Array.from({ length: yd.reduce((p, v) => p * v, 1) }, (_, i) => 1 + (i % 7));
  const res: Record<string, Float32Array> = {};
  for (const ep of ['cpu', 'webgpu']) {
    const s = await ort.InferenceSession.create(encodeModel(proto), { executionProviders: [ep], logSeverityLevel: 3 });
    res[ep] = (await s.run({ ...feeds, dy: new ort.Tensor('float32', dy, yd) })).dx.data as Float32Array;
    await s.release();
  }
  return rel(res.webgpu, res.cpu);
}
const probes: [string, number[], Record<string, AttrValue>][] = [
  ['k2s2 C512 (VGG, depth-to-space)', [2, 512, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['k2s2 p1 ceil (depth-to-space, crop)', [1, 8, 7, 6], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }],
  ['k3s2 p1 C64 (ConvTranspose K=9)', [2, 64, 16, 16], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['k2s1 C16 (ConvTranspose K=4→5)', [1, 16, 9, 9], { kernel_shape: [2, 2] }],
  ['k3x2 s2x1 (ConvTranspose K=6→7)', [1, 8, 9, 8], { kernel_shape: [3, 2], strides: [2, 1], pads: [0, 1, 2, 0] }],
  ['k4s2 p1 (ConvTranspose K=16→17)', [1, 8, 10, 10], { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] }],
];
const probeOut: Record<string, unknown> = {};
for (const [name, dims, attrs] of probes) {
  try { probeOut[name] = await maxPoolProbe(dims, attrs); } catch (e) { probeOut[name] = msg(e); }
}
out['maxpool-vjp-webgpu-vs-cpu'] = probeOut;
console.log('maxpool probes', JSON.stringify(probeOut));
save();

const man = JSON.parse(readFileSync(join(root, 'conf', 'manifest.json'), 'utf8'));
for (const m of man.models) {
  const dir = join(root, 'conf', m.name);
  const model = join(dir, 'model.onnx');
  if (!existsSync(model)) continue;
  const input = await readNpy(join(dir, 'input.npy'));
  const seed = await readNpy(join(dir, 'seed-onehot.npy'));
  const layer = m.layers[0];
  const res: Record<string, unknown> = { maxpool: (m.ops as string[]).includes('MaxPool') };
  try {
    const cpu = await createExplainer(model, { layer: layer.tensor, methods: [...CAM_METHODS], ep: 'cpu' });
    const gpu = await createExplainer(model, { layer: layer.tensor, methods: [...CAM_METHODS], ep: 'webgpu' });
    res.ep = gpu.executionProvider;
    try {
      const a = await cpu.explain(input, seed); const b = await gpu.explain(input, seed);
      res.logits = rel(b.logits.data, a.logits.data);
      let worstCpu = 0, worstTorch = 0;
      for (const k of Object.keys(a.maps)) {
        const ref = join(dir, `${layer.module}-onehot-${k}.npy`);
        const vsCpu = rel(b.maps[k].data, a.maps[k].data);
        const vsTorch = existsSync(ref) && !k.startsWith('eigencam') ? rel(b.maps[k].data, (await readNpy(ref)).data) : null;
        res[k] = { gpuVsCpu: vsCpu, gpuVsTorch: vsTorch };
        worstCpu = Math.max(worstCpu, vsCpu);
        if (vsTorch !== null && !['gradcam++', 'xgradcam'].includes(k)) worstTorch = Math.max(worstTorch, vsTorch);
      }
      res.worstGpuVsCpu = worstCpu;
      res.worstGpuVsTorch = worstTorch; // gradcam, -signed, hirescam, layercam (++ / x: see per-map values)
    } finally { await cpu.dispose(); await gpu.dispose(); }
  } catch (e) { res.error = msg(e); }
  try {
    const auto = await createExplainer(model, { layer: layer.tensor, methods: ['gradcam', 'saliency'], ep: 'auto' });
    try { await auto.explain(input, seed); res.auto = { ep: auto.executionProvider, fallbackReason: auto.fallbackReason ?? null }; } finally { await auto.dispose(); }
  } catch (e) { res.auto = { error: msg(e) }; }
  const x16 = tile(input, 16);
  const seed16: Tensor = { data: seed.data.subarray(0, seed.data.length / (seed.dims.length === 2 ? seed.dims[0] : 1)), dims: [seed.dims[seed.dims.length - 1]] };
  for (const ep of ['cpu', 'webgpu'] as const) {
    try { res[`b16-${ep}`] = await speed(model, ep, x16, seed16, layer.tensor); } catch (e) { res[`b16-${ep}`] = msg(e); }
  }
  out[m.name] = res;
  console.log(m.name, JSON.stringify(res));
  save();
}
const demo = join(root, '..', 'models', 'tiny-crc-demo', 'model.onnx');
for (const b of [1, 64]) {
  const x: Tensor = { data: Float32Array.from({ length: b * 3 * 112 * 112 }, (_, i) => Math.sin(i)), dims: [b, 3, 112, 112] };
  const seed: Tensor = { data: Float32Array.from({ length: 8 }, (_, k) => (k === 0 ? 1 : 0)), dims: [8] };
  for (const ep of ['cpu', 'webgpu'] as const) {
    try { const r = await speed(demo, ep, x, seed); out[`demo-b${b}-${ep}`] = r; console.log('demo', b, ep, JSON.stringify(r)); }
    catch (e) { out[`demo-b${b}-${ep}`] = msg(e); console.log('demo', b, ep, 'ERR', msg(e)); }
  }
  save();
}

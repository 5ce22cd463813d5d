/**
 * PyTorch conformance (acceptance test of the explanations engine): for every model family, target layer,
 * seed (one-hot class, per-item contrast) and method, our map from createExplainer must match the PyTorch
 * forward-hook + autograd reference (test/explain/py/make_reference.py) to max|ours − ref| ≤ 1e-4 · max|ref|.
 *
 * Two documented exceptions, both flagged in the printed table:
 *  (c) cancellation-dominated maps (max|ref| < 1e-2 · Σ_k|term_k|: a ReLU'd map that is (nearly) all zero, or a sum
 *      whose terms cancel) use tol = 1e-6 · Σ_k|term_k|;
 *  (n) ill-conditioned maps whose float32 noise floor exceeds 1e-4 · max|ref| use tol = 1.5 · noise floor. The floor
 *      (make_reference.py) is the larger of PyTorch's own float32 error on that map (its float32 A, ∂S/∂A, ∂S/∂input vs
 *      the float64 reference) and the map's movement under random relative errors of A and ∂S/∂A of that size
 *      (≥ 1e-6). E.g. Grad-CAM++ / XGrad-CAM denominators on signed activations, or a deep random-weight net whose
 *      gradients cancel. Printed with PyTorch float32's own relative error, and only where rel > 1e-4.
 *      (Not 1.5 × PyTorch float32's own error: that is one draw of the float32 noise, and ours is another — e.g.
 *      Grad-CAM++ on mobilenet_v3_small features.8 (onehot) ours 7.2e-2 vs PyTorch's 1.4e-2, but on the contrast seed
 *      ours 1.3e-3 vs PyTorch's 3.0e-3. Computing the Grad-CAM++ / XGrad-CAM weights in float64 from our A and ∂S/∂A
 *      changes nothing measurable: the spread comes from float32 A and ∂S/∂A, which the floor's perturbation models.)
 * EigenCAM's sign is arbitrary (SVD, per item): each item of ours is accepted against +projection or −projection.
 * References are generated once per script version into CACHE_DIR/conformance-<sha256(script)>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, PYTHON, REPO_ROOT } from '../helpers/paths.js';
import { readNpy } from '../../main/engine/explain/npy.js';
import { CAM_METHODS, type Tensor } from '../../main/engine/explain/types.js';

const SCRIPT = join(REPO_ROOT, 'test', 'explain', 'py', 'make_reference.py');
const HASH = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
const DIR = join(CACHE_DIR, `conformance-${HASH}`);
const REL_TOL = 1e-4;
/** (n) tolerance = NOISE_FACTOR × the float32 noise floor */
const NOISE_FACTOR = 1.5;

interface LayerInfo { module: string; tensor: string; dims: number[]; stride: number }
interface ModelInfo {
  name: string; note: string; opset: number; input_size: number; batch: number; num_classes: number;
  ops: string[]; layers: LayerInfo[]; seeds: string[]; term_scale: Record<string, number>; noise_floor: Record<string, number>; torch32_error: Record<string, number>;
}

function ensureReferences(): string | false {
  if (existsSync(join(DIR, 'manifest.json'))) return false;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return `PyTorch reference generation needs ${PYTHON} with torch, torchvision and onnx (${(probe.stderr?.trim() || probe.error?.message || `exit ${probe.status}`).split('\n').pop()}): conformance skipped`;
  }
  const tmp = `${DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  const r = spawnSync(PYTHON, ['-W', 'ignore', SCRIPT, tmp], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`make_reference.py failed (exit ${r.status}):\n${r.stderr}`);
  if (existsSync(join(DIR, 'manifest.json'))) {
    rmSync(tmp, { recursive: true, force: true }); // a concurrent run finished first: keep its references
    return false;
  }
  rmSync(DIR, { recursive: true, force: true });
  renameSync(tmp, DIR);
  // references of older script versions (~100 MB each) are dropped
  for (const old of readdirSync(CACHE_DIR)) {
    if (/^conformance-[0-9a-f]{12}$/.test(old) && join(CACHE_DIR, old) !== DIR) rmSync(join(CACHE_DIR, old), { recursive: true, force: true });
  }
  console.log(`# conformance references generated in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${DIR}`);
  return false;
}

const skip = ensureReferences();
const manifest: { models: ModelInfo[] } | null = skip ? null : JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
function maxDiff(a: Float32Array, b: Float32Array, sign = 1, relu = false, from = 0, to = a.length): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    let r = sign * b[i];
    if (relu) r = Math.max(0, r);
    m = Math.max(m, Math.abs(a[i] - r));
  }
  return m;
}

interface Row { model: string; layer: string; seed: string; map: string; rel: number; tolRel: number; ok: boolean; note: string }

function compare(rows: Row[], ctx: Omit<Row, 'map' | 'rel' | 'tolRel' | 'ok' | 'note'>, map: string, ours: Tensor | undefined, ref: { data: Float32Array; dims: number[] }, termScale: number, opts: { eigen?: boolean; relu?: boolean; sign?: number; floor?: number; torch32?: number } = {}) {
  if (!ours) {
    rows.push({ ...ctx, map, rel: NaN, tolRel: REL_TOL, ok: false, note: 'map missing from ExplainOutput' });
    return;
  }
  const dimsOk = ours.dims.join('x') === ref.dims.join('x');
  if (!dimsOk) {
    rows.push({ ...ctx, map, rel: NaN, tolRel: REL_TOL, ok: false, note: `dims ${ours.dims.join('x')} ≠ ref ${ref.dims.join('x')}` });
    return;
  }
  const sign = opts.sign ?? 1;
  const relu = opts.relu ?? false;
  let refMax = 0;
  for (const v of ref.data) refMax = Math.max(refMax, Math.abs(relu ? Math.max(0, sign * v) : v));
  let diff = maxDiff(ours.data, ref.data, sign, relu);
  let note = '';
  if (opts.eigen) {
    // ours is ReLU'd or signed; accept either SVD sign, chosen per item (each item has its own SVD)
    const N = ref.dims[0];
    const per = ref.data.length / N;
    diff = 0;
    const picks: string[] = [];
    for (let n = 0; n < N; n++) {
      const cands: [number, string][] = [];
      for (const s of [1, -1]) for (const r of [true, false]) cands.push([maxDiff(ours.data, ref.data, s, r, n * per, (n + 1) * per), `${s > 0 ? '+' : '−'}${r ? 'R' : ''}`]);
      cands.sort((a, b) => a[0] - b[0]);
      diff = Math.max(diff, cands[0][0]);
      picks.push(cands[0][1]);
    }
    note = `signs ${picks.join('')}`;
  }
  let scale = refMax;
  let tolRel = REL_TOL;
  if (refMax < 1e-2 * termScale) {
    scale = 1e-2 * termScale;
    note = `${note} (c)`.trim();
  }
  if (opts.floor !== undefined && scale > 0 && NOISE_FACTOR * opts.floor > REL_TOL * scale) {
    tolRel = (NOISE_FACTOR * opts.floor) / scale;
    const t32 = opts.torch32 !== undefined ? `; PyTorch float32 itself: ${(opts.torch32 / scale).toExponential(1)}` : '';
    note = `${note} (n: tol ${tolRel.toExponential(1)}${t32})`.trim();
  }
  const rel = scale > 0 ? diff / scale : diff;
  // the noise-floor exception is flagged only where it was needed (rel above the strict 1e-4)
  if (rel <= REL_TOL) note = note.replace(/\s*\(n: tol [^)]*\)/, '');
  rows.push({ ...ctx, map, rel, tolRel, ok: scale > 0 ? rel <= tolRel : diff === 0, note });
}

const MAP_FOR_REF: Record<string, string> = {
  gradcam: 'gradcam', 'gradcam-signed': 'gradcam-signed', hirescam: 'hirescam', 'gradcam++': 'gradcam++',
  xgradcam: 'xgradcam', layercam: 'layercam',
};

const allRows: Row[] = [];

test('PyTorch conformance', { skip }, async (t) => {
  const { createExplainer } = await import('../../main/engine/explain/index.js');
  assert.ok(manifest && manifest.models.length >= 6, 'at least six model families');
  for (const m of manifest.models) {
    await t.test(`${m.name} (${m.note}; opset ${m.opset})`, async () => {
      const dir = join(DIR, m.name);
      const modelPath = join(dir, 'model.onnx');
      const input = await readNpy(join(dir, 'input.npy'));
      const refLogits = await readNpy(join(dir, 'logits.npy'));
      const rows: Row[] = [];
      for (const layer of m.layers) {
        const ex = await createExplainer(modelPath, { layer: layer.tensor, methods: [...CAM_METHODS], ep: 'cpu' });
        try {
          assert.equal(ex.layer.name, layer.tensor);
          assert.deepEqual([ex.layer.channels, ex.layer.height, ex.layer.width], layer.dims, `${m.name} ${layer.module}: C×H×W`);
          assert.equal(ex.numClasses, m.num_classes);
          for (const seedName of m.seeds) {
            const seed = await readNpy(join(dir, `seed-${seedName}.npy`));
            const out = await ex.explain(input, seed);
            const ctx = { model: m.name, layer: layer.module, seed: seedName };
            compare(rows, ctx, 'logits', out.logits, refLogits, maxAbs(refLogits.data));
            for (const [ours, refName] of Object.entries(MAP_FOR_REF)) {
              const key = `${layer.module}-${seedName}-${refName}`;
              compare(rows, ctx, ours, out.maps[ours], await readNpy(join(dir, `${key}.npy`)), m.term_scale[key], { floor: m.noise_floor[key], torch32: m.torch32_error[key] });
            }
            const signedKey = `${layer.module}-${seedName}-gradcam-signed`;
            const signed = await readNpy(join(dir, `${signedKey}.npy`));
            const floor = m.noise_floor[signedKey];
            compare(rows, ctx, 'gradcam-for', out.maps['gradcam-for'], signed, m.term_scale[signedKey], { relu: true, floor });
            compare(rows, ctx, 'gradcam-against', out.maps['gradcam-against'], signed, m.term_scale[signedKey], { relu: true, sign: -1, floor });
            const eKey = `${layer.module}-eigencam`;
            compare(rows, ctx, 'eigencam', out.maps['eigencam'], await readNpy(join(dir, `${eKey}.npy`)), m.term_scale[eKey], { eigen: true });
            const sKey = `input-${seedName}-saliency`;
            compare(rows, ctx, 'saliency', out.maps['saliency'], await readNpy(join(dir, `${sKey}.npy`)), m.term_scale[sKey], { floor: m.noise_floor[sKey], torch32: m.torch32_error[sKey] });
          }
        } finally {
          await ex.dispose();
        }
      }
      allRows.push(...rows);
      const bad = rows.filter((r) => !r.ok);
      const worst = rows.reduce((a, r) => (Number.isFinite(r.rel) ? Math.max(a, r.rel) : a), 0);
      console.log(`# ${m.name}: ${rows.length} comparisons, worst rel. error ${worst.toExponential(2)}${bad.length ? `, ${bad.length} FAILED` : ''}`);
      for (const r of rows.filter((x) => x.ok && /\((c|n)/.test(x.note))) console.log(`#   ${m.name} ${r.layer} ${r.seed} ${r.map}: rel ${r.rel.toExponential(2)} ${r.note}`);
      assert.equal(bad.length, 0, `${m.name}: ${bad.length} map(s) off:\n${bad.map((r) => `  ${r.layer} ${r.seed} ${r.map}: rel ${r.rel.toExponential(2)} > ${r.tolRel.toExponential(1)} ${r.note}`).join('\n')}`);
    });
  }
  // the table of measured relative errors: max over (layer, seed) per model × map
  const maps = [...new Set(allRows.map((r) => r.map))];
  const models = [...new Set(allRows.map((r) => r.model))];
  const lines = [`# relative error max|ours−ref|/max|ref| (worst over layers and seeds; (c) cancellation scale, (n) noise-floor tolerance: see the file header)`, `# ${'model'.padEnd(20)}${maps.map((x) => x.padStart(16)).join('')}`];
  for (const model of models) {
    const cells = maps.map((map) => {
      const rs = allRows.filter((r) => r.model === model && r.map === map);
      const w = rs.reduce((a, r) => (Number.isFinite(r.rel) && r.rel > a.rel ? r : a), { rel: 0, note: '' } as { rel: number; note: string });
      const missing = rs.some((r) => !Number.isFinite(r.rel));
      const flag = w.note.includes('(c)') ? '(c)' : w.note.includes('(n') ? '(n)' : '';
      return (missing ? 'ERR' : `${w.rel.toExponential(1)}${flag}`).padStart(16);
    });
    lines.push(`# ${model.padEnd(20)}${cells.join('')}`);
  }
  console.log(lines.join('\n'));
});

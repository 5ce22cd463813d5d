/**
 * PyTorch conformance (acceptance test of the explanations engine): for every model family, target layer, seed
 * (one-hot class, per-item contrast) and method, ours (createExplainer, CPU) against the float64 PyTorch reference of
 * test/explain/py/make_reference.py (forward hooks + autograd on the model's float32 weights cast to double: the
 * exact function the float32 ONNX model computes). Families: small random-weight torchvision models at 96 px, and
 * full-size torchvision models at 224 px with BatchNorm calibrated on real H&E crops (the `_cal` ones, when the
 * shared patches exist).
 *
 * What is checked, per (model, layer, seed):
 *  - logits, max|ours − ref| ≤ 1e-4 · max|ref|;
 *  - the activations A and the gradients G = ∂S/∂A (the backward graph itself), and the saliency map (∂S/∂input):
 *    relative error ≤ max(1e-4, 10 × PyTorch float32's own error, 3 × its dithered error) on the same tensor; A by its
 *    max error, G and saliency by their relative RMS error ‖ours − ref‖₂ / ‖ref‖₂. Measured by make_reference.py on
 *    this machine: PyTorch float32's error = the larger of two plain draws of float32 noise (default and channels-last
 *    kernels); its dithered error = the largest of four draws whose Conv/Linear/BatchNorm inputs get noise of 4 float32
 *    rounding units. Why: float32 kinks (a ReLU/Clip input or a MaxPool tie within rounding of the switch) flip
 *    gradients locally, by O(1), and which near-kink units flip depends on the implementation's rounding (on this
 *    machine PyTorch float32 flips some after shufflenet_v2_x1_0_cal stage3 and ORT none; the opposite was reported
 *    from another machine). Plain draws alone would bound ours by PyTorch's luck; dithered draws flip the case's near-kink units, so
 *    their error covers another implementation's flips (3×: each draw flips a random part of them). RMS for
 *    gradients: a flip is local, the max error measures one flip, the RMS error how much of the tensor is off, which
 *    a wrong vector-Jacobian rule makes large. Checked by breaking rules on purpose (2026-12-01, each run fails):
 *    BatchNormalization dX × 1.01 → densenet features.denseblock3 dS/dA RMS 2.6e-2 > 1e-4 (PyTorch float32 1.3e-7),
 *    densenet121_cal saliency 8.1e-2 > 6.9e-2; Sigmoid dX × 1.02 → efficientnet_b0 features.5 dS/dA 2.2e-2 > 1e-4,
 *    regnet_y_400mf 18 off; HardSwish slope x/3 + 0.55 → mobilenet_v3_small features.12 dS/dA 3.5e-2 > 1e-4, 40 off;
 *    Concat's dY parts handed to two equal-size inputs swapped → shufflenet_v2, shufflenet_v2_x1_0_cal (stage3 dS/dA
 *    1.3 > 1e-4), squeezenet1_1 off.
 *  - every CAM map, max|ours − ref| ≤ 1e-4 · max|ref|, with two documented exceptions, both flagged in the table:
 *    (c) cancellation-dominated maps (max|ref| < 1e-2 · Σ_k|term_k|: a ReLU'd map that is (nearly) all zero, or a
 *        sum whose terms cancel) are measured against 1e-2 · Σ_k|term_k| instead of max|ref|;
 *    (f) float32-sensitive maps: a map above 1e-4 is accepted when it is exactly its formula on our A and G (float64
 *        evaluation here, to 1e-6 of Σ_k|term_k|) and those A and G passed the checks above. The maps are computed in
 *        float64 from the float32 A and G (methods/cams.ts), so their whole error is the formula's amplification of the
 *        float32 noise in A and G, which PyTorch float32 suffers as much (its own map error is printed alongside): e.g.
 *        Grad-CAM++ on mobilenet_v3_small features.8, whose Σ_uv A and 2 + ΣA·G denominators cancel, or the kinks
 *        between mobilenet_v2_cal features.14 and the logits. A bound on such a map fitted to one machine's draw of
 *        that noise does not hold on another machine (ours 7.2e-2; PyTorch float32's 1.4e-2 to 2.6e-2 by the draw).
 *    A map above 1e-4 where PyTorch float32 is below it is reported as '# precision goal missed' (not a failure).
 * EigenCAM's sign is arbitrary (SVD, per item): each item of ours is accepted against +projection or −projection.
 * References: generated once per script version into CACHE_DIR (references.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readNpy } from '../../main/engine/explain/npy.js';
import { CAM_METHODS, type Tensor } from '../../main/engine/explain/types.js';
import { SKIP_NO_PATCHES } from '../helpers/paths.js';
import { camReference } from './cam-reference.js';
import { ensureReferences, readManifest, REF_DIR, type Manifest, type ModelInfo } from './references.js';

const REL_TOL = 1e-4;
/** A, G, saliency: tolerance = max(REL_TOL, TORCH32_FACTOR × PyTorch float32's error, DITHER_FACTOR × its dithered error) */
const TORCH32_FACTOR = 10;
const DITHER_FACTOR = 3;
/** (f) maps: ours = the formula on our A and G, to this fraction of Σ_k|term_k| */
const FORMULA_TOL = 1e-6;

const skip = ensureReferences();
const manifest: Manifest | null = skip ? null : readManifest();

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, sign = 1, relu = false, from = 0, to = a.length): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    let r = sign * b[i];
    if (relu) r = Math.max(0, r);
    m = Math.max(m, Math.abs(a[i] - r));
  }
  return m;
}
function rmsRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return n > 0 ? Math.sqrt(d / n) : Math.sqrt(d);
}
const e1 = (x: number) => x.toExponential(1);

interface Row { model: string; layer: string; seed: string; map: string; rel: number; tolRel: number; ok: boolean; note: string; torch32?: number }
type Ctx = Pick<Row, 'model' | 'layer' | 'seed'>;

function row(rows: Row[], ctx: Ctx, map: string, rel: number, tolRel: number, note = '', torch32?: number): Row {
  const r = { ...ctx, map, rel, tolRel, ok: Number.isFinite(rel) && rel <= tolRel, note, torch32 };
  rows.push(r);
  return r;
}

/** a tensor (A, G, saliency) against float64 with the PyTorch-derived bound */
function tensorRow(rows: Row[], ctx: Ctx, name: string, ours: Tensor | undefined, ref: Tensor, metric: 'max' | 'rms', torch32Rel: number, ditherRel: number): Row {
  if (!ours || ours.dims.join('x') !== ref.dims.join('x')) return row(rows, ctx, name, NaN, REL_TOL, ours ? `dims ${ours.dims.join('x')} ≠ ref ${ref.dims.join('x')}` : 'missing');
  const refMax = maxAbs(ref.data);
  const relMax = maxDiff(ours.data, ref.data) / (refMax || 1);
  const rel = metric === 'max' ? relMax : rmsRel(ours.data, ref.data);
  const tolRel = Math.max(REL_TOL, TORCH32_FACTOR * torch32Rel, DITHER_FACTOR * ditherRel);
  const note = `${metric === 'rms' ? `(rms; max ${e1(relMax)}) ` : ''}(PyTorch float32 dithered: ${e1(ditherRel)})`;
  return row(rows, ctx, name, rel, tolRel, note, torch32Rel);
}

/** a map against the float64 reference: relative max error, with the (c) scale; eigen: either sign per item */
function mapError(ours: Tensor, ref: Tensor, termScale: number, opts: { eigen?: boolean; relu?: boolean; sign?: number }): { rel: number; scale: number; note: string } {
  const sign = opts.sign ?? 1, relu = opts.relu ?? false;
  let refMax = 0;
  for (const v of ref.data) refMax = Math.max(refMax, Math.abs(relu ? Math.max(0, sign * v) : v));
  let diff = maxDiff(ours.data, ref.data, sign, relu);
  let note = '';
  if (opts.eigen) {
    // ours is ReLU'd or signed; accept either SVD sign, chosen per item (each item has its own SVD)
    const N = ref.dims[0], per = ref.data.length / N;
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
  if (refMax < 1e-2 * termScale) {
    scale = 1e-2 * termScale;
    note = `${note} (c)`.trim();
  }
  return { rel: scale > 0 ? diff / scale : diff, scale, note };
}

const allRows: Row[] = [];

async function conformance(m: ModelInfo): Promise<void> {
  const { createExplainer } = await import('../../main/engine/explain/index.js');
  const dir = join(REF_DIR, m.name);
  const input = await readNpy(join(dir, 'input.npy'));
  const refLogits = await readNpy(join(dir, 'logits.npy'));
  const rows: Row[] = [];
  for (const layer of m.layers) {
    const ex = await createExplainer(join(dir, 'model.onnx'), { layer: layer.tensor, methods: [...CAM_METHODS], ep: 'cpu', keepTensors: true });
    try {
      assert.equal(ex.layer.name, layer.tensor);
      assert.deepEqual([ex.layer.channels, ex.layer.height, ex.layer.width], layer.dims, `${m.name} ${layer.module}: C×H×W`);
      assert.equal(ex.numClasses, m.num_classes);
      const refA = await readNpy(join(dir, `${layer.module}-A.npy`));
      for (const seedName of m.seeds) {
        const seed = await readNpy(join(dir, `seed-${seedName}.npy`));
        const out = await ex.explain(input, seed);
        const ctx = { model: m.name, layer: layer.module, seed: seedName };
        row(rows, ctx, 'logits', maxDiff(out.logits.data, refLogits.data) / maxAbs(refLogits.data), REL_TOL);
        const kA = `${layer.module}-A`, kG = `${layer.module}-${seedName}-G`, kS = `input-${seedName}-saliency`;
        const rA = tensorRow(rows, ctx, 'A', out.activations, refA, 'max', m.torch32_error[kA] / m.term_scale[kA], m.dither_error[kA] / m.term_scale[kA]);
        const rG = tensorRow(rows, ctx, 'dS/dA', out.gradients, await readNpy(join(dir, `${kG}.npy`)), 'rms', m.torch32_rms[kG], m.dither_rms[kG]);
        tensorRow(rows, ctx, 'saliency', out.maps['saliency'], await readNpy(join(dir, `${kS}.npy`)), 'rms', m.torch32_rms[kS], m.dither_rms[kS]);
        // the formulas on our own A and G (float64, here): what an (f) map must equal
        const formula = out.activations && out.gradients ? camReference(out.activations, out.gradients) : {};
        const tensorsOk = rA.ok && rG.ok;
        const camRow = (name: string, ref: Tensor, refKey: string, opts: { relu?: boolean; sign?: number } = {}) => {
          const ours = out.maps[name];
          if (!ours || ours.dims.join('x') !== ref.dims.join('x')) return row(rows, ctx, name, NaN, REL_TOL, ours ? `dims ${ours.dims.join('x')} ≠ ref ${ref.dims.join('x')}` : 'map missing from ExplainOutput');
          const termScale = m.term_scale[refKey];
          const { rel, scale, note } = mapError(ours, ref, termScale, opts);
          const torch32 = scale > 0 ? m.torch32_error[refKey] / scale : undefined;
          if (rel <= REL_TOL) return row(rows, ctx, name, rel, REL_TOL, note, torch32);
          // (f): the map is its formula on our A and G, and those passed
          const f = formula[name];
          const fDiff = f ? maxDiff(ours.data, f) / termScale : Infinity;
          const ok = tensorsOk && fDiff <= FORMULA_TOL;
          const why = ok ? '(f)' : `(f) rejected: ${tensorsOk ? '' : 'A or dS/dA off; '}formula on our A, G differs by ${e1(fDiff)} of Σ|terms|`;
          const r = row(rows, ctx, name, rel, ok ? rel : REL_TOL, `${note} ${why}`.trim(), torch32);
          r.ok = ok;
          return r;
        };
        for (const name of ['gradcam', 'gradcam-signed', 'hirescam', 'gradcam++', 'xgradcam', 'layercam']) {
          const key = `${layer.module}-${seedName}-${name}`;
          camRow(name, await readNpy(join(dir, `${key}.npy`)), key);
        }
        const signedKey = `${layer.module}-${seedName}-gradcam-signed`;
        const signed = await readNpy(join(dir, `${signedKey}.npy`));
        camRow('gradcam-for', signed, signedKey, { relu: true });
        camRow('gradcam-against', signed, signedKey, { relu: true, sign: -1 });
        const eKey = `${layer.module}-eigencam`;
        const eig = out.maps['eigencam'];
        const { rel, note } = mapError(eig, await readNpy(join(dir, `${eKey}.npy`)), m.term_scale[eKey], { eigen: true });
        row(rows, ctx, 'eigencam', rel, REL_TOL, note);
      }
    } finally {
      await ex.dispose();
    }
  }
  allRows.push(...rows);
  const bad = rows.filter((r) => !r.ok);
  const worst = rows.reduce((a, r) => (Number.isFinite(r.rel) ? Math.max(a, r.rel) : a), 0);
  console.log(`# ${m.name}: ${rows.length} comparisons, worst rel. error ${worst.toExponential(2)}${bad.length ? `, ${bad.length} FAILED` : ''}`);
  for (const r of rows.filter((x) => x.ok && x.rel > REL_TOL)) {
    console.log(`#   ${m.name} ${r.layer} ${r.seed} ${r.map}: rel ${r.rel.toExponential(2)} ${r.note}${r.torch32 !== undefined ? `; PyTorch float32 itself: ${e1(r.torch32)}` : ''}`);
    if (r.torch32 !== undefined && r.torch32 <= REL_TOL && !['A', 'dS/dA', 'saliency'].includes(r.map)) console.log(`#   precision goal missed: ${m.name} ${r.layer} ${r.seed} ${r.map} ours ${e1(r.rel)} > 1e-4 ≥ PyTorch float32 ${e1(r.torch32)}`);
  }
  assert.equal(bad.length, 0, `${m.name}: ${bad.length} comparison(s) off:\n${bad.map((r) => `  ${r.layer} ${r.seed} ${r.map}: rel ${r.rel.toExponential(2)} > ${r.tolRel.toExponential(1)} ${r.note}${r.torch32 !== undefined ? ` (PyTorch float32: ${e1(r.torch32)})` : ''}`).join('\n')}`);
}

function printTable(): void {
  // relative errors: max over (layer, seed) per model × quantity
  const maps = [...new Set(allRows.map((r) => r.map))];
  const models = [...new Set(allRows.map((r) => r.model))];
  const lines = [
    '# relative error vs float64, worst over layers and seeds (A, maps: max|ours−ref|/max|ref|; dS/dA, saliency: RMS; (c) cancellation scale, (f) float32-sensitive: see the file header)',
    `# ${'model'.padEnd(24)}${maps.map((x) => x.padStart(16)).join('')}`,
  ];
  for (const model of models) {
    const cells = maps.map((map) => {
      const rs = allRows.filter((r) => r.model === model && r.map === map);
      const w = rs.reduce((a, r) => (Number.isFinite(r.rel) && r.rel > a.rel ? r : a), { rel: 0, note: '' } as { rel: number; note: string });
      const missing = rs.some((r) => !Number.isFinite(r.rel));
      const flag = w.note.includes('(c)') ? '(c)' : w.note.includes('(f)') ? '(f)' : '';
      return (missing ? 'ERR' : `${w.rel.toExponential(1)}${flag}`).padStart(16);
    });
    lines.push(`# ${model.padEnd(24)}${cells.join('')}`);
  }
  console.log(lines.join('\n'));
}

const isCal = (m: ModelInfo) => m.name.endsWith('_cal');

test('PyTorch conformance', { skip }, async (t) => {
  assert.ok(manifest && manifest.models.filter((m) => !isCal(m)).length >= 6, 'at least six model families');
  for (const m of manifest.models) {
    await t.test(`${m.name} (${m.note}; opset ${m.opset}, ${m.input_size} px)`, () => conformance(m));
  }
  printTable();
});

test('PyTorch conformance includes the calibrated 224-px families (DenseNet-121, ShuffleNetV2, MobileNetV2)', { skip: skip || SKIP_NO_PATCHES }, () => {
  const cal = manifest!.models.filter(isCal).map((m) => m.name).sort();
  assert.deepEqual(cal, ['densenet121_cal', 'mobilenet_v2_cal', 'shufflenet_v2_x1_0_cal']);
  for (const m of manifest!.models.filter(isCal)) assert.equal(m.input_size, 224);
});

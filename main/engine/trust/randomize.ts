/**
 * Seeded re-draw of a block's parameters (Adebayo et al. 2018, "model parameter randomization"), written into a
 * copy of the ONNX model — the explanations engine then runs on the modified bytes exactly as on the user's model.
 *
 * Each float tensor is re-drawn independently, element-wise i.i.d., from the same distribution family and scale as
 * its trained values: mean and standard deviation of the tensor are kept; the family is normal, or uniform when
 * the trained values look uniform (excess kurtosis < −0.6: a uniform has −1.2, a normal 0; `family` forces one).
 * A tensor with no spread (all values equal, e.g. a fresh bias of zeros) keeps its values, except a Conv/Gemm/
 * MatMul weight, which is re-drawn uniform ±1/√fan_in (PyTorch's default initialisation scale).
 *
 * BatchNorm (the stated choice): scale γ and shift β are re-drawn like any tensor (matched mean and std); the
 * running mean and variance are KEPT — they describe the activations arriving from the layers below, and keeping
 * them keeps the randomized network's activations in a sane range instead of exploding or vanishing, so what the
 * check measures is the loss of learned structure, not numeric blow-up. In folded models (BN merged into the
 * conv, as torch.onnx exports by default) there is nothing separate to decide.
 */
import { DT, decodeModelBytes, encodeModel, floatTensor, type TensorProto } from '../explain/onnx-io.js';
import { normals, streamFor } from './rng.js';

export type Family = 'auto' | 'normal' | 'uniform';

export interface TensorDraw {
  name: string;
  family: 'normal' | 'uniform' | 'kept';
  mean: number;
  std: number;
}

/** BatchNormalization inputs 3, 4 (running mean, variance): kept */
function keptStats(model: ReturnType<typeof decodeModelBytes>): Set<string> {
  const s = new Set<string>();
  for (const n of model.graph?.node ?? []) {
    if (n.opType === 'BatchNormalization' && !n.domain) for (const i of [3, 4]) if (n.input?.[i]) s.add(n.input[i]);
  }
  return s;
}

function floatValues(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** fan-in of a weight tensor: all dims but the first (Conv [O, I/g, kh, kw]); a 2-D MatMul/Gemm weight: the larger dim */
function fanIn(t: TensorProto): number {
  const d = (t.dims ?? []).map(Number);
  if (d.length === 2) return Math.max(d[0], d[1]);
  return d.slice(1).reduce((p, v) => p * v, 1) || 1;
}

/** re-draw one tensor; `weightFanIn`: the fan-in when it is a Conv/Gemm/MatMul weight (used when it has no spread) */
export function redraw(values: Float32Array, seed: number, label: string, family: Family, weightFanIn?: number): { values: Float32Array; draw: TensorDraw } {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = n ? s / n : 0;
  let m2 = 0, m4 = 0;
  for (let i = 0; i < n; i++) { const d = values[i] - mean; m2 += d * d; m4 += d * d * d * d; }
  const variance = n ? m2 / n : 0;
  const std = Math.sqrt(variance);
  const out = new Float32Array(n);
  const r = streamFor(seed, label);
  if (!(std > 0)) {
    if (weightFanIn === undefined) return { values: Float32Array.from(values), draw: { name: label, family: 'kept', mean, std: 0 } };
    const b = 1 / Math.sqrt(Math.max(1, weightFanIn));
    for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * b;
    return { values: out, draw: { name: label, family: 'uniform', mean: 0, std: b / Math.sqrt(3) } };
  }
  const kurt = n >= 8 ? (m4 / n) / (variance * variance) - 3 : 0;
  const fam = family === 'auto' ? (kurt < -0.6 ? 'uniform' : 'normal') : family;
  if (fam === 'uniform') {
    const half = Math.sqrt(3) * std;
    for (let i = 0; i < n; i++) out[i] = mean + (2 * r() - 1) * half;
  } else {
    const z = normals(r);
    for (let i = 0; i < n; i++) out[i] = mean + std * z();
  }
  return { values: out, draw: { name: label, family: fam, mean, std } };
}

/**
 * A copy of the model with the named initializers re-drawn (seeded by `seed` and each tensor's name), BatchNorm
 * running statistics kept. Returns the new bytes and what was drawn, tensor by tensor.
 */
export function randomizeTensors(bytes: Uint8Array, names: Iterable<string>, seed: number, family: Family = 'auto'): { bytes: Uint8Array; draws: TensorDraw[] } {
  const model = decodeModelBytes(bytes);
  const g = model.graph!;
  const want = new Set(names);
  const stats = keptStats(model);
  const weights = new Set<string>();
  for (const n of g.node ?? []) {
    if (!n.domain && ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(n.opType ?? '')) for (const x of (n.input ?? []).slice(n.opType === 'MatMul' ? 0 : 1, 2)) if (x) weights.add(x);
  }
  const draws: TensorDraw[] = [];
  const inits = g.initializer ?? [];
  for (let i = 0; i < inits.length; i++) {
    const t = inits[i];
    const name = t.name ?? '';
    if (!want.has(name) || t.dataType !== DT.FLOAT) continue;
    if (stats.has(name)) { draws.push({ name, family: 'kept', mean: NaN, std: NaN }); continue; }
    const values = floatValues(t);
    const r = redraw(values, seed, name, family, weights.has(name) ? fanIn(t) : undefined);
    inits[i] = floatTensor(name, r.values, (t.dims ?? []).map(Number));
    draws.push(r.draw);
  }
  return { bytes: encodeModel(model), draws };
}

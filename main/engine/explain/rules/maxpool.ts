/**
 * MaxPool vector-Jacobian product: dY goes to the FIRST maximum of each window in window (row-major kernel)
 * order — PyTorch's and ORT CPU's tie rule — and contributions of overlapping windows add up.
 *
 * Default rule ('mask', opset ≥ 10), built from ops every provider runs (Pad, Slice, Less, Where, Unsqueeze,
 * Concat, Reshape, Transpose, ConvTranspose); it never reads MaxPool's Indices output, which the WebGPU provider
 * does not implement ("pool.cc: The Indices output is not supported yet"):
 *   Xp = Pad(X, begin = pads_begin, end = enough for the last (ceil_mode) window, value = lowest float32)
 *   for each kernel offset j (window order): X_j = Slice(Xp, start j·d, step s) — Y's shape;
 *     "X_j < Y" marks cells where offset j is not a maximum; the remaining gradient R (initially dY) is given to
 *     offset j where X_j = Y (G_j = Where(X_j < Y, 0, R)) and removed from R (R = Where(X_j < Y, R, 0)),
 *     so only the first maximum in window order receives it;
 *   the G_j are summed back onto X in one step (see scatter): a depth-to-space reshape for non-overlapping windows,
 *   else a grouped one-hot ConvTranspose (groups = C, strides s, dilations d, pads and output_padding such that the
 *   result has X's size exactly).
 * CPU cost: the same as the Indices-based rule (ResNet-18 and VGG-11 saliency, within 1%), so it is used everywhere.
 * Fallback rule ('indices', opset < 10 where Slice has no steps): per offset a mask (Indices == that offset's input
 * position) selects dY, then the same ConvTranspose; it needs MaxPool's Indices output (CPU/CUDA only).
 */
import type { VjpContext, VjpRule } from './types.js';
import { makeAttr, onnx } from '../onnx-io.js';
import { indices, prod, transposeAttrs, windowOf, type Window } from './util.js';

/** lowest finite float32: what padded positions hold (never a maximum unless X itself holds it) */
const LOWEST = -3.4028234663852886e38;

export type MaxPoolRuleName = 'mask' | 'indices';
let forced: MaxPoolRuleName | null = null;
/** Force one rule for every MaxPool (benchmarks, tests); null = the default choice (mask from opset 10). */
export function setMaxPoolRule(rule: MaxPoolRuleName | null): void { forced = rule; }

/**
 * Sum the per-offset gradients (parts[j]: [N, C, ...y], offset j in window order) back onto X.
 *  - non-overlapping windows (strides = kernel, no dilation): an exact "depth to space" — stack as [N, C, ...k, ...y],
 *    interleave to [N, C, y0, k0, y1, k1, ...], reshape to [N, C, ...y·k], then crop / zero-extend to X's extent;
 *  - otherwise one grouped ConvTranspose (groups = C, weight [C·K, 1, ...k] one-hot at offset j). ORT's WebGPU
 *    ConvTranspose (NHWC, one output channel per group) reads vectors of 2 or 4 input channels when the channels per
 *    group are even; with K = 4 (VGG's 2×2 pools, before the path above existed) VGG's maps came out wrong on WebGPU
 *    (0.3–0.99 relative) while K = 9 was exact, so an even K gets one more all-zero kernel channel (K + 1, odd: the
 *    scalar path). Checked on an H200 (bench/explain-gpu-check.ts probes): K = 5, 7, 17 and depth-to-space exact.
 */
function scatter(c: VjpContext, parts: string[], w: Window, C: number): string {
  const e = c.e, K = prod(w.k);
  const nonOverlapping = w.k.every((k, i) => k === w.s[i] && (k === 1 || w.d[i] === 1));
  if (nonOverlapping) {
    const sp = w.sp;
    const stacked = e.op('Concat', parts.map((p) => e.unsqueeze(p, [2])), { axis: 2 });
    const split = e.op('Reshape', [stacked, e.constI([0, C, ...w.k, ...w.y])]);
    // [N, C, k0..k(sp-1), y0..y(sp-1)] → [N, C, y0, k0, y1, k1, ...]
    const perm = [0, 1];
    for (let i = 0; i < sp; i++) perm.push(2 + sp + i, 2 + i);
    const inter = e.op('Transpose', [split], { perm });
    const full = w.y.map((y, i) => y * w.k[i]);
    let g = e.op('Reshape', [inter, e.constI([0, C, ...full])]);
    // covered positions are [-pb, full - pb): crop what lies outside X, zero-extend what X has beyond
    const axes = w.x.map((_, i) => i + 2);
    const crop = w.x.map((x, i) => Math.min(x + w.pb[i], full[i]));
    if (w.pb.some((p) => p > 0) || crop.some((v, i) => v < full[i])) g = e.slice(g, w.pb, crop, axes);
    const extend = w.x.map((x, i) => x - (crop[i] - w.pb[i]));
    if (extend.some((v) => v > 0)) g = e.pad(g, [0, 0, ...w.x.map(() => 0), 0, 0, ...extend]);
    return g;
  }
  const Kp = K % 2 === 0 ? K + 1 : K;
  const kernel = new Float32Array(C * Kp * K);
  for (let ch = 0; ch < C; ch++) for (let o = 0; o < K; o++) kernel[(ch * Kp + o) * K + o] = 1;
  const all = Kp > K ? [...parts, parts[0]] : parts; // the extra channel's weights are 0: any finite data will do
  const stacked = e.op('Concat', all.map((p) => e.unsqueeze(p, [2])), { axis: 2 });
  const flat = e.op('Reshape', [stacked, e.constI([0, C * Kp, ...w.y])]);
  return e.op('ConvTranspose', [flat, e.constF(kernel, [C * Kp, 1, ...w.k])], { ...transposeAttrs(w), group: C }, 'dMaxPool');
}

function padLowest(c: VjpContext, x: string, begin: number[], end: number[]): string {
  const e = c.e;
  if (begin.every((v) => v === 0) && end.every((v) => v === 0)) return x;
  const pads = [0, 0, ...begin, 0, 0, ...end];
  if (e.opset >= 11) return e.op('Pad', [x, e.constI(pads), e.constF([LOWEST], [])], { mode: 'constant' }, 'PadLowest');
  // Pad-2: pads and value as attributes ('value' must be a FLOAT attribute although it is integral)
  const name = e.fresh('PadLowest');
  e.nodes.push(onnx.NodeProto.create({
    opType: 'Pad', input: [x], output: [name], name,
    attribute: [makeAttr('mode', 'constant'), makeAttr('pads', pads), makeAttr('value', LOWEST, true)],
  }));
  return name;
}

function maskRule(c: VjpContext): (string | null)[] {
  const e = c.e, x = c.inputs[0], y0 = c.outputs[0];
  const w = windowOf(c, x, y0);
  const C = c.dims(x)[1];
  // extent the windows cover, from the start of the begin padding
  const end = w.x.map((xs, i) => Math.max(0, (w.y[i] - 1) * w.s[i] + (w.k[i] - 1) * w.d[i] + 1 - w.pb[i] - xs));
  const xp = padLowest(c, x, w.pb, end);
  const axes = w.x.map((_, i) => i + 2);
  // ceil_mode: ORT (like PyTorch) drops a last window that would start in the end padding, ONNX shape inference does
  // not; then Y and dY are sliced to the run-time size so the static shapes agree with the windows sliced below
  let y = y0, gy = c.gyOrZeros(0);
  const inferred = w.x.map((xs, i) => {
    const span = (xs + w.pb[i] + w.pe[i] - ((w.k[i] - 1) * w.d[i] + 1)) / w.s[i];
    return (c.ai('ceil_mode', 0) ? Math.ceil(span) : Math.floor(span)) + 1;
  });
  if (c.as('auto_pad', 'NOTSET') === 'NOTSET' && inferred.some((v, i) => v !== w.y[i])) {
    const zeros = w.y.map(() => 0);
    y = e.slice(y, zeros, w.y, axes);
    gy = e.slice(gy, zeros, w.y, axes);
  }
  const zero = e.scalar(0);
  const offsets = [...indices(w.k)];
  const parts: string[] = [];
  let rest = gy;
  offsets.forEach((off, j) => {
    const starts = off.map((o, i) => o * w.d[i]);
    const ends = starts.map((s0, i) => s0 + (w.y[i] - 1) * w.s[i] + 1);
    const xj = e.slice(xp, starts, ends, axes, w.s);
    const notMax = e.op('Less', [xj, y]);
    parts.push(e.op('Where', [notMax, zero, rest]));
    if (j < offsets.length - 1) rest = e.op('Where', [notMax, rest, zero]);
  });
  return [scatter(c, parts, w, C)];
}

function indicesRule(c: VjpContext): (string | null)[] {
  if (c.ai('storage_order', 0) !== 0) c.unsupported('storage_order=1 (with the Indices-based rule used below opset 10)');
  const e = c.e, x = c.inputs[0], xd = c.dims(x);
  const w = windowOf(c, x, c.outputs[0]);
  const C = xd[1], plane = prod(w.x);
  const idx = c.forwardOutput(1);
  const gy = c.gyOrZeros(0);
  const local = e.op('Mod', [idx, e.constI([plane], [])]);
  const xstrides = w.x.map((_, i) => prod(w.x.slice(i + 1)));
  const parts: string[] = [];
  for (const off of indices(w.k)) {
    const grid: number[] = [];
    for (const p of indices(w.y)) {
      let flat = 0, ok = true;
      for (let i = 0; i < w.sp; i++) {
        const q = p[i] * w.s[i] - w.pb[i] + off[i] * w.d[i];
        if (q < 0 || q >= w.x[i]) { ok = false; break; }
        flat += q * xstrides[i];
      }
      grid.push(ok ? flat : -1);
    }
    const m = e.castFloat(e.op('Equal', [local, e.constI(grid, [1, 1, ...w.y])]));
    parts.push(e.mul(gy, m));
  }
  return [scatter(c, parts, w, C)];
}

export const maxPoolVjp: VjpRule = (c) => {
  const rule = forced ?? (c.opset >= 10 ? 'mask' : 'indices');
  if (rule === 'mask' && c.opset < 10) c.unsupported(`the mask rule below opset 10 (Slice has no steps)`);
  return rule === 'mask' ? maskRule(c) : indicesRule(c);
};

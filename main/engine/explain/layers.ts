/**
 * Target layers: 4-D float activations on a path input → logits (before global pooling), with C/H/W and the
 * total stride; the default is the last one before global pooling. Unknown names get the nearest names.
 */
import { ancestorNodes, dependents } from './backward.js';
import { loadModelInfo, type ModelInfo } from './model-info.js';
import { num, getAttr, type NodeProto } from './onnx-io.js';
import { ExplainError, type TargetLayer } from './types.js';

/** axis i of a 4-D tensor holds logical axis layout[i] of NCHW (identity = NCHW); undefined = unknown */
type Layout = readonly number[];
const NCHW: Layout = [0, 1, 2, 3];
const isNCHW = (l: Layout | undefined) => !!l && l.every((v, i) => v === i);
const SPATIAL_OPS = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'ConvInteger', 'QLinearConv']);

/**
 * Layouts of the 4-D tensors downstream of the input: Transpose permutes, Conv/Pool ops produce NCHW, a
 * Reshape/Flatten into 4-D from another rank is taken as NCHW (e.g. ShuffleNet's channel shuffle), other ops keep
 * the layout of their first 4-D input.
 */
function layoutsOf(info: ModelInfo): Map<string, Layout | undefined> {
  const lay = new Map<string, Layout | undefined>([[info.inputName, NCHW]]);
  for (const n of info.nodes) {
    const outs = (n.output ?? []).filter(Boolean);
    const x4 = (n.input ?? []).find((x) => x && lay.has(x) && info.dims.get(x)?.length === 4);
    const inLay = x4 ? lay.get(x4) : undefined;
    for (const o of outs) {
      if (info.dims.get(o)?.length !== 4) continue;
      let l: Layout | undefined;
      if (SPATIAL_OPS.has(n.opType ?? '')) l = NCHW;
      else if (n.opType === 'Transpose') {
        const perm = (getAttr(n, 'perm')?.ints ?? []).map(num);
        l = inLay && perm.length === 4 ? perm.map((p) => inLay[p]) : undefined;
      } else if (n.opType === 'Reshape' || n.opType === 'Flatten') {
        const x = (n.input ?? [])[0];
        const same = x && info.dims.get(x)?.join() === info.dims.get(o)?.join();
        l = x && info.dims.get(x)?.length === 4 ? (same ? inLay : undefined) : NCHW;
      } else if (x4) l = inLay;
      else continue;
      lay.set(o, l);
    }
  }
  return lay;
}

/** does this node pool away the spatial axes of its 4-D input (global pooling, or a flatten into a dense layer)? */
function isGlobalPool(info: ModelInfo, n: NodeProto, lay: Map<string, Layout | undefined>): boolean {
  const x = (n.input ?? [])[0];
  const xd = x ? info.dims.get(x) : undefined;
  const y = (n.output ?? [])[0];
  const yd = y ? info.dims.get(y) : undefined;
  if (!xd || xd.length !== 4 || !yd) return false;
  const xl = lay.get(x!);
  // logical H, W sizes of the input
  const hw = xl ? [xd[xl.indexOf(2)], xd[xl.indexOf(3)]] : [xd[2], xd[3]];
  const spatial = hw[0] > 1 || hw[1] > 1;
  switch (n.opType) {
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool': return isNCHW(xl);
    case 'ReduceMean': case 'ReduceMax': case 'ReduceSum': {
      if (!xl) return false;
      const a = getAttr(n, 'axes');
      const axes = a ? (a.ints ?? []).map(num) : (n.input?.[1] ? info.constValue(n.input[1]) : undefined);
      if (!axes) return false;
      const logical = new Set(axes.map((v) => xl[v < 0 ? v + 4 : v]));
      return logical.has(2) && logical.has(3) && !logical.has(1);
    }
    case 'AveragePool': case 'MaxPool':
      return yd.length === 4 && yd[2] === 1 && yd[3] === 1 && spatial;
    case 'Flatten': case 'Reshape':
      // a flatten of a spatial map straight into a dense layer (VGG-style heads); of a 1×1 map it is no pooling
      return spatial && yd.length === 2 && (info.consumers.get(y!) ?? []).some((c) => c.opType === 'Gemm' || c.opType === 'MatMul');
    default: return false;
  }
}

/** stride of each tensor: product of the strides of the Conv/Pool ops on the path from the input (max over paths) */
function stridesOf(info: ModelInfo): Map<string, number> {
  const st = new Map<string, number>([[info.inputName, 1]]);
  for (const n of info.nodes) {
    const ins = (n.input ?? []).filter((x) => x && st.has(x));
    if (!ins.length) continue;
    let s = Math.max(...ins.map((x) => st.get(x)!));
    if (SPATIAL_OPS.has(n.opType ?? '')) {
      const k = (getAttr(n, 'strides')?.ints ?? []).map(num)[0] ?? 1;
      s = n.opType === 'ConvTranspose' ? s / k : s * k;
    }
    for (const o of n.output ?? []) if (o) st.set(o, s);
  }
  return st;
}

export function targetLayersOf(info: ModelInfo): TargetLayer[] {
  const fromInput = dependents(info, [info.inputName]);
  const anc = ancestorNodes(info, info.logitsName);
  const H = info.inputShape[1];
  const lay = layoutsOf(info);
  const strides = stridesOf(info);
  // global pooling on the path: the last one is the head's (earlier ones: squeeze-excitation branches)
  const pools = info.nodes.filter((n) => anc.has(n) && (n.input ?? []).some((x) => x && fromInput.has(x)) && isGlobalPool(info, n, lay));
  const poolInput = pools.length ? pools[pools.length - 1].input![0] : undefined;
  // tensors downstream of the head pool are no spatial activations (1×1 maps, e.g. of SE branches, neither)
  const afterHead = pools.length ? dependents(info, pools[pools.length - 1].output!.filter(Boolean)) : new Set<string>();
  const layers: TargetLayer[] = [];
  for (const n of info.nodes) {
    if (!anc.has(n)) continue;
    for (const t of n.output ?? []) {
      if (!t || !fromInput.has(t) || afterHead.has(t)) continue;
      const d = info.dims.get(t);
      if (!d || d.length !== 4 || info.dtypes.get(t) !== 'float32' || d.slice(1).some((v) => v < 1)) continue;
      // channels-last (or unknown-layout) tensors are not offered as [N, C, H, W]
      if (!isNCHW(lay.get(t))) continue;
      if (d[2] === 1 && d[3] === 1) continue; // no spatial extent: nothing to localise
      // integer stride: the product of Conv/Pool strides; when resampling ops make it disagree with H/h, H/h rounded
      const ratio = H / d[2];
      let stride = strides.get(t) ?? ratio;
      if (!(stride >= 1) || Math.abs(stride - ratio) > 0.5 * ratio || !Number.isInteger(stride)) stride = Math.max(1, Math.round(ratio));
      layers.push({ name: t, node: n.name ?? '', opType: n.opType ?? '', channels: d[1], height: d[2], width: d[3], stride, isDefault: false });
    }
  }
  if (layers.length) {
    const def = layers.find((l) => l.name === poolInput) ?? layers[layers.length - 1];
    def.isDefault = true;
  }
  return layers;
}

/** Candidate target tensors of a model (path or bytes). */
export async function listTargetLayers(model: string | Uint8Array): Promise<TargetLayer[]> {
  return targetLayersOf(await loadModelInfo(model));
}

export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n];
}

export function nearestNames(name: string, names: string[], k = 3): string[] {
  return [...new Set(names)].map((n) => ({ n, d: editDistance(name, n) })).sort((x, y) => x.d - y.d || x.n.localeCompare(y.n)).slice(0, k).map((x) => x.n);
}

/** Resolve a user-given layer (tensor name, or the name of the node producing it); default when absent. */
export function resolveLayer(info: ModelInfo, layers: TargetLayer[], name: string | undefined): TargetLayer {
  if (name === undefined || name === '') {
    const def = layers.find((l) => l.isDefault);
    if (!def) throw new ExplainError('BAD_INPUT', `ONNX model ${info.label} has no 4-D activation on the path from '${info.inputName}' to '${info.logitsName}': no Grad-CAM target layer`);
    return def;
  }
  const hit = layers.find((l) => l.name === name) ?? layers.find((l) => l.node === name);
  if (hit) return hit;
  if (info.dims.has(name) || info.producer.has(name)) {
    const d = info.dims.get(name);
    throw new ExplainError('BAD_INPUT', `tensor '${name}' ([${(d ?? []).map((v) => (v < 0 ? 'N' : v)).join(', ')}]) is not a target layer: a target must be a 4-D float activation [N, C, H, W] on the path from '${info.inputName}' to '${info.logitsName}' before global pooling; candidates: ${layers.slice(-3).map((l) => `'${l.name}'`).join(', ')}`);
  }
  const near = nearestNames(name, [...layers.map((l) => l.name), ...info.allNames]);
  throw new ExplainError('UNKNOWN_TENSOR', `tensor '${name}' not found in ONNX model ${info.label}; nearest: ${near.map((n) => `'${n}'`).join(', ')}`);
}

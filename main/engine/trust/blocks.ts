/**
 * Blocks of a model for the randomization check, found from the graph: every node that reads learned parameters
 * (float initializers in a parameter slot: Conv/Gemm/MatMul weights and biases, normalisation scale/shift, a
 * per-channel Add/Mul/Sub/Div operand such as a layer scale) belongs to the named scope of its node name
 * (`/layer4/layer4.1/conv2/Conv` → `layer4/layer4.1/conv2`, the scope prefix common to all blocks stripped). A
 * normalisation node fed directly by a parameterised Conv/Gemm/MatMul joins that layer's block (conv + its
 * BatchNorm are one layer). `depth` truncates scopes to their first `depth` parts (depth 1 for ResNet: conv1,
 * layer1 … layer4, fc). Nodes without a scoped name form one block each (their node name). Blocks are ordered from
 * the logits toward the input by the graph position of their last node; an initializer shared by several blocks
 * belongs to the first of them in that order.
 */
import { DT, parseModel, type NodeProto, type TensorProto } from '../explain/onnx-io.js';

export interface Block {
  /** scope name, e.g. 'layer4' or 'features.12' */
  name: string;
  /** initializer names randomized with this block */
  tensors: string[];
  /** number of parameter values in those tensors */
  params: number;
  /** the op types of its parameterised nodes, e.g. ['Conv', 'BatchNormalization'] */
  ops: string[];
}

/** input slots that hold learned parameters, by op type (undefined: every float initializer input) */
const PARAM_SLOTS: Record<string, number[] | undefined> = {
  Conv: [1, 2], ConvTranspose: [1, 2], Gemm: [0, 1, 2], MatMul: [0, 1],
  BatchNormalization: [1, 2, 3, 4], InstanceNormalization: [1, 2], LayerNormalization: [1, 2], GroupNormalization: [1, 2],
  PRelu: [1], Add: [0, 1], Sub: [0, 1], Mul: [0, 1], Div: [0, 1],
};
const NORM_OPS = new Set(['BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization']);
const LAYER_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

const numel = (t: TensorProto) => (t.dims ?? []).reduce<number>((p, d) => p * Number(d), 1);

/** the learned-parameter initializers a node reads */
export function paramInputs(n: NodeProto, inits: Map<string, TensorProto>): string[] {
  const slots = PARAM_SLOTS[n.opType ?? ''];
  if (!slots || n.domain) return [];
  const elementwise = !LAYER_OPS.has(n.opType ?? '') && !NORM_OPS.has(n.opType ?? '') && n.opType !== 'PRelu';
  const out: string[] = [];
  for (const s of slots) {
    const x = (n.input ?? [])[s];
    const t = x ? inits.get(x) : undefined;
    if (!t || t.dataType !== DT.FLOAT) continue;
    // a scalar operand of Add/Mul/… is a constant of the formula (GELU's 0.5, attention's 1/√d), not a parameter
    if (elementwise && numel(t) < 2) continue;
    out.push(x!);
  }
  return out;
}

function scopeOf(name: string): string[] {
  const parts = name.split('/').filter(Boolean);
  return parts.length > 1 ? parts.slice(0, -1) : [name];
}

export interface BlockOptions {
  /** keep the first `depth` parts of each scope (default: the whole scope: one block per layer) */
  depth?: number;
}

/** blocks of an ONNX model (path or bytes), logits first */
export function findBlocks(model: string | Uint8Array, opts: BlockOptions = {}): Block[] {
  const { proto } = parseModel(model);
  const g = proto.graph!;
  const nodes = g.node ?? [];
  const inits = new Map<string, TensorProto>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? '', t);
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => { for (const o of n.output ?? []) if (o) producer.set(o, i); });

  const scopes: Array<{ index: number; node: NodeProto; scope: string[]; scoped: boolean; tensors: string[] }> = [];
  const byIndex = new Map<number, (typeof scopes)[number]>();
  nodes.forEach((n, i) => {
    const tensors = paramInputs(n, inits);
    if (!tensors.length) return;
    const name = n.name || `${n.opType}_${i}`;
    const e = { index: i, node: n, scope: scopeOf(name), scoped: name.includes('/'), tensors };
    scopes.push(e);
    byIndex.set(i, e);
  });
  // strip the scope prefix every scoped block shares (a wrapper module such as /net/)
  const scoped = scopes.filter((s) => s.scoped);
  let common = 0;
  if (scoped.length > 1) {
    const first = scoped[0].scope;
    while (common < first.length - 1 && scoped.every((s) => s.scope.length > common + 1 && s.scope[common] === first[common])) common++;
  }
  const depth = opts.depth !== undefined && opts.depth >= 1 ? Math.floor(opts.depth) : Infinity;
  const keyOf = new Map<number, string>();
  for (const s of scopes) {
    const parts = s.scoped ? s.scope.slice(common) : s.scope;
    keyOf.set(s.index, parts.slice(0, depth).join('/'));
  }
  // a normalisation layer fed by a parameterised Conv/Gemm/MatMul joins that layer's block
  for (const s of scopes) {
    if (!NORM_OPS.has(s.node.opType ?? '')) continue;
    const p = producer.get((s.node.input ?? [])[0] ?? '');
    const prev = p === undefined ? undefined : byIndex.get(p);
    if (prev && LAYER_OPS.has(prev.node.opType ?? '')) keyOf.set(s.index, keyOf.get(prev.index)!);
  }
  const groups = new Map<string, { last: number; nodes: Array<(typeof scopes)[number]> }>();
  for (const s of scopes) {
    const k = keyOf.get(s.index)!;
    let gr = groups.get(k);
    if (!gr) groups.set(k, (gr = { last: s.index, nodes: [] }));
    gr.last = Math.max(gr.last, s.index);
    gr.nodes.push(s);
  }
  const ordered = [...groups.entries()].sort((a, b) => b[1].last - a[1].last);
  const taken = new Set<string>();
  const blocks: Block[] = [];
  for (const [name, gr] of ordered) {
    const tensors: string[] = [];
    const ops: string[] = [];
    for (const s of gr.nodes) {
      if (!ops.includes(s.node.opType ?? '')) ops.push(s.node.opType ?? '');
      for (const t of s.tensors) if (!taken.has(t)) { taken.add(t); tensors.push(t); }
    }
    if (!tensors.length) continue;
    blocks.push({ name, tensors, params: tensors.reduce((p, t) => p + numel(inits.get(t)!), 0), ops });
  }
  return blocks;
}

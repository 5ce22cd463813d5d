/**
 * Backward-graph builder: given a graph, an output tensor Y, a seed tensor (dS/dY, same shape as Y) and the
 * tensors to differentiate with respect to, emit ONNX nodes computing dS/dX for each requested X.
 *
 * Only the sub-graph lying on a path from one of the requested tensors to Y is differentiated, in reverse
 * topological order; a tensor consumed by several nodes sums the gradients it receives. Each op's
 * vector-Jacobian product comes from rules/ (one module per op family). An op on the path without a rule,
 * or with an unsupported attribute variant, raises ExplainError('UNSUPPORTED_OP') naming op, node and path.
 */
import { Emitter } from './emit.js';
import type { GraphInfo } from './graph-info.js';
import { attrFloat, attrInt, attrInts, attrString, type NodeProto } from './onnx-io.js';
import { RULES, SUPPORTED_OPS } from './rules/index.js';
import type { VjpContext } from './rules/types.js';
import { ExplainError } from './types.js';

export type { VjpContext, VjpRule } from './rules/types.js';

export interface BackwardRequest {
  /** the differentiated tensor Y (e.g. logits) */
  output: string;
  /** name of a tensor holding dS/dY (same shape as Y) */
  seed: string;
  /** tensors X for which dS/dX is wanted */
  wrt: string[];
  /** names for messages */
  describeTarget?: string;
}

/** Forward closure: every tensor depending on one of `sources` */
export function dependents(g: GraphInfo, sources: string[]): Set<string> {
  const dep = new Set<string>(sources);
  for (const n of g.nodes) {
    if ((n.input ?? []).some((x) => x && dep.has(x))) {
      // gradients flow through float tensors only (Shape → Gather → Concat shape arithmetic carries none)
      for (const o of n.output ?? []) if (o && isFloat(g.dtypes.get(o))) dep.add(o);
    }
  }
  return dep;
}

export function isFloat(dtype: string | undefined): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** Backward closure: every node that contributes to `output` */
export function ancestorNodes(g: GraphInfo, output: string): Set<NodeProto> {
  const nodes = new Set<NodeProto>();
  const stack = [output];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = g.producer.get(t);
    if (!p || nodes.has(p.node)) continue;
    nodes.add(p.node);
    for (const x of p.node.input ?? []) if (x) stack.push(x);
  }
  return nodes;
}

/** Emit the backward graph; returns the gradient tensor name for each `wrt` (in order). */
export function buildBackward(g: GraphInfo, e: Emitter, req: BackwardRequest): string[] {
  const dep = dependents(g, req.wrt);
  const anc = ancestorNodes(g, req.output);
  const onPath = g.nodes.filter((n) => anc.has(n) && (n.input ?? []).some((x) => x && dep.has(x)));
  const from = req.describeTarget ?? req.wrt.map((w) => `'${w}'`).join(' / ');
  const contributions = new Map<string, string[]>();
  const summed = new Map<string, string | null>();
  const addGrad = (t: string, gname: string) => {
    if (summed.has(t)) throw new Error(`internal: gradient of '${t}' used before all contributions arrived`);
    let arr = contributions.get(t);
    if (!arr) contributions.set(t, (arr = []));
    arr.push(gname);
  };
  const total = (t: string): string | null => {
    if (summed.has(t)) return summed.get(t)!;
    const arr = contributions.get(t);
    const s = !arr || arr.length === 0 ? null : arr.length === 1 ? arr[0] : e.sum(arr);
    summed.set(t, s);
    return s;
  };
  addGrad(req.output, req.seed);
  const nodeIndex = new Map(g.nodes.map((n, i) => [n, i]));
  for (let i = onPath.length - 1; i >= 0; i--) {
    const node = onPath[i];
    const outputs = (node.output ?? []).map((o) => o ?? '');
    const gy = outputs.map((o) => (o ? total(o) : null));
    if (gy.every((x) => x === null)) continue;
    const inputs = (node.input ?? []).map((x) => x ?? '');
    const needs = inputs.map((x) => !!x && dep.has(x));
    const opName = node.opType ?? '?';
    const where = `op '${opName}' (node '${node.name}') lies on the gradient path from ${from} to '${req.output}'`;
    const rule = !node.domain || node.domain === 'ai.onnx' ? RULES[opName] : undefined;
    if (!rule) {
      throw new ExplainError('UNSUPPORTED_OP', `${where}${node.domain ? ` (domain '${node.domain}')` : ''} and has no vector-Jacobian rule; supported: ${SUPPORTED_OPS.join(', ')}`);
    }
    const ctx: VjpContext = {
      node, inputs, outputs, gy, needs, e, opset: g.opset,
      dims(name) {
        const d = g.dims.get(name);
        if (!d) throw new ExplainError('UNSUPPORTED_OP', `${where}: the shape of '${name}' is unknown`);
        return d;
      },
      constValue: (name) => g.constValue(name),
      ai: (n, d) => attrInt(node, n, d),
      af: (n, d) => attrFloat(node, n, d),
      ais: (n) => attrInts(node, n),
      as: (n, d) => attrString(node, n, d),
      gyOrZeros: (k) => gy[k] ?? e.zerosLike(outputs[k]),
      forwardOutput(k) {
        if (outputs[k]) return outputs[k];
        const name = e.fresh(`${opName}_out${k}`);
        e.forwardEdits.push({ nodeIndex: nodeIndex.get(node)!, outputIndex: k, name });
        outputs[k] = name;
        return name;
      },
      unsupported(why) {
        throw new ExplainError('UNSUPPORTED_OP', `${where}, but its vector-Jacobian rule does not support ${why}`);
      },
    };
    const gx = rule(ctx);
    inputs.forEach((x, k) => { if (needs[k] && gx[k]) addGrad(x, gx[k]!); });
  }
  return req.wrt.map((w) => {
    const t = total(w);
    if (t) return t;
    // no path from w to the output: its gradient is zero
    return e.zerosLike(w);
  });
}

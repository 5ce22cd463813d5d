/**
 * Emitter: appends ONNX nodes and constant initializers to a graph under construction, with helpers whose
 * signature depends on the model's default-domain opset (ReduceX axes, Squeeze/Unsqueeze axes, Split, Pad, Slice).
 * Every emitted node uses standard ai.onnx ops only, so any execution provider can run it.
 */
import { onnx, type AttrValue, type NodeProto, type TensorProto, floatTensor, int64Tensor, makeAttr } from './onnx-io.js';

export class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** outputs to add to forward nodes (by node index in the original graph) */
  readonly forwardEdits: { nodeIndex: number; outputIndex: number; name: string }[] = [];
  private n = 0;
  private consts = new Map<string, string>();
  private shapes = new Map<string, string>();

  constructor(readonly opset: number, readonly prefix = 'gb') {}

  /** Apply what was emitted to the original graph: forward-node output edits, then the new nodes and constants. */
  applyTo(g: { node?: NodeProto[] | null; initializer?: TensorProto[] | null }): void {
    const nodes = (g.node ??= []);
    for (const ed of this.forwardEdits) {
      const n = nodes[ed.nodeIndex];
      const o = [...(n.output ?? [])];
      while (o.length < ed.outputIndex) o.push('');
      o[ed.outputIndex] = ed.name;
      n.output = o;
    }
    nodes.push(...this.nodes);
    (g.initializer ??= []).push(...this.initializers);
  }

  fresh(hint: string): string { return `${this.prefix}/${hint}_${this.n++}`; }

  /** emit one node; returns its output names */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, nOut = 1, hint = op): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(hint));
    const attribute = Object.entries(attrs).filter(([, v]) => v !== undefined).map(([k, v]) => makeAttr(k, v as AttrValue, k === 'alpha' || k === 'beta' || k === 'epsilon' || k === 'gamma'));
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: outputs, name: outputs[0], attribute }));
    return outputs;
  }
  op(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, hint = op): string {
    return this.node(op, inputs, attrs, 1, hint)[0];
  }

  /** float32 constant (cached by value for small ones) */
  constF(values: ArrayLike<number>, dims: number[]): string {
    const key = values.length <= 16 ? `f${dims.join('x')}:${Array.from(values).join(',')}` : '';
    if (key && this.consts.has(key)) return this.consts.get(key)!;
    const name = this.fresh('c');
    this.initializers.push(floatTensor(name, values, dims));
    if (key) this.consts.set(key, name);
    return name;
  }
  scalar(v: number): string { return this.constF([v], []); }
  constI(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const key = values.length <= 64 ? `i${dims.join('x')}:${Array.from(values).join(',')}` : '';
    if (key && this.consts.has(key)) return this.consts.get(key)!;
    const name = this.fresh('ci');
    this.initializers.push(int64Tensor(name, values, dims));
    if (key) this.consts.set(key, name);
    return name;
  }

  /** Shape(x), emitted once per tensor */
  shapeOf(x: string): string {
    let s = this.shapes.get(x);
    if (!s) { s = this.op('Shape', [x]); this.shapes.set(x, s); }
    return s;
  }
  /** float zeros shaped like x */
  zerosLike(x: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(x)], { value: floatTensor('', [0], [1]) });
  }
  reshapeLike(x: string, like: string): string { return this.op('Reshape', [x, this.shapeOf(like)]); }
  expandLike(x: string, like: string): string { return this.op('Expand', [x, this.shapeOf(like)]); }
  castFloat(x: string): string { return this.op('Cast', [x], { to: 1 }); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  neg(a: string): string { return this.op('Neg', [a]); }
  relu(a: string): string { return this.op('Relu', [a]); }
  /** Σ of several tensors (Add chain) */
  sum(xs: string[]): string {
    let acc = xs[0];
    for (let i = 1; i < xs.length; i++) acc = this.add(acc, xs[i]);
    return acc;
  }

  /** ReduceSum/ReduceMean/ReduceMax over axes (axes as input from opset 13 for Sum, 18 for the others) */
  reduce(op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax', x: string, axes: number[], keepdims: boolean): string {
    const axesAsInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) return this.op(op, [x, this.constI(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op(op, [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.constI(axes)]) : this.op('Unsqueeze', [x], { axes });
  }
  squeeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Squeeze', [x, this.constI(axes)]) : this.op('Squeeze', [x], { axes });
  }
  split(x: string, axis: number, sizes: number[]): string[] {
    if (this.opset >= 13) return this.node('Split', [x, this.constI(sizes)], { axis }, sizes.length);
    return this.node('Split', [x], { axis, split: sizes }, sizes.length);
  }
  /** constant-mode Pad; pads = [begin_0.., end_0..] over all axes */
  pad(x: string, pads: number[]): string {
    if (this.opset >= 11) return this.op('Pad', [x, this.constI(pads)], { mode: 'constant' });
    return this.op('Pad', [x], { mode: 'constant', pads });
  }
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    if (this.opset >= 10) {
      const ins = [x, this.constI(starts), this.constI(ends), this.constI(axes)];
      if (steps) ins.push(this.constI(steps));
      return this.op('Slice', ins);
    }
    return this.op('Slice', [x], { starts, ends, axes });
  }
  /** swap the last two axes of a rank-r tensor */
  transposeLast2(x: string, rank: number): string {
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return this.op('Transpose', [x], { perm });
  }
}

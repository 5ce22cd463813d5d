/**
 * Data-movement ops: Flatten, Reshape, Squeeze, Unsqueeze (dX = Reshape(dY, shape(X))), Transpose (inverse
 * permutation), Concat (Split of dY), Split (Concat of dYs, zeros for unused outputs), Slice (steps 1: zero Pad),
 * Gather with constant indices (one-hot contraction: duplicates sum), Pad (constant mode: Slice back),
 * Expand (sum over the broadcast axes).
 */
import type { VjpContext, VjpRule } from './types.js';
import { normAxes, unbroadcast } from './util.js';

const reshapeBack: VjpRule = (c) => [c.e.reshapeLike(c.gy[0]!, c.inputs[0]), ...c.inputs.slice(1).map(() => null)];

/** constant integer input or attribute (per opset) */
function intsInputOrAttr(c: VjpContext, inputIndex: number, attr: string, what: string): number[] | undefined {
  const a = c.ais(attr);
  if (a) return a;
  const name = c.inputs[inputIndex];
  if (!name) return undefined;
  const v = c.constValue(name);
  if (!v) c.unsupported(`a non-constant '${what}' input ('${name}')`);
  return v;
}

function concatLike(c: VjpContext, xs: string[], axis: number): number[] {
  return xs.map((x) => {
    const d = c.dims(x)[axis];
    if (d < 0) c.unsupported('concatenation along the batch axis');
    return d;
  });
}

/**
 * reflect / edge Pad, axis by axis (the pads are separable; undo the last axis first): the centre slice, plus the
 * padded borders folded back — edge: summed onto the first/last element; reflect: reversed onto x[1..b] / x[d−1−e..d−2].
 */
function padBorderBack(c: VjpContext, mode: string, begin: number[], end: number[]): string {
  const e = c.e, xd = c.dims(c.inputs[0]), r = xd.length;
  if (c.opset < 10) c.unsupported(`mode='${mode}' before opset 10`);
  let g = c.gy[0]!;
  const padAxis = (t: string, a: number, lo: number, hi: number) => {
    const p = Array(2 * r).fill(0);
    p[a] = lo; p[r + a] = hi;
    return e.pad(t, p);
  };
  for (let a = r - 1; a >= 0; a--) {
    const b = begin[a], en = end[a], d = xd[a];
    if (b === 0 && en === 0) continue;
    if (b < 0 || en < 0) c.unsupported(`negative pads with mode='${mode}'`);
    if (d < 0) c.unsupported('padding along the batch axis');
    if (mode === 'reflect' && (b > d - 1 || en > d - 1)) c.unsupported(`reflect pads larger than the axis size - 1`);
    const parts = [e.slice(g, [b], [b + d], [a])];
    if (b > 0) {
      parts.push(mode === 'edge'
        ? padAxis(e.reduce('ReduceSum', e.slice(g, [0], [b], [a]), [a], true), a, 0, d - 1)
        : padAxis(e.slice(g, [b - 1], [-(2 ** 62)], [a], [-1]), a, 1, d - 1 - b));
    }
    if (en > 0) {
      parts.push(mode === 'edge'
        ? padAxis(e.reduce('ReduceSum', e.slice(g, [b + d], [b + d + en], [a]), [a], true), a, d - 1, 0)
        : padAxis(e.slice(g, [b + d + en - 1], [b + d - 1], [a], [-1]), a, d - 1 - en, 1));
    }
    g = e.sum(parts);
  }
  return g;
}

export const shapeRules: Record<string, VjpRule> = {
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (c) => {
    const r = c.dims(c.inputs[0]).length;
    const perm = c.ais('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const inv = Array(r).fill(0);
    perm.forEach((p, i) => { inv[p] = i; });
    return [c.e.op('Transpose', [c.gy[0]!], { perm: inv })];
  },
  Concat: (c) => {
    const r = c.dims(c.outputs[0]).length;
    const axis = normAxes([c.ai('axis', 0)], r)[0];
    const sizes = concatLike(c, c.inputs, axis);
    const parts = c.e.split(c.gy[0]!, axis, sizes);
    return parts.map((p, i) => (c.needs[i] ? p : null));
  },
  Split: (c) => {
    const r = c.dims(c.inputs[0]).length;
    const axis = normAxes([c.ai('axis', 0)], r)[0];
    if (c.dims(c.inputs[0])[axis] < 0) c.unsupported('a split along the batch axis');
    const gs = c.outputs.map((_, i) => c.gyOrZeros(i));
    return [gs.length === 1 ? gs[0] : c.e.op('Concat', gs, { axis }), ...c.inputs.slice(1).map(() => null)];
  },
  Slice: (c) => {
    const x = c.inputs[0], xd = c.dims(x), r = xd.length;
    let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
    if (c.opset < 10) {
      starts = c.ais('starts') ?? []; ends = c.ais('ends') ?? []; axes = c.ais('axes');
    } else {
      starts = intsInputOrAttr(c, 1, '__none', 'starts') ?? [];
      ends = intsInputOrAttr(c, 2, '__none', 'ends') ?? [];
      axes = intsInputOrAttr(c, 3, '__none', 'axes');
      steps = intsInputOrAttr(c, 4, '__none', 'steps');
    }
    axes = normAxes(axes ?? starts.map((_, i) => i), r);
    if (steps && steps.some((s) => s !== 1)) c.unsupported(`steps other than 1 (steps=[${steps.join(', ')}])`);
    const pads = Array(2 * r).fill(0);
    axes.forEach((a, i) => {
      const d = xd[a];
      if (d < 0) c.unsupported('slicing along the batch axis');
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const s = clamp(starts[i]), en = Math.max(s, clamp(ends[i]));
      pads[a] = s; pads[r + a] = d - en;
    });
    return [c.e.pad(c.gy[0]!, pads), ...c.inputs.slice(1).map(() => null)];
  },
  Gather: (c) => {
    if (c.needs[1]) c.unsupported('indices that depend on the differentiated tensor');
    const e = c.e, x = c.inputs[0], xd = c.dims(x), r = xd.length;
    const axis = normAxes([c.ai('axis', 0)], r)[0];
    const idx = c.constValue(c.inputs[1]);
    if (!idx) return c.unsupported(`non-constant indices ('${c.inputs[1]}')`);
    const D = xd[axis];
    if (D < 0) c.unsupported('gathering along the batch axis');
    const n = idx.length;
    // one-hot [n, D]: M[j, i] = 1 when idx_j (wrapped) == i
    const m = new Float32Array(n * D);
    idx.forEach((v, j) => { m[j * D + (v < 0 ? v + D : v)] = 1; });
    // dY: [...x[:axis], ...idx.shape, ...x[axis+1:]] → [...x[:axis], n, ...x[axis+1:]]
    const pre = xd.slice(0, axis), post = xd.slice(axis + 1);
    const dimsFlat = [...pre.map((d, i) => (d < 0 ? (i === 0 ? 0 : -1) : d)), n, ...post.map((d) => (d < 0 ? -1 : d))];
    if (dimsFlat.filter((d) => d === -1).length > 1) c.unsupported('more than one dynamic axis');
    const g = e.op('Reshape', [c.gy[0]!, e.constI(dimsFlat)]);
    // move axis to the end, contract with M, move back
    const rank = r;
    const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
    const inv = Array(rank).fill(0);
    perm.forEach((p, i) => { inv[p] = i; });
    const moved = axis === rank - 1 ? g : e.op('Transpose', [g], { perm });
    const contracted = e.op('MatMul', [moved, e.constF(m, [n, D])]);
    const back = axis === rank - 1 ? contracted : e.op('Transpose', [contracted], { perm: inv });
    return [back, null];
  },
  Pad: (c) => {
    const mode = c.as('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') c.unsupported(`mode='${mode}' (only 'constant', 'reflect', 'edge')`);
    const x = c.inputs[0], xd = c.dims(x), r = xd.length;
    let pads = c.opset < 11 ? c.ais('pads') ?? c.ais('paddings') : c.constValue(c.inputs[1]);
    if (!pads) return c.unsupported(`non-constant pads ('${c.inputs[1]}')`);
    if (c.opset >= 18 && c.inputs[3]) {
      const axes = c.constValue(c.inputs[3]);
      if (!axes) return c.unsupported('non-constant axes');
      const full = Array(2 * r).fill(0);
      normAxes(axes, r).forEach((a, i) => { full[a] = pads![i]; full[r + a] = pads![axes.length + i]; });
      pads = full;
    }
    const begin = pads.slice(0, r), end = pads.slice(r);
    if (mode !== 'constant') return [padBorderBack(c, mode, begin, end), ...c.inputs.slice(1).map(() => null)];
    // positive pads: slice them off; negative pads (crops): pad zeros back
    const axes: number[] = [], starts: number[] = [], ends: number[] = [];
    const back = Array(2 * r).fill(0);
    const yd = c.dims(c.outputs[0]);
    for (let a = 0; a < r; a++) {
      if (begin[a] > 0 || end[a] > 0) {
        if (yd[a] < 0) c.unsupported('padding along the batch axis');
        axes.push(a); starts.push(Math.max(0, begin[a])); ends.push(yd[a] - Math.max(0, end[a]));
      }
      back[a] = Math.max(0, -begin[a]); back[r + a] = Math.max(0, -end[a]);
    }
    let g = c.gy[0]!;
    if (axes.length) g = c.e.slice(g, starts, ends, axes);
    if (back.some((v) => v > 0)) g = c.e.pad(g, back);
    return [g, ...c.inputs.slice(1).map(() => null)];
  },
  Expand: (c) => [unbroadcast(c, c.gy[0]!, c.inputs[0], c.outputs[0]), null],
};

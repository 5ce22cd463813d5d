/**
 * Reductions and normalisations: ReduceMean / ReduceSum (axes as attribute or input, keepdims,
 * noop_with_empty_axes), Softmax / LogSoftmax (opset < 13: the 2-D coercion at `axis`), LayerNormalization.
 */
import type { VjpContext, VjpRule } from './types.js';
import { normAxes, prod } from './util.js';

function reduceAxes(c: VjpContext): number[] | null {
  const r = c.dims(c.inputs[0]).length;
  let axes = c.ais('axes');
  if (!axes && c.inputs[1]) {
    const v = c.constValue(c.inputs[1]);
    if (!v) c.unsupported(`non-constant axes ('${c.inputs[1]}')`);
    axes = v;
  }
  if (!axes || axes.length === 0) {
    if (c.ai('noop_with_empty_axes', 0)) return null;
    return Array.from({ length: r }, (_, i) => i);
  }
  return normAxes(axes, r).sort((a, b) => a - b);
}

function reduceBack(c: VjpContext, mean: boolean): (string | null)[] {
  const e = c.e, x = c.inputs[0], xd = c.dims(x);
  const axes = reduceAxes(c);
  if (axes === null) return [c.gy[0], null];
  let g = c.gy[0]!;
  if (!c.ai('keepdims', 1)) g = e.unsqueeze(g, axes);
  if (mean) {
    const n = prod(axes.map((a) => xd[a]));
    if (n < 0 || axes.some((a) => xd[a] < 0)) c.unsupported('a mean over the batch axis');
    g = e.mul(g, e.scalar(1 / n));
  }
  return [e.expandLike(g, x), null];
}

/** the axes Softmax normalises over: one axis (opset ≥ 13) or all axes from `axis` (2-D coercion) */
function softmaxAxes(c: VjpContext): number[] {
  const r = c.dims(c.inputs[0]).length;
  const axis = normAxes([c.ai('axis', c.opset >= 13 ? -1 : 1)], r)[0];
  return c.opset >= 13 ? [axis] : Array.from({ length: r - axis }, (_, i) => axis + i);
}

export const normRules: Record<string, VjpRule> = {
  ReduceMean: (c) => reduceBack(c, true),
  ReduceSum: (c) => reduceBack(c, false),
  Softmax: (c) => {
    // dX = Y ⊙ (dY − Σ(dY ⊙ Y))
    const e = c.e, y = c.outputs[0], g = c.gy[0]!;
    const s = e.reduce('ReduceSum', e.mul(g, y), softmaxAxes(c), true);
    return [e.mul(y, e.sub(g, s))];
  },
  LogSoftmax: (c) => {
    // dX = dY − softmax(X) ⊙ Σ dY
    const e = c.e, y = c.outputs[0], g = c.gy[0]!;
    const s = e.reduce('ReduceSum', g, softmaxAxes(c), true);
    return [e.sub(g, e.mul(e.op('Exp', [y]), s))];
  },
  LayerNormalization: (c) => {
    if (c.needs[1] || c.needs[2]) c.unsupported('scale/bias that depend on the differentiated tensor');
    const e = c.e, x = c.inputs[0], scale = c.inputs[1], r = c.dims(x).length;
    const axis = normAxes([c.ai('axis', -1)], r)[0];
    const axes = Array.from({ length: r - axis }, (_, i) => axis + i);
    const eps = c.af('epsilon', 1e-5);
    // x̂ = (x − μ)/σ; g = dY ⊙ scale; dX = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / σ
    const mu = e.reduce('ReduceMean', x, axes, true);
    const xc = e.sub(x, mu);
    const varr = e.reduce('ReduceMean', e.mul(xc, xc), axes, true);
    const sigma = e.op('Sqrt', [e.add(varr, e.scalar(eps))]);
    const xhat = e.div(xc, sigma);
    const g = e.mul(c.gy[0]!, scale);
    const mg = e.reduce('ReduceMean', g, axes, true);
    const mgx = e.reduce('ReduceMean', e.mul(g, xhat), axes, true);
    return [e.div(e.sub(e.sub(g, mg), e.mul(xhat, mgx)), sigma), null, null];
  },
};

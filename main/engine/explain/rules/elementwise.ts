/**
 * Unary element-wise ops and broadcasting binary arithmetic. Gradients at kinks follow PyTorch's conventions
 * (Relu: Y > 0; LeakyRelu: X > 0; Clip/HardSigmoid: strictly inside the range; HardSwish: x/3 + 1/2 on [-3, 3]).
 */
import type { VjpContext, VjpRule } from './types.js';
import { unbroadcast } from './util.js';

/** gy[0] ⊙ factor, for the first input only */
function times(c: VjpContext, factor: string): (string | null)[] {
  return [c.e.mul(c.gy[0]!, factor)];
}
const mask = (c: VjpContext, cond: string) => c.e.castFloat(cond);

export const elementwiseRules: Record<string, VjpRule> = {
  Identity: (c) => [c.gy[0]],
  Dropout: (c) => {
    if (c.inputs[2]) {
      const v = c.constValue(c.inputs[2]);
      if (v === undefined || v[0] !== 0) c.unsupported('training_mode other than a constant false');
    }
    return [c.gyOrZeros(0)];
  },
  Cast: (c) => {
    if (c.ai('to', 0) !== 1) c.unsupported(`a cast to a non-float32 type (to=${c.ai('to', 0)})`);
    return [c.gy[0]];
  },
  Neg: (c) => [c.e.neg(c.gy[0]!)],
  Relu: (c) => times(c, mask(c, c.e.op('Greater', [c.outputs[0], c.e.scalar(0)]))),
  LeakyRelu: (c) => {
    const alpha = c.af('alpha', 0.01);
    const e = c.e;
    return [e.op('Where', [e.op('Greater', [c.inputs[0], e.scalar(0)]), c.gy[0]!, e.mul(c.gy[0]!, e.scalar(alpha))])];
  },
  Clip: (c) => {
    const e = c.e;
    let lo: string | undefined, hi: string | undefined;
    if (c.opset >= 11) {
      if (c.needs[1] || c.needs[2]) c.unsupported('min/max inputs that depend on the differentiated tensor');
      lo = c.inputs[1] || undefined; hi = c.inputs[2] || undefined;
    } else {
      const a = c.af('min', -3.4028234663852886e38), b = c.af('max', 3.4028234663852886e38);
      lo = e.scalar(a); hi = e.scalar(b);
    }
    const x = c.inputs[0];
    let cond: string | undefined;
    if (lo) cond = e.op('Greater', [x, lo]);
    if (hi) { const h = e.op('Less', [x, hi]); cond = cond ? e.op('And', [cond, h]) : h; }
    return [cond ? e.mul(c.gy[0]!, mask(c, cond)) : c.gy[0]];
  },
  Sigmoid: (c) => {
    const e = c.e, y = c.outputs[0];
    return times(c, e.mul(y, e.sub(e.scalar(1), y)));
  },
  HardSigmoid: (c) => {
    const e = c.e, alpha = c.af('alpha', 0.2), beta = c.af('beta', 0.5);
    const z = e.add(e.mul(c.inputs[0], e.scalar(alpha)), e.scalar(beta));
    const inside = e.op('And', [e.op('Greater', [z, e.scalar(0)]), e.op('Less', [z, e.scalar(1)])]);
    return times(c, e.mul(mask(c, inside), e.scalar(alpha)));
  },
  HardSwish: (c) => {
    const e = c.e, x = c.inputs[0];
    const slope = e.add(e.div(x, e.scalar(3)), e.scalar(0.5));
    const d = e.op('Where', [e.op('Less', [x, e.scalar(-3)]), e.scalar(0), e.op('Where', [e.op('Greater', [x, e.scalar(3)]), e.scalar(1), slope])]);
    return times(c, d);
  },
  Gelu: (c) => {
    const e = c.e, x = c.inputs[0], approx = c.as('approximate', 'none');
    if (approx === 'none') {
      // Φ(x) + x·φ(x)
      const cdf = e.mul(e.add(e.op('Erf', [e.mul(x, e.scalar(Math.SQRT1_2))]), e.scalar(1)), e.scalar(0.5));
      const pdf = e.mul(e.op('Exp', [e.mul(e.mul(x, x), e.scalar(-0.5))]), e.scalar(1 / Math.sqrt(2 * Math.PI)));
      return times(c, e.add(cdf, e.mul(x, pdf)));
    }
    if (approx !== 'tanh') c.unsupported(`approximate='${approx}'`);
    // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³): y' = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)
    const k = Math.sqrt(2 / Math.PI), x2 = e.mul(x, x);
    const t = e.op('Tanh', [e.mul(e.add(x, e.mul(e.mul(x2, x), e.scalar(0.044715))), e.scalar(k))]);
    const du = e.mul(e.add(e.mul(x2, e.scalar(3 * 0.044715)), e.scalar(1)), e.scalar(k));
    const d = e.add(e.mul(e.add(t, e.scalar(1)), e.scalar(0.5)), e.mul(e.mul(e.mul(x, e.sub(e.scalar(1), e.mul(t, t))), du), e.scalar(0.5)));
    return times(c, d);
  },
  Softplus: (c) => times(c, c.e.op('Sigmoid', [c.inputs[0]])),
  Elu: (c) => {
    // x > 0: 1; else y + alpha
    const e = c.e, alpha = c.af('alpha', 1);
    return [e.op('Where', [e.op('Greater', [c.inputs[0], e.scalar(0)]), c.gy[0]!, e.mul(c.gy[0]!, e.add(c.outputs[0], e.scalar(alpha)))])];
  },
  Tanh: (c) => {
    const e = c.e, y = c.outputs[0];
    return times(c, e.sub(e.scalar(1), e.mul(y, y)));
  },
  Erf: (c) => {
    const e = c.e, x = c.inputs[0];
    return times(c, e.mul(e.op('Exp', [e.neg(e.mul(x, x))]), e.scalar(2 / Math.sqrt(Math.PI))));
  },
  Sqrt: (c) => [c.e.div(c.e.mul(c.gy[0]!, c.e.scalar(0.5)), c.outputs[0])],
  Exp: (c) => times(c, c.outputs[0]),
  Log: (c) => [c.e.div(c.gy[0]!, c.inputs[0])],
  Reciprocal: (c) => {
    const e = c.e, y = c.outputs[0];
    return [e.neg(e.mul(c.gy[0]!, e.mul(y, y)))];
  },
  Abs: (c) => times(c, c.e.op('Sign', [c.inputs[0]])),

  Add: (c) => {
    const [a, b] = c.inputs, y = c.outputs[0], g = c.gy[0]!;
    return [c.needs[0] ? unbroadcast(c, g, a, y) : null, c.needs[1] ? unbroadcast(c, g, b, y) : null];
  },
  Sub: (c) => {
    const [a, b] = c.inputs, y = c.outputs[0], g = c.gy[0]!;
    return [c.needs[0] ? unbroadcast(c, g, a, y) : null, c.needs[1] ? unbroadcast(c, c.e.neg(g), b, y) : null];
  },
  Mul: (c) => {
    const [a, b] = c.inputs, y = c.outputs[0], g = c.gy[0]!, e = c.e;
    return [c.needs[0] ? unbroadcast(c, e.mul(g, b), a, y) : null, c.needs[1] ? unbroadcast(c, e.mul(g, a), b, y) : null];
  },
  Div: (c) => {
    const [a, b] = c.inputs, y = c.outputs[0], g = c.gy[0]!, e = c.e;
    const ga = c.needs[0] ? unbroadcast(c, e.div(g, b), a, y) : null;
    const gb = c.needs[1] ? unbroadcast(c, e.neg(e.div(e.mul(g, y), b)), b, y) : null;
    return [ga, gb];
  },
  Pow: (c) => {
    if (c.needs[1]) c.unsupported('a gradient with respect to the exponent (only a constant or off-path exponent)');
    const e = c.e, [a, b] = c.inputs, y = c.outputs[0];
    const p = c.constValue(b);
    let factor: string;
    if (p && p.length === 1) {
      const k = p[0];
      factor = k === 1 ? e.scalar(1) : k === 2 ? e.mul(a, e.scalar(2)) : e.mul(e.op('Pow', [a, e.scalar(k - 1)]), e.scalar(k));
    } else {
      const bf = e.castFloat(b);
      factor = e.mul(e.op('Pow', [a, e.sub(bf, e.scalar(1))]), bf);
    }
    return [unbroadcast(c, e.mul(c.gy[0]!, factor), a, y), null];
  },
};

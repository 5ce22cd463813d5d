/**
 * Gemm (alpha, beta, transA, transB, broadcast C) and MatMul (batched, broadcasting, 1-D operands).
 * Y = alpha·A'·B' + beta·C: dA' = alpha·dY·B'ᵀ, dB' = alpha·A'ᵀ·dY, dC = unbroadcast(beta·dY).
 * MatMul: dA = unbroadcast(dY·Bᵀ), dB = unbroadcast(Aᵀ·dY).
 */
import type { VjpRule } from './types.js';
import { unbroadcast } from './util.js';

export const linalgRules: Record<string, VjpRule> = {
  Gemm: (c) => {
    const e = c.e, [a, b, cc] = c.inputs, g = c.gy[0]!;
    const alpha = c.af('alpha', 1), beta = c.af('beta', 1);
    const transA = c.ai('transA', 0), transB = c.ai('transB', 0);
    let ga: string | null = null, gb: string | null = null, gc: string | null = null;
    if (c.needs[0]) {
      // dA' = alpha · dY · B'ᵀ; B'ᵀ = B when transB else Bᵀ
      const dAp = e.op('Gemm', [g, b], { alpha, transB: transB ? 0 : 1 });
      ga = transA ? e.op('Transpose', [dAp], { perm: [1, 0] }) : dAp;
    }
    if (c.needs[1]) {
      // dB' = alpha · A'ᵀ · dY; A'ᵀ = A when transA else Aᵀ
      const dBp = e.op('Gemm', [a, g], { alpha, transA: transA ? 0 : 1 });
      gb = transB ? e.op('Transpose', [dBp], { perm: [1, 0] }) : dBp;
    }
    if (cc && c.needs[2]) gc = unbroadcast(c, beta === 1 ? g : e.mul(g, e.scalar(beta)), cc, c.outputs[0]);
    return [ga, gb, gc];
  },
  MatMul: (c) => {
    const e = c.e, [a, b] = c.inputs;
    const ad = c.dims(a), bd = c.dims(b);
    let g = c.gy[0]!;
    // 1-D operands are promoted (A: [k] → [1, k]; B: [k] → [k, 1]) and dY gets the matching unit axes
    const a2 = ad.length === 1 ? e.unsqueeze(a, [0]) : a;
    const b2 = bd.length === 1 ? e.unsqueeze(b, [1]) : b;
    const ad2 = ad.length === 1 ? [1, ad[0]] : ad, bd2 = bd.length === 1 ? [bd[0], 1] : bd;
    const ry = Math.max(ad2.length, bd2.length);
    if (ad.length === 1 && bd.length === 1) g = e.op('Reshape', [g, e.constI([1, 1])]);
    else if (ad.length === 1) g = e.unsqueeze(g, [ry - 2]);
    else if (bd.length === 1) g = e.unsqueeze(g, [ry - 1]);
    let ga: string | null = null, gb: string | null = null;
    if (c.needs[0]) {
      const t = sumTo(c, e.op('MatMul', [g, e.transposeLast2(b2, bd2.length)]), ry, ad2);
      ga = ad.length === 1 || ad2.length !== ry ? e.reshapeLike(t, a) : t;
    }
    if (c.needs[1]) {
      const t = sumTo(c, e.op('MatMul', [e.transposeLast2(a2, ad2.length), g]), ry, bd2);
      gb = bd.length === 1 || bd2.length !== ry ? e.reshapeLike(t, b) : t;
    }
    return [ga, gb];
  },
};

/** sum the leading batch axes of t (rank ry) that the operand (dims od) broadcast over */
function sumTo(c: Parameters<VjpRule>[0], t: string, ry: number, od: number[]): string {
  const off = ry - od.length;
  const axes: number[] = [];
  // compare against the batch dims of the result: t has the broadcast batch shape
  for (let i = 0; i < ry - 2; i++) {
    if (i < off) axes.push(i);
    else if (od[i - off] === 1) axes.push(i);
  }
  return axes.length ? c.e.reduce('ReduceSum', t, axes, true) : t;
}

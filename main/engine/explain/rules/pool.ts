/**
 * Pooling. MaxPool: see maxpool.ts (dY to the first maximum of each window, without the Indices output). AveragePool: dX =
 * ConvTranspose(dY / divisor, ones) — divisor per output cell as ORT computes it (count_include_pad, ceil_mode,
 * pads), exact at borders. GlobalAveragePool: Expand(dY / HW). GlobalMaxPool: dY to the first arg-max.
 */
import type { VjpRule } from './types.js';
import { maxPoolVjp } from './maxpool.js';
import { indices, prod, transposeAttrs, windowOf, type Window } from './util.js';

/** 1 / divisor for every output cell, [1, 1, ...y] flattened */
function inverseDivisors(w: Window, includePad: boolean): number[] {
  const perAxis: number[][] = [];
  for (let i = 0; i < w.sp; i++) {
    const row: number[] = [];
    for (let o = 0; o < w.y[i]; o++) {
      const start = o * w.s[i] - w.pb[i];
      let n = 0;
      if (includePad) {
        const end = Math.min(start + (w.k[i] - 1) * w.d[i] + 1, w.x[i] + w.pe[i]);
        for (let j = 0; j < w.k[i]; j++) if (start + j * w.d[i] < end) n++;
      } else {
        for (let j = 0; j < w.k[i]; j++) { const p = start + j * w.d[i]; if (p >= 0 && p < w.x[i]) n++; }
      }
      row.push(n);
    }
    perAxis.push(row);
  }
  const out: number[] = [];
  for (const idx of indices(w.y)) out.push(1 / idx.reduce((p, o, i) => p * perAxis[i][o], 1));
  return out;
}

export const poolRules: Record<string, VjpRule> = {
  GlobalAveragePool: (c) => {
    const x = c.inputs[0], xd = c.dims(x);
    const hw = prod(xd.slice(2));
    if (xd.slice(2).some((v) => v < 0)) c.unsupported('a dynamic spatial size');
    return [c.e.expandLike(c.e.mul(c.gy[0]!, c.e.scalar(1 / hw)), x)];
  },
  GlobalMaxPool: (c) => {
    const e = c.e, x = c.inputs[0], xd = c.dims(x);
    const P = prod(xd.slice(2));
    if (xd.slice(2).some((v) => v < 0)) c.unsupported('a dynamic spatial size');
    const flat = e.op('Reshape', [x, e.constI([0, 0, -1])]);
    const arg = e.op('ArgMax', [flat], { axis: 2, keepdims: 1 });
    const onehot = e.castFloat(e.op('Equal', [arg, e.constI(Array.from({ length: P }, (_, i) => i), [P])]));
    const g = e.mul(onehot, e.op('Reshape', [c.gy[0]!, e.constI([0, 0, 1])]));
    return [e.reshapeLike(g, x)];
  },
  AveragePool: (c) => {
    const e = c.e, x = c.inputs[0], xd = c.dims(x);
    const w = windowOf(c, x, c.outputs[0]);
    const inv = inverseDivisors(w, c.ai('count_include_pad', 0) !== 0);
    const C = xd[1];
    const g = e.mul(c.gy[0]!, e.constF(inv, [1, 1, ...w.y]));
    const kernel = e.constF(new Float32Array(C * prod(w.k)).fill(1), [C, 1, ...w.k]);
    return [e.op('ConvTranspose', [g, kernel], { ...transposeAttrs(w), group: C }, 'dAvgPool')];
  },
  MaxPool: maxPoolVjp,
};

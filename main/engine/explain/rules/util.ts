/** Shared helpers for vector-Jacobian rules. */
import type { VjpContext } from './types.js';

/** Sum a gradient g (shaped like y) over the axes along which x was broadcast to y, then shape it like x. */
export function unbroadcast(c: VjpContext, g: string, x: string, y: string): string {
  const xd = c.dims(x), yd = c.dims(y);
  const r = yd.length, off = r - xd.length;
  const axes: number[] = [];
  for (let i = 0; i < r; i++) {
    if (i < off) axes.push(i);
    else if (xd[i - off] === 1 && yd[i] !== 1) axes.push(i);
  }
  let out = g;
  if (axes.length) out = c.e.reduce('ReduceSum', g, axes, true);
  if (off > 0) out = xd.every((d) => d >= 0) ? c.e.op('Reshape', [out, c.e.constI(xd)]) : c.e.reshapeLike(out, x);
  return out;
}

/** normalise possibly-negative axes for a rank */
export function normAxes(axes: number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}

export interface Window {
  sp: number;            // spatial rank
  k: number[];           // kernel
  s: number[];           // strides
  d: number[];           // dilations
  pb: number[];          // pads begin
  pe: number[];          // pads end
  x: number[];           // input spatial dims
  y: number[];           // output spatial dims
}

/** Resolve kernel/strides/dilations/pads (auto_pad included) of a Conv or pool node from static shapes. */
export function windowOf(c: VjpContext, x: string, y: string, kernel?: number[]): Window {
  const xd = c.dims(x), yd = c.dims(y);
  const sp = xd.length - 2;
  const xs = xd.slice(2), ys = yd.slice(2);
  if (xs.some((v) => v < 0) || ys.some((v) => v < 0)) c.unsupported('a dynamic spatial size');
  const k = c.ais('kernel_shape') ?? kernel;
  if (!k || k.length !== sp) c.unsupported(`a kernel_shape that does not match the input rank`);
  const s = c.ais('strides') ?? Array(sp).fill(1);
  const d = c.ais('dilations') ?? Array(sp).fill(1);
  const autoPad = c.as('auto_pad', 'NOTSET');
  let pb: number[], pe: number[];
  if (autoPad === 'NOTSET') {
    const pads = c.ais('pads') ?? Array(2 * sp).fill(0);
    pb = pads.slice(0, sp); pe = pads.slice(sp);
  } else if (autoPad === 'VALID') {
    pb = Array(sp).fill(0); pe = Array(sp).fill(0);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pb = []; pe = [];
    for (let i = 0; i < sp; i++) {
      const total = Math.max(0, (ys[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - xs[i]);
      const small = Math.floor(total / 2);
      pb.push(autoPad === 'SAME_UPPER' ? small : total - small);
      pe.push(total - pb[i]);
    }
  } else c.unsupported(`auto_pad='${autoPad}'`);
  return { sp, k, s, d, pb, pe, x: xs, y: ys };
}

/**
 * ConvTranspose attributes that invert a window exactly: output size = x. When the forward output
 * over-covers the input (ceil_mode), the excess is cropped through a larger end pad.
 */
export function transposeAttrs(w: Window): { strides: number[]; dilations: number[]; pads: number[]; output_padding: number[]; kernel_shape: number[] } {
  const op: number[] = [], pe: number[] = [];
  for (let i = 0; i < w.sp; i++) {
    const base = (w.y[i] - 1) * w.s[i] + (w.k[i] - 1) * w.d[i] + 1 - w.pb[i] - w.pe[i];
    if (base <= w.x[i]) { op.push(w.x[i] - base); pe.push(w.pe[i]); } else { op.push(0); pe.push(w.pe[i] + base - w.x[i]); }
  }
  return { strides: w.s, dilations: w.d, pads: [...w.pb, ...pe], output_padding: op, kernel_shape: w.k };
}

/** product of dims */
export function prod(a: number[]): number { return a.reduce((p, v) => p * v, 1); }

/** iterate all index tuples of a box */
export function* indices(dims: number[]): Generator<number[]> {
  const n = prod(dims);
  const idx = Array(dims.length).fill(0);
  for (let f = 0; f < n; f++) {
    yield idx.slice();
    for (let i = dims.length - 1; i >= 0; i--) { if (++idx[i] < dims[i]) break; idx[i] = 0; }
  }
}

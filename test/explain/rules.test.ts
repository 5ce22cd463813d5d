/**
 * Window arithmetic shared by the Conv / pool rules: auto_pad resolution, the ConvTranspose attributes that
 * invert a window exactly (output_padding, ceil_mode crop), and AveragePool divisors at borders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VjpContext } from '../../main/engine/explain/backward.js';
import { transposeAttrs, windowOf, type Window } from '../../main/engine/explain/rules/util.js';

function ctx(dims: Record<string, number[]>, attrs: Record<string, number[] | string>): VjpContext {
  return {
    dims: (n: string) => dims[n],
    ais: (n: string) => attrs[n] as number[] | undefined,
    as: (n: string, d: string) => (attrs[n] as string | undefined) ?? d,
    unsupported: (why: string) => { throw new Error(why); },
  } as unknown as VjpContext;
}

test('auto_pad SAME_UPPER / SAME_LOWER / VALID resolve to ONNX pads', () => {
  const dims = { x: [1, 1, 7, 7], y: [1, 1, 4, 4] };
  const up = windowOf(ctx(dims, { kernel_shape: [4, 4], strides: [2, 2], auto_pad: 'SAME_UPPER' }), 'x', 'y');
  // total pad = (4 − 1)·2 + 4 − 7 = 3: SAME_UPPER puts the extra one at the end
  assert.deepEqual([up.pb, up.pe], [[1, 1], [2, 2]]);
  const low = windowOf(ctx(dims, { kernel_shape: [4, 4], strides: [2, 2], auto_pad: 'SAME_LOWER' }), 'x', 'y');
  assert.deepEqual([low.pb, low.pe], [[2, 2], [1, 1]]);
  const valid = windowOf(ctx({ x: [1, 1, 7, 7], y: [1, 1, 3, 3] }, { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'VALID' }), 'x', 'y');
  assert.deepEqual([valid.pb, valid.pe], [[0, 0], [0, 0]]);
  assert.throws(() => windowOf(ctx(dims, { kernel_shape: [3, 3], auto_pad: 'WEIRD' }), 'x', 'y'), /auto_pad='WEIRD'/);
});

test('ConvTranspose attributes restore the input size exactly', () => {
  const out = (w: Window, t: ReturnType<typeof transposeAttrs>) => w.y.map((y, i) => (y - 1) * t.strides[i] + t.output_padding[i] + (w.k[i] - 1) * t.dilations[i] + 1 - t.pads[i] - t.pads[w.sp + i]);
  // stride 2, k3, p1 on 8 → 4 (floor): output_padding 1
  const a: Window = { sp: 1, k: [3], s: [2], d: [1], pb: [1], pe: [1], x: [8], y: [4] };
  assert.deepEqual(transposeAttrs(a).output_padding, [1]);
  assert.deepEqual(out(a, transposeAttrs(a)), [8]);
  // ceil_mode: 6 → 3 with k3 s2 and no pads over-covers (needs 7): crop through the end pad, no output_padding
  const b: Window = { sp: 1, k: [3], s: [2], d: [1], pb: [0], pe: [0], x: [6], y: [3] };
  assert.deepEqual(transposeAttrs(b).output_padding, [0]);
  assert.deepEqual(transposeAttrs(b).pads, [0, 1]);
  assert.deepEqual(out(b, transposeAttrs(b)), [6]);
  // stride 3, dilation 2
  const c: Window = { sp: 2, k: [2, 3], s: [3, 1], d: [2, 2], pb: [0, 2], pe: [0, 2], x: [10, 9], y: [3, 9] };
  assert.deepEqual(out(c, transposeAttrs(c)), [10, 9]);
});

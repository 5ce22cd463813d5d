/**
 * Conv (any spatial rank, groups/depthwise, strides, dilations, pads, auto_pad) and inference-mode
 * BatchNormalization. Conv: dX = ConvTranspose(dY, W) with output_padding chosen so dX has X's size exactly;
 * the bias has no effect on dX. BatchNormalization: dX = dY · scale / sqrt(var + eps) per channel.
 */
import type { VjpRule } from './types.js';
import { transposeAttrs, windowOf } from './util.js';

export const convRules: Record<string, VjpRule> = {
  Conv: (c) => {
    if (c.needs[1] || c.needs[2]) c.unsupported('weights or bias that depend on the differentiated tensor (only dX is computed)');
    const [x, w] = c.inputs;
    const wd = c.dims(w);
    const win = windowOf(c, x, c.outputs[0], wd.slice(2));
    const group = c.ai('group', 1);
    const t = transposeAttrs(win);
    return [c.e.op('ConvTranspose', [c.gy[0]!, w], { ...t, group }, 'dConv'), null, null];
  },
  BatchNormalization: (c) => {
    if (c.ai('training_mode', 0) !== 0) c.unsupported('training_mode=1 (export the model in eval mode)');
    if (c.needs.slice(1).some(Boolean)) c.unsupported('scale/bias/mean/var that depend on the differentiated tensor');
    const xd = c.dims(c.inputs[0]);
    const [, scale, , , variance] = c.inputs;
    const eps = c.af('epsilon', 1e-5);
    const C = xd[1];
    const bshape = [C, ...Array(Math.max(0, xd.length - 2)).fill(1)];
    const sv = c.constValue(scale), vv = c.constValue(variance);
    let factor: string;
    if (sv && vv && sv.length === C && vv.length === C) {
      factor = c.e.constF(sv.map((s, i) => s / Math.sqrt(vv[i] + eps)), bshape);
    } else {
      const e = c.e;
      const f = e.div(scale, e.op('Sqrt', [e.add(variance, e.scalar(eps))]));
      factor = e.op('Reshape', [f, e.constI(bshape)]);
    }
    return [c.e.mul(c.gy[0]!, factor)];
  },
};

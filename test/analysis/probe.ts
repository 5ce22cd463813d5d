/**
 * The geometry probe: a hand-weighted model whose Grad-CAM is known analytically, packaged like a user's model.
 *   input [N, 3, P, P] in [0, 1] (ToTensor only)
 *   Conv 1×1: channel 0 = r − (g + b)/2 ("red"), channel 1 = b − (r + g)/2 ("blue")
 *   AveragePool k = s = STRIDE → Relu → `features` [N, 2, P/STRIDE, P/STRIDE]  (the target layer)
 *   GlobalAveragePool → Flatten → Gemm (identity) → logits [N, 2] = mean red-ness, mean blue-ness
 * Grad-CAM of class c: dS/dA_c = 1/(h·w) everywhere, dS/dA_other = 0, so the map is A_c / (h·w): in each cell, the
 * mean red-ness (blue-ness) of its STRIDE×STRIDE pixels, ≥ 0. On white glass it is exactly 0; in a pure red
 * (200, 30, 30) cell it is (200 − 30)/255 / (h·w).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../explain/onnx-build.js';

export const PROBE_CLASSES = ['red', 'blue'];

export function writeProbePackage(dir: string, opts: { patch: number; stride: number; spacing: number }): string {
  const { patch: P, stride: S } = opts;
  mkdirSync(dir, { recursive: true });
  const bytes = buildModel({
    inputs: [{ name: 'image', dims: ['N', 3, P, P] }],
    outputs: ['logits'],
    inits: [
      { name: 'w', values: [1, -0.5, -0.5, -0.5, -0.5, 1], dims: [2, 3, 1, 1] },
      { name: 'eye', values: [1, 0, 0, 1], dims: [2, 2] },
      { name: 'zero', values: [0, 0], dims: [2] },
    ],
    nodes: [
      { op: 'Conv', inputs: ['image', 'w'], outputs: ['det'], attrs: { kernel_shape: [1, 1] } },
      { op: 'AveragePool', inputs: ['det'], outputs: ['pooled'], attrs: { kernel_shape: [S, S], strides: [S, S] } },
      { op: 'Relu', inputs: ['pooled'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'eye', 'zero'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
    opset: 17,
  });
  writeFileSync(join(dir, 'model.onnx'), bytes);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    spec_version: '1.0', architecture: 'geometry-probe', num_classes: 2, class_names: PROBE_CLASSES,
    patch_size_pixels: P, spacing_um_px: opts.spacing, transform: [{ name: 'ToTensor' }], target_layer: 'features', stride: S,
  }, null, 2));
  return dir;
}

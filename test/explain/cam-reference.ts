/**
 * pytorch-grad-cam's formulas (without its min-max scaling), evaluated in float64 in the test from A and dS/dA:
 * the independent reference of methods.test.ts and of the conformance test's float32-sensitivity path.
 */
import type { Tensor } from '../../main/engine/explain/index.js';

/** pytorch-grad-cam's maps from A and G, in float64 */
export function camReference(A: Tensor, G: Tensor): Record<string, Float64Array> {
  const [n, K, h, w] = A.dims, P = h * w;
  const out: Record<string, Float64Array> = {};
  const names = ['gradcam-signed', 'hirescam', 'gradcam++', 'xgradcam', 'layercam'];
  for (const m of names) out[m] = new Float64Array(n * P);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < K; k++) {
      const base = (b * K + k) * P;
      let gMean = 0, sumA = 0;
      for (let p = 0; p < P; p++) { gMean += G.data[base + p]; sumA += A.data[base + p]; }
      gMean /= P;
      let wpp = 0, wx = 0;
      for (let p = 0; p < P; p++) {
        const g = G.data[base + p], a = A.data[base + p];
        const g2 = g * g, g3 = g2 * g;
        const aij = g !== 0 ? g2 / (2 * g2 + sumA * g3 + 1e-6) : 0;
        wpp += Math.max(g, 0) * aij;
        wx += (g * a) / (sumA + 1e-7);
      }
      for (let p = 0; p < P; p++) {
        const g = G.data[base + p], a = A.data[base + p], o = b * P + p;
        out['gradcam-signed'][o] += gMean * a;
        out['hirescam'][o] += g * a;
        out['gradcam++'][o] += wpp * a;
        out['xgradcam'][o] += wx * a;
        out['layercam'][o] += Math.max(g, 0) * a;
      }
    }
  }
  out['gradcam'] = out['gradcam-signed'].map((v) => Math.max(0, v));
  out['gradcam-for'] = out['gradcam'];
  out['gradcam-against'] = out['gradcam-signed'].map((v) => Math.max(0, -v));
  for (const m of ['hirescam', 'gradcam++', 'xgradcam', 'layercam']) out[m] = out[m].map((v) => Math.max(0, v));
  return out;
}


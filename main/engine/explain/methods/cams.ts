/**
 * Grad-CAM (Selvaraju et al. 2017; signed for/against evidence), HiResCAM, Grad-CAM++, XGrad-CAM, LayerCAM — computed in JS in float64 from the
 * fetched activations A and gradients G = dS/dA — and saliency (the input gradient, Simonyan et al. 2014), in-graph.
 *
 * Why not in-graph: every one of these maps is a sum over the K channels whose terms often cancel (e.g. DenseNet-121
 * features.norm5 with BatchNorm statistics of real H&E crops: K = 1024, max|map| ~ 1e-3 · Σ_k|term_k|; HiResCAM at
 * features.denseblock4: ~1e-5). A float32 ReduceSum loses ~K·2⁻²⁴ of Σ_k|term_k|, i.e. 1e-3 to 1e-2 of the map's
 * max there, while A and G themselves are accurate to ~1e-6: the float32 channel reduction, not the backward graph,
 * dominated the error. In float64 the reductions add nothing measurable; the maps are then as accurate as the
 * float32 A and G (cf. make_reference.py, which evaluates PyTorch float32's A and G the same way). Cost: one pass
 * over N·K·h·w values per method (a few ms for a 1024×7×7 or 256×28×28 layer).
 */
import type { Tensor } from '../types.js';
import { CamMethodImpl, type MapInputs } from './base.js';

/** per item n and channel k: Σ_uv G, Σ_uv A (float64) */
function channelSums(A: Tensor, G: Tensor | undefined, N: number, K: number, P: number): { sg: Float64Array; sa: Float64Array } {
  const sg = new Float64Array(N * K), sa = new Float64Array(N * K);
  const a = A.data, g = G?.data;
  for (let nk = 0; nk < N * K; nk++) {
    const base = nk * P;
    let t = 0;
    for (let p = 0; p < P; p++) t += a[base + p];
    sa[nk] = t;
    if (g) { let s = 0; for (let p = 0; p < P; p++) s += g[base + p]; sg[nk] = s; }
  }
  return { sg, sa };
}

/** Σ_k w[n,k] · A^k over channels, in float64: out[n, p] (monomorphic loops: this runs over N·K·h·w values) */
function weightedSum(w: Float64Array, a: Float32Array, N: number, K: number, P: number): Float64Array {
  const out = new Float64Array(N * P);
  for (let n = 0; n < N; n++) {
    const o = n * P;
    for (let k = 0; k < K; k++) {
      const nk = n * K + k, base = nk * P, wk = w[nk];
      for (let p = 0; p < P; p++) out[o + p] += wk * a[base + p];
    }
  }
  return out;
}

/** Σ_k G^k ⊙ A^k (positive: Σ_k max(0, G^k) ⊙ A^k) over channels, in float64: out[n, p] */
function productSum(g: Float32Array, a: Float32Array, N: number, K: number, P: number, positive: boolean): Float64Array {
  const out = new Float64Array(N * P);
  for (let n = 0; n < N; n++) {
    const o = n * P;
    for (let k = 0; k < K; k++) {
      const base = (n * K + k) * P;
      if (positive) {
        for (let p = 0; p < P; p++) {
          const gv = g[base + p];
          if (gv > 0) out[o + p] += gv * a[base + p];
          else if (gv !== gv) out[o + p] = NaN; // max(0, NaN) = NaN, as numpy's
        }
      } else {
        for (let p = 0; p < P; p++) out[o + p] += g[base + p] * a[base + p];
      }
    }
  }
  return out;
}

const relu32 = (x: Float64Array): Float32Array => { const o = new Float32Array(x.length); for (let i = 0; i < x.length; i++) o[i] = x[i] > 0 ? x[i] : x[i] === x[i] ? 0 : x[i]; return o; };
const neg32 = (x: Float64Array): Float32Array => { const o = new Float32Array(x.length); for (let i = 0; i < x.length; i++) o[i] = -x[i] > 0 ? -x[i] : x[i] === x[i] ? 0 : x[i]; return o; };

function dimsOf(A: Tensor, G: Tensor | undefined): [number, number, number, number] {
  const [N, K, h, w] = A.dims;
  if (A.dims.length !== 4 || (G && G.dims.join('x') !== A.dims.join('x'))) throw new Error(`internal: CAM maps need A and dS/dA of one [N, K, h, w] shape (A ${A.dims.join('x')}, G ${G?.dims.join('x')})`);
  return [N, K, h, w];
}

/** base of the gradient-weighted CAM methods: computed in JS from A and G */
abstract class JsCam extends CamMethodImpl {
  override readonly computedInJs = true;
  protected abstract compute(A: Tensor, G: Tensor, N: number, K: number, P: number): Record<string, Float32Array>;
  override computeJs(A: Tensor, G?: Tensor): Record<string, Tensor> {
    if (!G) throw new Error(`internal: ${this.name} needs dS/dA`);
    const [N, K, h, w] = dimsOf(A, G);
    const maps = this.compute(A, G, N, K, h * w);
    return Object.fromEntries(Object.entries(maps).map(([k, data]) => [k, { data, dims: [N, h, w] }]));
  }
}

/** α = mean_uv G; L = Σ_k α_k A^k; 'gradcam' = 'gradcam-for' = max(0, L); 'gradcam-against' = max(0, −L) */
export class GradCam extends JsCam {
  readonly name = 'gradcam' as const;
  override get mapNames() { return ['gradcam', 'gradcam-signed', 'gradcam-for', 'gradcam-against']; }
  protected compute(A: Tensor, G: Tensor, N: number, K: number, P: number) {
    const { sg } = channelSums(A, G, N, K, P);
    const alpha = sg.map((v) => v / P);
    const L = weightedSum(alpha, A.data, N, K, P);
    const pos = relu32(L);
    return { 'gradcam': pos, 'gradcam-signed': Float32Array.from(L), 'gradcam-for': pos.slice(), 'gradcam-against': neg32(L) };
  }
}

/** HiResCAM: max(0, Σ_k G^k ⊙ A^k) */
export class HiResCam extends JsCam {
  readonly name = 'hirescam' as const;
  protected compute(A: Tensor, G: Tensor, N: number, K: number, P: number) {
    return { hirescam: relu32(productSum(G.data, A.data, N, K, P, false)) };
  }
}

/**
 * Grad-CAM++ (pytorch-grad-cam): a = G² / (2G² + Σ_uv A · G³ + 1e-6) (0 where G = 0: the numerator is 0 then),
 * w_k = Σ_uv a · max(0, G); map = max(0, Σ_k w_k A^k). The formula is ill-conditioned (Σ_uv A of signed activations
 * cancels, 2 + ΣA·G can cancel): its error is that of the float32 A and G, amplified — PyTorch float32 shows the same.
 */
export class GradCamPlusPlus extends JsCam {
  readonly name = 'gradcam++' as const;
  protected compute(A: Tensor, G: Tensor, N: number, K: number, P: number) {
    const { sa } = channelSums(A, undefined, N, K, P);
    const a = A.data, g = G.data;
    const wk = new Float64Array(N * K);
    for (let nk = 0; nk < N * K; nk++) {
      const base = nk * P;
      let s = 0;
      const san = sa[nk];
      for (let p = 0; p < P; p++) {
        const gv = g[base + p];
        // max(0, G) · a: only G > 0 contributes (a = 0 where G = 0); NaN propagates as in numpy
        if (gv > 0) { const g2 = gv * gv; s += (gv * g2) / (2 * g2 + san * g2 * gv + 1e-6); } else if (gv !== gv) s = NaN;
      }
      wk[nk] = s;
    }
    return { 'gradcam++': relu32(weightedSum(wk, a, N, K, P)) };
  }
}

/** XGrad-CAM: w_k = Σ_uv G ⊙ A / (Σ_uv A + 1e-7); map = max(0, Σ_k w_k A^k) */
export class XGradCam extends JsCam {
  readonly name = 'xgradcam' as const;
  protected compute(A: Tensor, G: Tensor, N: number, K: number, P: number) {
    const { sa } = channelSums(A, undefined, N, K, P);
    const a = A.data, g = G.data;
    const wk = new Float64Array(N * K);
    for (let nk = 0; nk < N * K; nk++) {
      const base = nk * P, d = sa[nk] + 1e-7;
      let s = 0;
      for (let p = 0; p < P; p++) s += (g[base + p] * a[base + p]) / d;
      wk[nk] = s;
    }
    return { xgradcam: relu32(weightedSum(wk, a, N, K, P)) };
  }
}

/** LayerCAM: max(0, Σ_k max(0, G^k) ⊙ A^k) */
export class LayerCam extends JsCam {
  readonly name = 'layercam' as const;
  protected compute(A: Tensor, G: Tensor, N: number, K: number, P: number) {
    return { layercam: relu32(productSum(G.data, A.data, N, K, P, true)) };
  }
}

/** Gradient saliency: max_c |dS/dInput| → [N, H, W] (in-graph: no reduction error) */
export class Saliency extends CamMethodImpl {
  readonly name = 'saliency' as const;
  override readonly needsActivations = false;
  override readonly needsGradients = false;
  override readonly needsInputGradient = true;
  override emit({ e, GI }: MapInputs) {
    return { saliency: e.reduce('ReduceMax', e.op('Abs', [GI!]), [1], false) };
  }
}

/**
 * Grad-CAM (gradcam.md §2–3), HiResCAM, Grad-CAM++, XGrad-CAM, LayerCAM, saliency (gradcam.md §1) — in-graph.
 */
import { CamMethodImpl, type MapInputs, ops } from './base.js';

/** α = mean_uv G; L = Σ_k α_k A^k; 'gradcam' = 'gradcam-for' = max(0, L); 'gradcam-against' = max(0, −L) */
export class GradCam extends CamMethodImpl {
  readonly name = 'gradcam' as const;
  override get mapNames() { return ['gradcam', 'gradcam-signed', 'gradcam-for', 'gradcam-against']; }
  override emit({ e, A, G }: MapInputs) {
    const alpha = e.reduce('ReduceMean', G!, [2, 3], true);
    const L = ops.weighted(e, alpha, A);
    const pos = e.relu(L);
    return { 'gradcam': pos, 'gradcam-signed': L, 'gradcam-for': e.op('Identity', [pos]), 'gradcam-against': e.relu(e.neg(L)) };
  }
}

/** HiResCAM: max(0, Σ_k G^k ⊙ A^k) */
export class HiResCam extends CamMethodImpl {
  readonly name = 'hirescam' as const;
  override emit({ e, A, G }: MapInputs) {
    return { hirescam: e.relu(e.reduce('ReduceSum', e.mul(G!, A), [1], false)) };
  }
}

/**
 * Grad-CAM++ (pytorch-grad-cam): a = G² / (2G² + Σ_uv A · G³ + 1e-6) (0 where G = 0: the numerator is 0 then),
 * w_k = Σ_uv a · max(0, G); map = max(0, Σ_k w_k A^k).
 * Precision: the formula is ill-conditioned (Σ_uv A of signed activations cancels, 2 + ΣA·G can cancel), but float32
 * here is not what limits it: evaluating the same weights in float64 (in-graph Casts, or on the host from the
 * fetched A and G) gave the same conformance errors to 3 digits; the error comes from float32 A and ∂S/∂A themselves.
 */
export class GradCamPlusPlus extends CamMethodImpl {
  readonly name = 'gradcam++' as const;
  override emit({ e, A, G }: MapInputs) {
    const g2 = e.mul(G!, G!);
    const g3 = e.mul(g2, G!);
    const sumA = ops.spatialSum(e, A);
    const denom = e.add(e.add(e.mul(g2, e.scalar(2)), e.mul(sumA, g3)), e.scalar(1e-6));
    const a = e.div(g2, denom);
    const w = ops.spatialSum(e, e.mul(e.relu(G!), a));
    return { 'gradcam++': e.relu(ops.weighted(e, w, A)) };
  }
}

/** XGrad-CAM: w_k = Σ_uv G ⊙ A / (Σ_uv A + 1e-7); map = max(0, Σ_k w_k A^k) */
export class XGradCam extends CamMethodImpl {
  readonly name = 'xgradcam' as const;
  override emit({ e, A, G }: MapInputs) {
    const sumA = ops.spatialSum(e, A);
    const w = ops.spatialSum(e, e.div(e.mul(G!, A), e.add(sumA, e.scalar(1e-7))));
    return { xgradcam: e.relu(ops.weighted(e, w, A)) };
  }
}

/** LayerCAM: max(0, Σ_k max(0, G^k) ⊙ A^k) */
export class LayerCam extends CamMethodImpl {
  readonly name = 'layercam' as const;
  override emit({ e, A, G }: MapInputs) {
    return { layercam: e.relu(e.reduce('ReduceSum', e.mul(e.relu(G!), A), [1], false)) };
  }
}

/** Gradient saliency: max_c |dS/dInput| → [N, H, W] */
export class Saliency extends CamMethodImpl {
  readonly name = 'saliency' as const;
  override readonly needsActivations = false;
  override readonly needsGradients = false;
  override readonly needsInputGradient = true;
  override emit({ e, GI }: MapInputs) {
    return { saliency: e.reduce('ReduceMax', e.op('Abs', [GI!]), [1], false) };
  }
}

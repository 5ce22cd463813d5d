/**
 * The CAM family: a base class and tiny subclasses that declare what they need (activations A, gradients
 * G = dS/dA, the input gradient) and emit their maps in-graph (or compute them in JS from A). Formulas follow
 * pytorch-grad-cam's (including its final ReLU) but maps are never min-max normalised: raw values out.
 * A: [N, K, h, w]; maps: [N, h, w] (saliency: [N, H, W]).
 */
import type { Emitter } from '../emit.js';
import type { CamMethod, Tensor } from '../types.js';

export interface MapInputs {
  e: Emitter;
  /** activations A [N, K, h, w] */
  A: string;
  /** dS/dA (when needsGradients) */
  G?: string;
  /** dS/dInput (when needsInputGradient) */
  GI?: string;
}

export abstract class CamMethodImpl {
  abstract readonly name: CamMethod;
  readonly needsActivations: boolean = true;
  readonly needsGradients: boolean = true;
  readonly needsInputGradient: boolean = false;
  /** maps computed in JS from the fetched activations (computeJs) rather than in-graph */
  readonly computedInJs: boolean = false;
  /** names of the maps it produces */
  get mapNames(): string[] { return [this.name]; }
  /** emit in-graph maps: map name → tensor name */
  emit(_m: MapInputs): Record<string, string> { return {}; }
  /** maps computed in JS after the run (from the fetched activations) */
  computeJs(_A: Tensor): Record<string, Tensor> { return {}; }
}

/** helpers shared by the in-graph methods */
export const ops = {
  /** Σ_k w_k ⊙ A_k over the channel axis: [N, h, w] */
  weighted(e: Emitter, w: string, A: string): string {
    return e.reduce('ReduceSum', e.mul(w, A), [1], false);
  },
  /** spatial Σ_uv with keepdims: [N, K, 1, 1] */
  spatialSum(e: Emitter, x: string): string {
    return e.reduce('ReduceSum', x, [2, 3], true);
  },
};

/**
 * The CAM family: a base class and tiny subclasses that declare what they need (activations A, gradients
 * G = dS/dA, the input gradient) and emit their maps in-graph or compute them in JS (float64) from the fetched A and G. Formulas follow
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
  /** maps computed in JS (float64) from the fetched activations and, when needsGradients, dS/dA (computeJs) rather than in-graph */
  readonly computedInJs: boolean = false;
  /** names of the maps it produces */
  get mapNames(): string[] { return [this.name]; }
  /** emit in-graph maps: map name → tensor name */
  emit(_m: MapInputs): Record<string, string> { return {}; }
  /** maps computed in JS after the run (from the fetched activations A and, when needsGradients, G = dS/dA) */
  computeJs(_A: Tensor, _G?: Tensor): Record<string, Tensor> { return {}; }
}

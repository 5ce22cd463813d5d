/**
 * Explanations engine: public types. Plain Node (onnxruntime-node), no electron, no contract.
 * The methods and their formulas are described in methods/cams.ts and methods/eigen.ts.
 */

export type CamMethod = 'gradcam' | 'hirescam' | 'gradcam++' | 'xgradcam' | 'layercam' | 'eigencam' | 'saliency';
export const CAM_METHODS: readonly CamMethod[] = ['gradcam', 'hirescam', 'gradcam++', 'xgradcam', 'layercam', 'eigencam', 'saliency'];

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda';

/** A candidate target tensor: a 4-D activation on the path from the input to the logits. */
export interface TargetLayer {
  /** ONNX tensor (value) name */
  name: string;
  /** name of the node producing it, and its op type */
  node: string;
  opType: string;
  channels: number;
  height: number;
  width: number;
  /** input size / activation size (e.g. 32 for ResNet layer4 at 224 px) */
  stride: number;
  /** true for the default target: the last such tensor before global pooling */
  isDefault: boolean;
}

/** A float32 tensor with its dims (row-major). */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface ExplainerOptions {
  /** target tensor name; default = the default TargetLayer */
  layer?: string;
  /** methods whose maps are computed (in-graph where possible) */
  methods: CamMethod[];
  /**
   * 'auto' (default): CUDA if its libraries are present, else WebGPU if an adapter exists, else CPU — and CPU after a
   * GPU provider fails to create or first run the session. A forced provider that fails: EP_UNAVAILABLE.
   */
  ep?: ExecutionProviderName | 'auto';
  /** also return the activations A, dS/dA and dS/dInput (when computed) in ExplainOutput (default false) */
  keepTensors?: boolean;
}

export interface ExplainOutput {
  /** logits [N, numClasses] (raw, pre-softmax) */
  logits: Tensor;
  /**
   * raw maps [N, h, w] keyed by map name, never min-max normalised:
   *  'gradcam' (ReLU'd), 'gradcam-signed' (Σα·A), 'gradcam-for' (= max(0,L)), 'gradcam-against' (= max(0,−L)),
   *  'hirescam', 'gradcam++', 'xgradcam', 'layercam', 'eigencam' at the target layer's size,
   *  'saliency' at the input's size (|∇_input S| max over channels).
   *  Also 'eigencam-signed': the unrectified EigenCAM projection (sign: positively correlated with Σ_k A^k).
   */
  maps: Record<string, Tensor>;
  /** with keepTensors: A [N, K, h, w] at the target layer (when a method needs it) */
  activations?: Tensor;
  /** with keepTensors: dS/dA [N, K, h, w] (when a method needs it) */
  gradients?: Tensor;
  /** with keepTensors: dS/dInput [N, C, H, W] (saliency) */
  inputGradients?: Tensor;
}

export interface Explainer {
  readonly layer: TargetLayer;
  readonly layers: TargetLayer[];
  readonly numClasses: number;
  readonly inputName: string;
  /** [C, H, W] expected by the model (batch is free) */
  readonly inputShape: [number, number, number];
  /**
   * the provider actually used, e.g. 'cpu'. With ep 'auto' it becomes 'cpu' when the GPU provider could not create
   * the session or failed on the first run (see fallbackReason); a forced provider never changes.
   */
  readonly executionProvider: ExecutionProviderName;
  /** ep 'auto' only: why a GPU provider was passed over for CPU (undefined when none was) */
  readonly fallbackReason?: string;
  /**
   * input: float32 NCHW batch (any N). seed: the vector over the logits, [numClasses] (broadcast to
   * every item) or [N, numClasses]: one-hot for a class, +1/−1 for "A rather than B", any weights.
   * The explained score is S = Σ_k seed_k · logit_k.
   */
  explain(input: Tensor, seed: Tensor): Promise<ExplainOutput>;
  /** forward only (logits) — for benchmarks and predictions */
  predict(input: Tensor): Promise<Tensor>;
  dispose(): Promise<void>;
}

export type ExplainErrorCode =
  | 'MALFORMED_MODEL'    // not a parseable ONNX ModelProto
  | 'UNKNOWN_TENSOR'     // layer name not found (message lists nearest names)
  | 'UNSUPPORTED_OP'     // op on the gradient path without a VJP rule (message names op, node, why)
  | 'BAD_INPUT'          // wrong shape / dtype / seed length
  | 'EP_UNAVAILABLE';    // forced provider not available

export class ExplainError extends Error {
  constructor(public readonly code: ExplainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExplainError';
  }
}

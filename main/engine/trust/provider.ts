/**
 * Where the maps come from: the explanations engine run on (possibly randomized) model bytes, plus the control
 * method 'edge' — the Sobel gradient magnitude of the input, which ignores the model entirely. The control is
 * what a sanity check must flag: its map survives any randomization.
 */
import { createExplainer } from '../explain/index.js';
import { CAM_METHODS, type CamMethod, type ExecutionProviderName, type Tensor } from '../explain/types.js';

export type TrustMethod = CamMethod | 'edge';
export const TRUST_METHODS: readonly TrustMethod[] = [...CAM_METHODS, 'edge'];

export interface MapBatch {
  /** [N, classes] */
  logits: Tensor;
  /** [N, h, w] per method */
  maps: Record<string, Tensor>;
}

export interface MapProvider {
  /** the explained layer (tensor name; 'input' for saliency / edge only) */
  readonly layer: string;
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  maps(input: Tensor, seed: Tensor): Promise<MapBatch>;
  /** logits only */
  predict(input: Tensor): Promise<Tensor>;
  dispose(): Promise<void>;
}

export type ProviderFactory = (model: string | Uint8Array, opts: { layer?: string; methods: TrustMethod[]; ep?: ExecutionProviderName | 'auto' }) => Promise<MapProvider>;

/** Sobel gradient magnitude of the channel mean, [N, H, W] (edges replicated) */
export function edgeMap(input: Tensor): Tensor {
  const [N, C, H, W] = input.dims;
  const out = new Float32Array(N * H * W);
  const g = new Float64Array(H * W);
  for (let n = 0; n < N; n++) {
    g.fill(0);
    for (let c = 0; c < C; c++) {
      const off = (n * C + c) * H * W;
      for (let i = 0; i < H * W; i++) g[i] += input.data[off + i] / C;
    }
    const at = (y: number, x: number) => g[Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const gx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
        const gy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
        out[n * H * W + y * W + x] = Math.hypot(gx, gy);
      }
    }
  }
  return { data: out, dims: [N, H, W] };
}

/** the engine's explainer on the given bytes (one session computes every requested CAM method) */
export const engineProvider: ProviderFactory = async (model, opts) => {
  const cams = opts.methods.filter((m): m is CamMethod => m !== 'edge');
  const wantEdge = opts.methods.includes('edge');
  // the edge control needs only the logits (for the predicted class): the cheapest method serves them
  const ex = await createExplainer(model, { layer: opts.layer, methods: cams.length ? cams : ['gradcam'], ep: opts.ep ?? 'auto' });
  const onlyInput = cams.every((m) => m === 'saliency');
  return {
    layer: onlyInput ? 'input' : ex.layer.name,
    numClasses: ex.numClasses,
    inputShape: ex.inputShape,
    async maps(input, seed) {
      const out = await ex.explain(input, seed);
      const maps: Record<string, Tensor> = {};
      for (const m of cams) maps[m] = out.maps[m];
      if (wantEdge) maps.edge = edgeMap(input);
      return { logits: out.logits, maps };
    },
    predict: (input) => ex.predict(input),
    dispose: () => ex.dispose(),
  };
};

/**
 * Explanations engine: createExplainer / listTargetLayers. One augmented ORT session per (model, layer,
 * method set) — forward and backward in the same run, seed as an input so one session serves every class.
 */
import * as ort from 'onnxruntime-node';
import { OUT, SEED, prepareAugmented, preparePredict, type Augmented, type PreparedModel } from './augment.js';
import { resolveLayer, targetLayersOf } from './layers.js';
import { METHODS } from './methods/index.js';
import { loadModelInfo, type ModelInfo } from './model-info.js';
import { ManagedSession } from './session.js';
import {
  CAM_METHODS, ExplainError, type CamMethod, type Explainer, type ExplainerOptions, type ExplainOutput, type Tensor,
} from './types.js';

export * from './types.js';
export { listTargetLayers } from './layers.js';
export { clearSessionCache } from './session.js';

function checkInput(info: ModelInfo, input: Tensor): number {
  const [C, H, W] = info.inputShape;
  if (!input || !(input.data instanceof Float32Array)) throw new ExplainError('BAD_INPUT', `input must be a float32 tensor (Float32Array data)`);
  const d = input.dims;
  if (!Array.isArray(d) || d.length !== 4 || d[1] !== C || d[2] !== H || d[3] !== W || !(d[0] >= 1)) {
    throw new ExplainError('BAD_INPUT', `input must be [N, ${C}, ${H}, ${W}] for '${info.inputName}'; got [${(d ?? []).join(', ')}]`);
  }
  if (input.data.length !== d[0] * C * H * W) throw new ExplainError('BAD_INPUT', `input data has ${input.data.length} values; [${d.join(', ')}] needs ${d[0] * C * H * W}`);
  const fixed = info.dims.get(info.inputName)![0];
  if (fixed > 0 && d[0] !== fixed) throw new ExplainError('BAD_INPUT', `the model's batch size is fixed at ${fixed}; got ${d[0]}`);
  const bad = firstNonFinite(input.data);
  if (bad >= 0) {
    const plane = C * H * W, n = Math.floor(bad / plane), c = Math.floor((bad % plane) / (H * W)), y = Math.floor((bad % (H * W)) / W), x = bad % W;
    throw new ExplainError('BAD_INPUT', `input holds a non-finite value (${input.data[bad]}) at [${n}, ${c}, ${y}, ${x}]: the maps would be meaningless`);
  }
  return d[0];
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function seedBatch(info: ModelInfo, seed: Tensor, N: number): Float32Array {
  const K = info.numClasses;
  if (!seed || !(seed.data instanceof Float32Array)) throw new ExplainError('BAD_INPUT', 'seed must be a float32 tensor');
  const d = seed.dims;
  const one = (d.length === 1 && d[0] === K) || (d.length === 2 && d[0] === 1 && d[1] === K);
  const full = d.length === 2 && d[0] === N && d[1] === K;
  if ((!one && !full) || seed.data.length !== (full ? N * K : K)) {
    throw new ExplainError('BAD_INPUT', `seed must be [${K}] or [${N}, ${K}] (the model has ${K} classes); got [${d.join(', ')}] with ${seed.data.length} values`);
  }
  const badSeed = firstNonFinite(seed.data);
  if (badSeed >= 0) throw new ExplainError('BAD_INPUT', `seed holds a non-finite value (${seed.data[badSeed]}) at index ${badSeed}`);
  if (full) return seed.data;
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) out.set(seed.data, n * K);
  return out;
}

/** augmented-model metadata (outputs, maps) and digest by session key */
const augMeta = new Map<string, Omit<Augmented, 'bytes'> & { digest: string }>();
/** the forward model's digest by model key */
const predictDigest = new Map<string, string>();

const toTensor = (t: ort.Tensor): Tensor => ({ data: t.data as Float32Array, dims: [...t.dims] });

export async function createExplainer(model: string | Uint8Array, opts: ExplainerOptions): Promise<Explainer> {
  const methods = [...new Set(opts?.methods ?? [])] as CamMethod[];
  if (methods.length === 0) throw new ExplainError('BAD_INPUT', `no methods requested; choose from ${CAM_METHODS.join(', ')}`);
  const bad = methods.filter((m) => !CAM_METHODS.includes(m));
  if (bad.length) throw new ExplainError('BAD_INPUT', `unknown method(s) ${bad.map((m) => `'${m}'`).join(', ')}; choose from ${CAM_METHODS.join(', ')}`);
  const ep = opts.ep ?? 'auto';
  const info = await loadModelInfo(model);
  const layers = targetLayersOf(info);
  const layer = resolveLayer(info, layers, opts.layer);
  const sortedMethods = [...methods].sort();
  // the augmented model is built only when its session is not cached (graph errors surface here)
  const key = `${info.key}|${layer.name}|${sortedMethods.join(',')}`;
  // the graph is built (not serialised) to know its outputs and digest; it is serialised only when no session for it
  // is cached, in memory or (CPU) on disk as an optimised model
  let prep: (Omit<Augmented, 'bytes'> & PreparedModel) | undefined;
  const prepare = () => (prep ??= prepareAugmented(info, layer.name, sortedMethods));
  let aug = augMeta.get(key);
  if (!aug) {
    const { encode: _e, ...meta } = prepare();
    aug = meta;
    augMeta.set(key, aug);
  }
  const main = await ManagedSession.open(key, () => prepare().encode(), ep, 'explanation model', aug.digest);
  let predictSession: ManagedSession | undefined;
  let disposed = false;
  const alive = () => { if (disposed) throw new ExplainError('BAD_INPUT', 'this explainer has been disposed'); };
  const keep = opts.keepTensors === true;

  const explainer: Explainer = {
    layer, layers, numClasses: info.numClasses, inputName: info.inputName, inputShape: info.inputShape,
    get executionProvider() { return main.ep; },
    get fallbackReason() { return main.fallbackReason; },
    async explain(input: Tensor, seed: Tensor): Promise<ExplainOutput> {
      alive();
      const N = checkInput(info, input);
      const feeds: Record<string, ort.Tensor> = { [info.inputName]: new ort.Tensor('float32', input.data, input.dims) };
      if (aug.hasSeed) feeds[SEED] = new ort.Tensor('float32', seedBatch(info, seed, N), [N, info.numClasses]);
      else seedBatch(info, seed, N); // validate anyway
      const needA = aug.jsMethods.length > 0 || keep;
      const needG = aug.jsMethods.some((m) => m.needsGradients) || keep;
      const fetches = [OUT.logits, ...Object.values(aug.maps)];
      if (needA && aug.outputs.includes(OUT.A)) fetches.push(OUT.A);
      if (needG && aug.outputs.includes(OUT.G)) fetches.push(OUT.G);
      if (keep && aug.outputs.includes(OUT.GI)) fetches.push(OUT.GI);
      const r = await main.run(feeds, fetches);
      const maps: Record<string, Tensor> = {};
      for (const [name, out] of Object.entries(aug.maps)) maps[name] = toTensor(r[out] as ort.Tensor);
      const out: ExplainOutput = { logits: toTensor(r[OUT.logits] as ort.Tensor), maps };
      const G = needG && r[OUT.G] ? toTensor(r[OUT.G] as ort.Tensor) : undefined;
      if (needA && r[OUT.A]) {
        const A = toTensor(r[OUT.A] as ort.Tensor);
        // CAM maps in float64 from A and dS/dA (methods/cams.ts), EigenCAM from A
        for (const m of aug.jsMethods) Object.assign(maps, m.computeJs(A, G));
        if (keep) out.activations = A;
      }
      if (keep && G) out.gradients = G;
      if (keep && r[OUT.GI]) out.inputGradients = toTensor(r[OUT.GI] as ort.Tensor);
      return out;
    },
    async predict(input: Tensor): Promise<Tensor> {
      alive();
      checkInput(info, input);
      // on the explanation session's provider (after a fallback to CPU, the forward model follows)
      if (predictSession && main.ep === 'cpu' && predictSession.ep !== 'cpu') { await predictSession.release(); predictSession = undefined; }
      if (!predictSession) {
        let p: PreparedModel | undefined;
        const prepare = () => (p ??= preparePredict(info));
        let d = predictDigest.get(info.key);
        if (d === undefined) predictDigest.set(info.key, (d = prepare().digest));
        predictSession = await ManagedSession.open(`${info.key}|predict`, () => prepare().encode(), ep === 'auto' && main.ep !== 'cpu' ? 'auto' : main.ep, 'forward model', d);
      }
      const r = await predictSession.run({ [info.inputName]: new ort.Tensor('float32', input.data, input.dims) }, [OUT.logits]);
      return toTensor(r[OUT.logits] as ort.Tensor);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await main.release();
      await predictSession?.release();
    },
  };
  return explainer;
}

export { METHODS };

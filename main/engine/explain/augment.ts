/**
 * The augmented model: the original forward graph plus the backward sub-graph T → logits (and input → logits
 * for saliency) and the requested maps computed in-graph. Inputs: the image batch and `gb_seed` [N, classes]
 * (only when gradients are needed). Outputs: logits, A (= T), dS/dA, dS/dInput where computed, the in-graph maps
 * (saliency); the CAM maps are computed from the fetched A and dS/dA in float64 (methods/cams.ts explains why).
 */
import { buildBackward } from './backward.js';
import { Emitter } from './emit.js';
import { METHODS } from './methods/index.js';
import type { CamMethodImpl } from './methods/base.js';
import type { ModelInfo } from './model-info.js';
import { DT, decodeModelBytes, encodeModel, onnx, valueInfo, type ModelProto } from './onnx-io.js';
import { digest } from './disk-cache.js';
import type { CamMethod } from './types.js';

export const SEED = 'gb_seed';
export const OUT = { logits: 'gb_out/logits', A: 'gb_out/activations', G: 'gb_out/gradients', GI: 'gb_out/input_gradients', map: (m: string) => `gb_out/map/${m}` };

export interface Augmented {
  bytes: Uint8Array;
  hasSeed: boolean;
  /** graph outputs present */
  outputs: string[];
  /** map name → output name (in-graph maps) */
  maps: Record<string, string>;
  /** methods computed in JS from the activations (and dS/dA) */
  jsMethods: CamMethodImpl[];
}

/** A built model before serialisation: `digest` identifies it (disk-cache.ts) without encoding the weights. */
export interface PreparedModel {
  /** the model's content hash + a digest of everything in the graph but the model's own weights */
  digest: string;
  encode(): Uint8Array;
}

function prepared(info: ModelInfo, proto: ModelProto): PreparedModel {
  const g = proto.graph!;
  const all = g.initializer ?? [];
  g.initializer = all.filter((t) => !info.initializers.has(t.name ?? ''));
  const structure = encodeModel(proto);
  g.initializer = all;
  return { digest: digest(info.key, structure), encode: () => encodeModel(proto) };
}

/** Build the augmented model for a target tensor and a method set. */
export function buildAugmented(info: ModelInfo, target: string, methods: CamMethod[]): Augmented {
  const { encode, digest: _d, ...meta } = prepareAugmented(info, target, methods);
  return { ...meta, bytes: encode() };
}

/** The augmented model's metadata, its digest, and its serialisation on demand (only when no session is cached). */
export function prepareAugmented(info: ModelInfo, target: string, methods: CamMethod[]): Omit<Augmented, 'bytes'> & PreparedModel {
  const impls = [...new Set(methods)].map((m) => METHODS[m]);
  const needG = impls.some((m) => m.needsGradients);
  const needGI = impls.some((m) => m.needsInputGradient);
  const needA = impls.some((m) => m.needsActivations);
  const proto = decodeModelBytes(info.bytes);
  const g = proto.graph!;
  const e = new Emitter(info.opset);
  const outs: { name: string; from: string }[] = [{ name: OUT.logits, from: info.logitsName }];
  if (needA) outs.push({ name: OUT.A, from: target });
  let G: string | undefined, GI: string | undefined;
  if (needG || needGI) {
    const wrt = [...(needG ? [target] : []), ...(needGI ? [info.inputName] : [])];
    const grads = buildBackward(info, e, {
      output: info.logitsName, seed: SEED, wrt,
      describeTarget: needG ? `'${target}'${needGI ? ` (and the input '${info.inputName}')` : ''}` : `the input '${info.inputName}'`,
    });
    if (needG) { G = grads[0]; outs.push({ name: OUT.G, from: G }); }
    if (needGI) { GI = grads[needG ? 1 : 0]; outs.push({ name: OUT.GI, from: GI }); }
    g.input!.push(valueInfo(SEED, DT.FLOAT, ['N', info.numClasses]));
  }
  const maps: Record<string, string> = {};
  for (const m of impls) {
    if (m.computedInJs) continue;
    for (const [name, t] of Object.entries(m.emit({ e, A: target, G, GI }))) {
      maps[name] = OUT.map(name);
      outs.push({ name: maps[name], from: t });
    }
  }
  // the backward nodes, plus forward-node edits rules asked for (e.g. an old-opset MaxPool's Indices output)
  e.applyTo(g);
  for (const o of outs) g.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: [o.from], output: [o.name], name: o.name }));
  g.output = outs.map((o) => valueInfo(o.name, DT.FLOAT));
  return {
    ...prepared(info, proto), hasSeed: needG || needGI, outputs: outs.map((o) => o.name), maps,
    jsMethods: impls.filter((m) => m.computedInJs),
  };
}

/** The plain forward model with the logits as its only output. */
export function buildPredict(info: ModelInfo): Uint8Array {
  return preparePredict(info).encode();
}

export function preparePredict(info: ModelInfo): PreparedModel {
  const proto = decodeModelBytes(info.bytes);
  const g = proto.graph!;
  g.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: [info.logitsName], output: [OUT.logits], name: OUT.logits }));
  g.output = [valueInfo(OUT.logits, DT.FLOAT)];
  return prepared(info, proto);
}

/**
 * An image classifier's analysis, cached per model bytes (sha1): graph info + shapes (graph-info.ts), the
 * image input [N, C, H, W], the logits tensor (the output, or the input of a final Softmax/LogSoftmax).
 */
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { buildGraphInfo, type GraphInfo } from './graph-info.js';
import { DT, parseModel, valueInfoDims, valueInfoElemType } from './onnx-io.js';
import { ExplainError } from './types.js';
import { loadProbe, saveProbe } from './disk-cache.js';

export interface ModelInfo extends GraphInfo {
  key: string;
  inputName: string;
  /** [C, H, W] */
  inputShape: [number, number, number];
  /** true when the batch dim of the input is free */
  dynamicBatch: boolean;
  /** the model's first graph output */
  outputName: string;
  /** the raw score tensor [N, classes]: the output, or the input of a final Softmax/LogSoftmax */
  logitsName: string;
  numClasses: number;
}

const cache = new Map<string, Promise<ModelInfo>>();
const CACHE_MAX = 8;

/** Analyse a model (path or bytes); cached by content hash. */
export function loadModelInfo(model: string | Uint8Array): Promise<ModelInfo> {
  let parsed: ReturnType<typeof parseModel>;
  try { parsed = parseModel(model); } catch (e) { return Promise.reject(e); }
  const key = createHash('sha1').update(parsed.bytes).digest('hex');
  let p = cache.get(key);
  if (p) { cache.delete(key); cache.set(key, p); return p; }
  p = analyse(parsed, key);
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  while (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return p;
}

/** deterministic pseudo-random image batch in [0, 1) */
export function probeImage(n: number, c: number, h: number, w: number): Float32Array {
  const data = new Float32Array(n * c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = ((Math.sin(i * 12.9898 + 1) * 43758.5453) % 1 + 1) % 1;
  return data;
}

async function analyse(parsed: ReturnType<typeof parseModel>, key: string): Promise<ModelInfo> {
  const { proto, bytes, label } = parsed;
  const g = proto.graph!;
  const initNames = new Set((g.initializer ?? []).map((t) => t.name));
  const realInputs = (g.input ?? []).filter((v) => !initNames.has(v.name ?? ''));
  if (realInputs.length !== 1) {
    throw new ExplainError('BAD_INPUT', `ONNX model ${label} has ${realInputs.length} inputs (${realInputs.map((v) => `'${v.name}'`).join(', ')}); Glassbox explains single-input image models`);
  }
  const input = realInputs[0];
  const inputName = input.name ?? '';
  const idims = valueInfoDims(input);
  if (!idims || idims.length !== 4 || valueInfoElemType(input) !== DT.FLOAT) {
    throw new ExplainError('BAD_INPUT', `ONNX model ${label}: input '${inputName}' must be a float32 image batch [N, C, H, W]; it is ${idims ? `[${idims.map((d) => (d < 0 ? '?' : d)).join(', ')}]` : 'of unknown shape'}`);
  }
  if (idims.slice(1).some((d) => d < 0)) {
    throw new ExplainError('BAD_INPUT', `ONNX model ${label}: input '${inputName}' has dynamic channel/spatial dims [${idims.map((d) => (d < 0 ? '?' : d)).join(', ')}]; export it with a fixed C, H, W`);
  }
  const [C, H, W] = [idims[1], idims[2], idims[3]];
  const dynamicBatch = idims[0] < 0;
  const feed = (n: number) => ({ [inputName]: new ort.Tensor('float32', probeImage(n, C, H, W), [n, C, H, W]) });
  // the probe's result is kept on disk by model hash (disk-cache.ts): a later process skips the probe session
  const probeCache = { load: () => loadProbe(key), save: (rec: Parameters<typeof saveProbe>[1]) => saveProbe(key, rec) };
  const info = await buildGraphInfo(proto, bytes, label, () => feed(dynamicBatch ? 1 : idims[0]), dynamicBatch ? () => feed(2) : undefined, probeCache);
  const outputName = g.output![0].name ?? '';
  let logitsName = outputName;
  const last = info.producer.get(outputName)?.node;
  if (last && (last.opType === 'Softmax' || last.opType === 'LogSoftmax') && !last.domain) logitsName = (last.input ?? [])[0];
  const lt = info.dims.get(logitsName);
  if (!lt || lt.length !== 2 || lt[1] < 1) {
    throw new ExplainError('BAD_INPUT', `ONNX model ${label}: the scores '${logitsName}' must be [N, classes]; they are [${(lt ?? []).join(', ')}]`);
  }
  return { ...info, key, inputName, inputShape: [C, H, W], dynamicBatch, outputName, logitsName, numClasses: lt[1] };
}

/**
 * Graph indexes (producers, consumers, initializers, constants) and static shapes of every tensor, found by
 * running the model in ORT with every intermediate value exposed as an extra graph output — once on the
 * given feeds and, when batch is free, once more at another batch size: dims that differ are symbolic (-1).
 */
import * as ort from 'onnxruntime-node';
import { createThreadSession, type OrtSession } from './ort-thread.js';
import {
  DT, type ModelProto, type NodeProto, type TensorProto, decodeModelBytes, defaultOpset, encodeModel, getAttr, num,
  tensorToNumbers, valueInfo,
} from './onnx-io.js';
import { ExplainError } from './types.js';
import type { ProbeRecord } from './disk-cache.js';

export interface GraphInfo {
  label: string;
  bytes: Uint8Array;
  proto: ModelProto; // read-only: clone with decodeModelBytes(bytes) before editing
  opset: number;
  nodes: NodeProto[];
  producer: Map<string, { node: NodeProto; index: number }>;
  consumers: Map<string, NodeProto[]>;
  initializers: Map<string, TensorProto>;
  /** dims per tensor name, -1 = symbolic (batch) */
  dims: Map<string, number[]>;
  /** ORT element type per tensor name ('float32', 'int64', …) */
  dtypes: Map<string, string>;
  /** constant values: initializers, Constant nodes, batch-independent probed integer tensors */
  constValue(name: string): number[] | undefined;
  /** every tensor name produced in the graph, inputs first */
  allNames: string[];
}

export type Feeds = Record<string, ort.Tensor>;

function elemTypeName(dt: number): string {
  return ({ [DT.FLOAT]: 'float32', [DT.DOUBLE]: 'float64', [DT.INT64]: 'int64', [DT.INT32]: 'int32', [DT.BOOL]: 'bool', [DT.UINT8]: 'uint8', [DT.INT8]: 'int8', [DT.FLOAT16]: 'float16' } as Record<number, string>)[dt] ?? `type${dt}`;
}

/** Index a parsed model's graph and probe its shapes with feeds1 (and feeds2: same model at another batch size). */
/** A store for probeShapes' result (explain/disk-cache.ts keeps it by model hash). */
export interface ProbeCache {
  load(): ProbeRecord | null;
  save(rec: ProbeRecord): void;
}

/** feeds: given, or made on demand (only when the probe runs: not when probeCache has its result) */
type LazyFeeds = Feeds | (() => Feeds);

export async function buildGraphInfo(proto: ModelProto, bytes: Uint8Array, label: string, feeds1: LazyFeeds, feeds2?: LazyFeeds, probeCache?: ProbeCache): Promise<GraphInfo> {
  const g = proto.graph!;
  const nodes = g.node ?? [];
  const initializers = new Map<string, TensorProto>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', t);
  const producer = new Map<string, { node: NodeProto; index: number }>();
  const consumers = new Map<string, NodeProto[]>();
  nodes.forEach((n, i) => {
    if (!n.name) n.name = `${n.opType}_${i}`;
    (n.output ?? []).forEach((o, index) => { if (o) producer.set(o, { node: n, index }); });
    for (const x of n.input ?? []) {
      if (!x) continue;
      let arr = consumers.get(x);
      if (!arr) consumers.set(x, (arr = []));
      if (!arr.includes(n)) arr.push(n);
    }
  });
  // topological order check (ONNX requires it; the backward pass relies on it)
  const seen = new Set<string>([...initializers.keys(), ...(g.input ?? []).map((v) => v.name ?? '')]);
  for (const n of nodes) {
    for (const x of n.input ?? []) {
      if (x && !seen.has(x) && producer.has(x)) {
        throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label}: node '${n.name}' uses '${x}' before it is produced (graph not topologically sorted)`);
      }
    }
    for (const o of n.output ?? []) if (o) seen.add(o);
  }

  // ---- shape probe (or its cached result) ----
  let rec = probeCache?.load() ?? null;
  if (!rec) {
    const make = (f: LazyFeeds | undefined) => (typeof f === 'function' ? f() : f);
    rec = await probeShapes(bytes, label, make(feeds1)!, make(feeds2));
    probeCache?.save(rec);
  }
  const dims = new Map<string, number[]>(rec.dims);
  const dtypes = new Map<string, string>(rec.dtypes);
  const probed = new Map<string, number[]>(rec.probed);
  for (const [name, t] of initializers) {
    dims.set(name, (t.dims ?? []).map(num));
    dtypes.set(name, elemTypeName(t.dataType ?? 0));
  }
  const constCache = new Map<string, number[] | undefined>();
  const constValue = (name: string): number[] | undefined => {
    if (constCache.has(name)) return constCache.get(name);
    let v: number[] | undefined;
    const init = initializers.get(name);
    if (init) v = tensorToNumbers(init)?.values;
    else {
      const p = producer.get(name);
      if (p && p.node.opType === 'Constant') {
        const n = p.node;
        const a = getAttr(n, 'value');
        if (a?.t) v = tensorToNumbers(a.t)?.values;
        else if (getAttr(n, 'value_float')) v = [getAttr(n, 'value_float')!.f ?? 0];
        else if (getAttr(n, 'value_floats')) v = [...(getAttr(n, 'value_floats')!.floats ?? [])];
        else if (getAttr(n, 'value_int')) v = [num(getAttr(n, 'value_int')!.i)];
        else if (getAttr(n, 'value_ints')) v = (getAttr(n, 'value_ints')!.ints ?? []).map(num);
      } else v = probed.get(name);
    }
    constCache.set(name, v);
    return v;
  };
  const inputs = (g.input ?? []).map((v) => v.name ?? '').filter((n) => n && !initializers.has(n));
  const allNames = [...new Set([...inputs, ...nodes.flatMap((n) => (n.output ?? []).filter(Boolean))])];
  return { label, bytes, proto, opset: defaultOpset(proto), nodes, producer, consumers, initializers, dims, dtypes, constValue, allNames };
}

/**
 * Static shapes, element types and batch-independent small integer values of every tensor, found by running the
 * model with every node output exposed as a graph output: on feeds1 and, when batch is free, on feeds2 (another
 * batch size): dims that differ are symbolic (-1).
 */
export async function probeShapes(bytes: Uint8Array, label: string, feeds1: Feeds, feeds2?: Feeds): Promise<ProbeRecord> {
  const probe = decodeModelBytes(bytes);
  const existing = new Set((probe.graph!.output ?? []).map((o) => o.name));
  for (const n of probe.graph!.node ?? []) {
    for (const o of n.output ?? []) if (o && !existing.has(o)) { probe.graph!.output!.push(valueInfo(o)); existing.add(o); }
  }
  let session: OrtSession;
  try {
    session = await createThreadSession(encodeModel(probe), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 }, true);
  } catch (e) {
    throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label} cannot be loaded by onnxruntime: ${(e as Error).message}`, { cause: e });
  }
  const run = async (feeds: Feeds) => {
    try { return await session.run(feeds); } catch (e) {
      const desc = Object.entries(feeds).map(([k, t]) => `${k}[${t.dims.join(',')}]`).join(', ');
      throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label} fails to run on ${desc}: ${(e as Error).message}`, { cause: e });
    }
  };
  let r1: ort.InferenceSession.OnnxValueMapType, r2: ort.InferenceSession.OnnxValueMapType | undefined;
  try {
    r1 = await run(feeds1);
    r2 = feeds2 ? await run(feeds2) : undefined;
  } finally { await session.release(); }

  const dims = new Map<string, number[]>();
  const dtypes = new Map<string, string>();
  const probed = new Map<string, number[]>();
  const record = (name: string, t: ort.Tensor, t2: ort.Tensor | undefined) => {
    dims.set(name, t.dims.map((d, i) => (t2 && (t2.dims.length !== t.dims.length || t2.dims[i] !== d) ? -1 : d)));
    dtypes.set(name, t.type);
    if ((t.type === 'int64' || t.type === 'int32') && t.size <= 64) {
      const v1 = Array.from(t.data as ArrayLike<number | bigint>, Number);
      const v2 = t2 ? Array.from(t2.data as ArrayLike<number | bigint>, Number) : v1;
      if (v1.length === v2.length && v1.every((x, i) => x === v2[i])) probed.set(name, v1);
    }
  };
  for (const [name, t] of Object.entries(feeds1)) record(name, t, feeds2?.[name]);
  for (const [name, t] of Object.entries(r1)) record(name, t as ort.Tensor, r2?.[name] as ort.Tensor | undefined);
  return { dims: [...dims], dtypes: [...dtypes], probed: [...probed] };
}

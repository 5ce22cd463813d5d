/**
 * ONNX ModelProto I/O on top of onnx-proto (protobufjs-generated): parse / serialise, decode initializers and
 * attributes, build tensors and value infos. Plain Node.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { ExplainError } from './types.js';

// onnx-proto is CommonJS; its namespace object carries the message classes
export const onnx = (onnxProto as unknown as { onnx: typeof import('onnx-proto').onnx }).onnx ?? (onnxProto as never);
export type ModelProto = import('onnx-proto').onnx.ModelProto;
export type GraphProto = import('onnx-proto').onnx.IGraphProto;
export type NodeProto = import('onnx-proto').onnx.INodeProto;
export type TensorProto = import('onnx-proto').onnx.ITensorProto;
export type AttributeProto = import('onnx-proto').onnx.IAttributeProto;
export type ValueInfoProto = import('onnx-proto').onnx.IValueInfoProto;

/** TensorProto.DataType values used here */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** protobufjs int64 (number | Long) → number */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

/** Parse ONNX bytes (or a file path). Malformed input → ExplainError('MALFORMED_MODEL'). */
export function parseModel(model: string | Uint8Array): { proto: ModelProto; bytes: Uint8Array; label: string } {
  let bytes: Uint8Array;
  let label: string;
  if (typeof model === 'string') {
    label = `'${model}'`;
    try { bytes = readFileSync(model); } catch (e) {
      throw new ExplainError('MALFORMED_MODEL', `cannot read ONNX model ${label}: ${(e as Error).message}`, { cause: e });
    }
  } else { bytes = model; label = `(${model.byteLength} bytes in memory)`; }
  let proto: ModelProto;
  try { proto = onnx.ModelProto.decode(bytes); } catch (e) {
    throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label} is not a parseable ModelProto: ${(e as Error).message}`, { cause: e });
  }
  const g = proto.graph;
  if (!g || !g.node || g.node.length === 0) {
    throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label} has no graph (or an empty one): not an ONNX ModelProto`);
  }
  if (!g.output || g.output.length === 0) throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label}: the graph has no outputs`);
  for (const t of g.initializer ?? []) {
    if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
      throw new ExplainError('MALFORMED_MODEL', `ONNX model ${label}: initializer '${t.name}' uses external data, which is not supported (save the model with all tensors inside the .onnx file)`);
    }
  }
  return { proto, bytes, label };
}

export function decodeModelBytes(bytes: Uint8Array): ModelProto { return onnx.ModelProto.decode(bytes); }
export function encodeModel(m: ModelProto): Uint8Array { return onnx.ModelProto.encode(m).finish(); }

/** opset version of the default ('' / 'ai.onnx') domain */
export function defaultOpset(m: ModelProto): number {
  for (const o of m.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') return num(o.version);
  return 1;
}

/** Decode a numeric tensor to plain numbers (float/double/int types). Returns undefined for other types. */
export function tensorToNumbers(t: TensorProto): { values: number[]; dims: number[]; dataType: number } | undefined {
  const dims = (t.dims ?? []).map(num);
  const dt = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const out: number[] = [];
  if (dt === DT.FLOAT) {
    if (view) for (let i = 0; i + 4 <= view.byteLength; i += 4) out.push(view.getFloat32(i, true));
    else for (const v of t.floatData ?? []) out.push(v);
  } else if (dt === DT.DOUBLE) {
    if (view) for (let i = 0; i + 8 <= view.byteLength; i += 8) out.push(view.getFloat64(i, true));
    else for (const v of t.doubleData ?? []) out.push(v);
  } else if (dt === DT.INT64) {
    if (view) for (let i = 0; i + 8 <= view.byteLength; i += 8) out.push(Number(view.getBigInt64(i, true)));
    else for (const v of t.int64Data ?? []) out.push(num(v));
  } else if (dt === DT.INT32 || dt === DT.INT8 || dt === DT.UINT8 || dt === DT.BOOL) {
    if (view) {
      const size = dt === DT.INT32 ? 4 : 1;
      for (let i = 0; i + size <= view.byteLength; i += size) {
        out.push(dt === DT.INT32 ? view.getInt32(i, true) : dt === DT.INT8 ? view.getInt8(i) : view.getUint8(i));
      }
    } else for (const v of t.int32Data ?? []) out.push(v);
  } else return undefined;
  return { values: out, dims, dataType: dt };
}

/** float32 tensor proto (raw little-endian) */
export function floatTensor(name: string, values: ArrayLike<number>, dims: number[]): TensorProto {
  const f = Float32Array.from(values as ArrayLike<number>);
  return onnx.TensorProto.create({ name, dataType: DT.FLOAT, dims, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) });
}
export function int64Tensor(name: string, values: ArrayLike<number>, dims: number[]): TensorProto {
  const b = BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(Math.trunc(v))));
  return onnx.TensorProto.create({ name, dataType: DT.INT64, dims, rawData: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) });
}

export type AttrValue = number | number[] | string | TensorProto | { floats: number[] };

/** Build an AttributeProto: integers → INT/INTS, non-integers → FLOAT, {floats} → FLOATS. */
export function makeAttr(name: string, v: AttrValue, forceFloat = false): AttributeProto {
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
  if (typeof v === 'number') {
    return forceFloat || !Number.isInteger(v)
      ? onnx.AttributeProto.create({ name, type: AT.FLOAT, f: v })
      : onnx.AttributeProto.create({ name, type: AT.INT, i: v });
  }
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: AT.INTS, ints: v });
  if ('floats' in v && Array.isArray((v as { floats: number[] }).floats) && !('dataType' in v)) {
    return onnx.AttributeProto.create({ name, type: AT.FLOATS, floats: (v as { floats: number[] }).floats });
  }
  return onnx.AttributeProto.create({ name, type: AT.TENSOR, t: v as TensorProto });
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
export function attrInt(node: NodeProto, name: string, def: number): number {
  const a = getAttr(node, name);
  return a ? num(a.i ?? 0) : def;
}
export function attrFloat(node: NodeProto, name: string, def: number): number {
  const a = getAttr(node, name);
  return a ? (a.f ?? 0) : def;
}
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = getAttr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}
export function attrString(node: NodeProto, name: string, def: string): string {
  const a = getAttr(node, name);
  return a && a.s ? new TextDecoder().decode(a.s) : def;
}

/** ValueInfo with an optional float element type and dims (-1 / string = symbolic). */
export function valueInfo(name: string, elemType?: number, dims?: (number | string)[]): ValueInfoProto {
  if (elemType === undefined) return onnx.ValueInfoProto.create({ name });
  const shape = dims
    ? { dim: dims.map((d) => (typeof d === 'number' && d >= 0 ? { dimValue: d } : { dimParam: typeof d === 'string' ? d : 'N' })) }
    : undefined;
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape } } });
}

/** dims of a graph input/output value info: numbers, or -1 where symbolic/unknown */
export function valueInfoDims(v: ValueInfoProto): number[] | undefined {
  const s = v.type?.tensorType?.shape;
  if (!s) return undefined;
  return (s.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : -1));
}
export function valueInfoElemType(v: ValueInfoProto): number | undefined {
  return v.type?.tensorType?.elemType ?? undefined;
}

/**
 * NumPy `.npy` reader/writer (format versions 1.0, 2.0, 3.0).
 * Reads float32/float64/float16, signed/unsigned ints (1..8 bytes) and bool, little or big endian,
 * C order or Fortran order (Fortran arrays are transposed into C order, so `data` is always row-major
 * for `dims`), into a Float32Array. Writes float32, little endian, C order, version 1.0 (2.0 when the
 * header does not fit in 65535 bytes).
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface NpyArray {
  data: Float32Array;
  dims: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

/** Parse the Python-literal header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */
function parseHeader(text: string, where: string): Header {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new NpyError(`${where}: malformed .npy header (not a dict): ${JSON.stringify(t.slice(0, 80))}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(t);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(t);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(t);
  if (!descr) throw new NpyError(`${where}: malformed .npy header: no 'descr' key (or a structured dtype, which is not supported)`);
  if (!fortran) throw new NpyError(`${where}: malformed .npy header: no 'fortran_order' key`);
  if (!shape) throw new NpyError(`${where}: malformed .npy header: no 'shape' tuple`);
  const dims: number[] = [];
  for (const part of shape[1].split(',')) {
    const s = part.trim().replace(/L$/, '');
    if (s === '') continue;
    if (!/^\d+$/.test(s)) throw new NpyError(`${where}: malformed .npy header: bad shape entry ${JSON.stringify(part.trim())}`);
    dims.push(Number(s));
  }
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dims };
}

type Reader = (dv: DataView, off: number) => number;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function readerFor(descr: string, where: string): { size: number; read: Reader } {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  if (!m) throw new NpyError(`${where}: unsupported .npy dtype '${descr}' (supported: float16/32/64, int8..64, uint8..64, bool)`);
  const [, order, kind, sizeStr] = m;
  const size = Number(sizeStr);
  const le = order !== '>'; // '|' (not applicable) and '=' (native; x86/arm are little endian) read as little
  const bad = () => new NpyError(`${where}: unsupported .npy dtype '${descr}' (${kind}${size * 8} is not a supported width)`);
  if (kind === 'f') {
    if (size === 4) return { size, read: (dv, o) => dv.getFloat32(o, le) };
    if (size === 8) return { size, read: (dv, o) => dv.getFloat64(o, le) };
    if (size === 2) return { size, read: (dv, o) => halfToFloat(dv.getUint16(o, le)) };
    throw bad();
  }
  if (kind === 'b') {
    if (size !== 1) throw bad();
    return { size, read: (dv, o) => (dv.getUint8(o) ? 1 : 0) };
  }
  const signed = kind === 'i';
  switch (size) {
    case 1: return { size, read: signed ? (dv, o) => dv.getInt8(o) : (dv, o) => dv.getUint8(o) };
    case 2: return { size, read: signed ? (dv, o) => dv.getInt16(o, le) : (dv, o) => dv.getUint16(o, le) };
    case 4: return { size, read: signed ? (dv, o) => dv.getInt32(o, le) : (dv, o) => dv.getUint32(o, le) };
    case 8: return { size, read: signed ? (dv, o) => Number(dv.getBigInt64(o, le)) : (dv, o) => Number(dv.getBigUint64(o, le)) };
    default: throw bad();
  }
}

/**
 * Decodes `.npy` bytes to float32 in C order; `where` names the source (file path) in error messages. `view`: when the data is already aligned little-endian float32 in C
 * order, return a view of `bytes` instead of a copy (for callers that own `bytes`: a copy of a 100-MB input costs
 * ~0.75 s of page faults on a small VM).
 */
export function decodeNpy(bytes: Uint8Array, where = '.npy data', opts: { view?: boolean } = {}): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(`${where}: not a .npy file (missing \\x93NUMPY magic)`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(`${where}: truncated .npy header`);
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError(`${where}: unsupported .npy format version ${major}.${bytes[7]} (supported: 1.0, 2.0, 3.0)`);
  }
  if (headerStart + headerLen > bytes.length) throw new NpyError(`${where}: truncated .npy header (declares ${headerLen} bytes, file has ${bytes.length - headerStart})`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const h = parseHeader(text, where);
  const { size, read } = readerFor(h.descr, where);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const need = count * size;
  if (bytes.length - dataStart < need) {
    throw new NpyError(`${where}: truncated .npy data: shape (${h.shape.join(', ')}) of '${h.descr}' needs ${need} bytes, file has ${bytes.length - dataStart}`);
  }
  const aligned = h.descr === '<f4' && (dataStart + bytes.byteOffset) % 4 === 0 && (!h.fortran || h.shape.length < 2);
  if (aligned && opts.view) return { data: new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, count), dims: h.shape };
  const out = new Float32Array(count);
  if (!h.fortran || h.shape.length < 2) {
    if (aligned) {
      out.set(new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, count));
    } else {
      for (let i = 0; i < count; i++) out[i] = read(dv, dataStart + i * size);
    }
  } else {
    // Fortran order: element (i0..in-1) sits at Σ i_k · Π_{j<k} d_j. Transpose into C order.
    const dims = h.shape;
    const nd = dims.length;
    const fstride = new Array<number>(nd);
    fstride[0] = 1;
    for (let k = 1; k < nd; k++) fstride[k] = fstride[k - 1] * dims[k - 1];
    const idx = new Array<number>(nd).fill(0);
    for (let c = 0; c < count; c++) {
      let f = 0;
      for (let k = 0; k < nd; k++) f += idx[k] * fstride[k];
      out[c] = read(dv, dataStart + f * size);
      for (let k = nd - 1; k >= 0; k--) {
        if (++idx[k] < dims[k]) break;
        idx[k] = 0;
      }
    }
  }
  return { data: out, dims: h.shape };
}

/** Encode a float32 C-order `.npy` (version 1.0, or 2.0 for a huge header). */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const count = arr.dims.reduce((a, b) => a * b, 1);
  if (arr.dims.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`encodeNpy: bad dims [${arr.dims.join(', ')}]`);
  if (count !== arr.data.length) throw new NpyError(`encodeNpy: dims [${arr.dims.join(', ')}] hold ${count} values but data has ${arr.data.length}`);
  const shape = arr.dims.length === 1 ? `(${arr.dims[0]},)` : `(${arr.dims.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  let version = 1;
  let pre = 10;
  if (dict.length + 1 + pre > 0xffff) {
    version = 2;
    pre = 12;
  }
  const total = pre + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const headerLen = dict.length;
  const out = new Uint8Array(pre + headerLen + count * 4);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  for (let i = 0; i < headerLen; i++) out[pre + i] = dict.charCodeAt(i);
  const body = pre + headerLen;
  for (let i = 0; i < count; i++) dv.setFloat32(body + i * 4, arr.data[i], true);
  return out;
}

/** Reads a .npy file; aligned float32 data is a view of the file's bytes (they belong to the result alone). */
export async function readNpy(path: string): Promise<NpyArray> {
  const bytes = await readFile(path);
  return decodeNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, { view: true });
}

export async function writeNpy(path: string, arr: NpyArray): Promise<void> {
  await writeFile(path, encodeNpy(arr));
}

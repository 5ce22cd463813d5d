/**
 * A minimal DICOM Part 10 writer for test fixtures (Explicit VR Little Endian data sets, native or encapsulated
 * pixel data), and a hand parser of Pixel Data for independent checks. Written from PS3.5 / PS3.10, sharing no
 * code with the engine's reader.
 */

export const WSM = '1.2.840.10008.5.1.4.1.1.77.1.6';
export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  jpegLossless: '1.2.840.10008.1.2.4.70',
  rle: '1.2.840.10008.1.2.5',
} as const;

/** [tag as 0xGGGGEEEE, VR, value]; SQ values are arrays of items (each an element list). */
export type El = [number, string, string | number | number[] | Uint8Array | El[][]];

const LONG = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'SQ', 'UT', 'UN', 'UC', 'UR']);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function tagBytes(tag: number): Uint8Array {
  const b = new Uint8Array(4);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, tag >>> 16, true);
  dv.setUint16(2, tag & 0xffff, true);
  return b;
}

function valueBytes(vr: string, v: El[2], implicit = false): Uint8Array {
  if (v instanceof Uint8Array) return v.length % 2 ? concat([v, new Uint8Array(1)]) : v;
  if (vr === 'SQ') {
    const items = (v as El[][]).map((it) => {
      const body = encodeElements(it, implicit);
      const h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, 0xfffe, true); dv.setUint16(2, 0xe000, true); dv.setUint32(4, body.length, true);
      return concat([h, body]);
    });
    return concat(items);
  }
  const nums = typeof v === 'number' ? [v] : Array.isArray(v) ? (v as number[]) : null;
  const size: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8 };
  if (nums && size[vr]) {
    const b = new Uint8Array(nums.length * size[vr]);
    const dv = new DataView(b.buffer);
    nums.forEach((n, i) => {
      const o = i * size[vr];
      if (vr === 'US') dv.setUint16(o, n, true); else if (vr === 'SS') dv.setInt16(o, n, true);
      else if (vr === 'UL') dv.setUint32(o, n, true); else if (vr === 'SL') dv.setInt32(o, n, true);
      else if (vr === 'FL') dv.setFloat32(o, n, true); else dv.setFloat64(o, n, true);
    });
    return b;
  }
  let s = nums ? nums.join('\\') : String(v);
  if (s.length % 2) s += vr === 'UI' ? '\0' : ' ';
  return new TextEncoder().encode(s);
}

/** Elements in Explicit VR Little Endian, or Implicit VR Little Endian (tag, 4-byte length, value) when `implicit`. */
export function encodeElements(els: El[], implicit = false): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [tag, vr, v] of [...els].sort((a, b) => a[0] - b[0])) {
    const val = valueBytes(vr, v, implicit);
    const long = implicit || LONG.has(vr);
    const h = long ? new Uint8Array(implicit ? 8 : 12) : new Uint8Array(8);
    h.set(tagBytes(tag));
    const dv = new DataView(h.buffer);
    if (implicit) dv.setUint32(4, val.length, true);
    else {
      h[4] = vr.charCodeAt(0); h[5] = vr.charCodeAt(1);
      if (long) dv.setUint32(8, val.length, true); else dv.setUint16(6, val.length, true);
    }
    parts.push(h, val);
  }
  return concat(parts);
}

/** Encapsulated Pixel Data: (7FE0,0010) OB, undefined length, offset table item, one item per fragment, delimiter. */
export function encapsulated(frames: Uint8Array[][], withBot = false): Uint8Array {
  const item = (b: Uint8Array) => {
    const v = b.length % 2 ? concat([b, new Uint8Array(1)]) : b;
    const h = new Uint8Array(8);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 0xfffe, true); dv.setUint16(2, 0xe000, true); dv.setUint32(4, v.length, true);
    return concat([h, v]);
  };
  const frameItems = frames.map((fr) => concat(fr.map(item)));
  let bot = new Uint8Array(0);
  if (withBot) {
    bot = new Uint8Array(frames.length * 4);
    const dv = new DataView(bot.buffer);
    let at = 0;
    frameItems.forEach((f, i) => { dv.setUint32(i * 4, at, true); at += f.length; });
  }
  const head = new Uint8Array(12);
  head.set(tagBytes(0x7fe00010)); head[4] = 0x4f; head[5] = 0x42;
  new DataView(head.buffer).setUint32(8, 0xffffffff, true);
  const end = new Uint8Array(8);
  const dv = new DataView(end.buffer);
  dv.setUint16(0, 0xfffe, true); dv.setUint16(2, 0xe0dd, true);
  return concat([head, item(bot), ...frameItems, end]);
}

/** A Part 10 file: preamble, DICM, meta group, data set, then `pixelData` (already encoded, e.g. encapsulated()). */
export function part10(ts: string, sopClass: string, sopInstance: string, dataset: El[], pixelData: Uint8Array): Uint8Array {
  const metaBody = encodeElements([
    [0x00020001, 'OB', Uint8Array.of(0, 1)],
    [0x00020002, 'UI', sopClass],
    [0x00020003, 'UI', sopInstance],
    [0x00020010, 'UI', ts],
    [0x00020012, 'UI', '1.2.3.4.5'],
  ]);
  const meta = concat([encodeElements([[0x00020000, 'UL', metaBody.length]]), metaBody]);
  const pre = new Uint8Array(132);
  pre.set([0x44, 0x49, 0x43, 0x4d], 128);
  const ds = encodeElements([[0x00080016, 'UI', sopClass], [0x00080018, 'UI', sopInstance], ...dataset], ts === TS.implicitLE);
  return concat([pre, meta, ds, pixelData]);
}

export interface WsmOpts {
  ts?: string;
  series?: string;
  instance?: string;
  imageType?: string;
  total: [number, number];
  frame: [number, number];
  frames: number;
  photometric?: string;
  samples?: number;
  spacingMm?: [number, number];
  objective?: number;
  organization?: string;
  /** TILED_SPARSE: 1-based (column, row) of each frame */
  positions?: Array<[number, number]>;
  extra?: El[];
}

/** A VL Whole Slide Microscopy instance's data set (without pixel data). */
export function wsmDataset(o: WsmOpts): El[] {
  const els: El[] = [
    [0x00080008, 'CS', o.imageType ?? 'DERIVED\\PRIMARY\\VOLUME\\NONE'],
    [0x00080060, 'CS', 'SM'],
    [0x00080070, 'LO', 'Glassbox Test Writer'],
    [0x0020000d, 'UI', '1.2.3.1'],
    [0x0020000e, 'UI', o.series ?? '1.2.3.2'],
    [0x00209311, 'CS', o.organization ?? 'TILED_FULL'],
    [0x00280002, 'US', o.samples ?? 3],
    [0x00280004, 'CS', o.photometric ?? 'RGB'],
    [0x00280006, 'US', 0],
    [0x00280008, 'IS', String(o.frames)],
    [0x00280010, 'US', o.frame[1]],
    [0x00280011, 'US', o.frame[0]],
    [0x00280100, 'US', 8],
    [0x00280101, 'US', 8],
    [0x00280102, 'US', 7],
    [0x00280103, 'US', 0],
    [0x00480006, 'UL', o.total[0]],
    [0x00480007, 'UL', o.total[1]],
    [0x52009229, 'SQ', [[[0x00289110, 'SQ', [[[0x00280030, 'DS', (o.spacingMm ?? [0.0005, 0.00025]).map(String).join('\\')]]]]]]],
    ...(o.extra ?? []),
  ];
  if (o.objective !== undefined) els.push([0x00480105, 'SQ', [[[0x00480112, 'DS', String(o.objective)]]]]);
  if (o.positions) {
    els.push([0x52009230, 'SQ', o.positions.map(([c, r]) => [[0x0048021a, 'SQ', [[[0x0048021e, 'SL', c], [0x0048021f, 'SL', r]]]]] as El[])]);
  }
  return els;
}

/** Native pixel data element (OB). */
export function native(bytes: Uint8Array, implicit = false): Uint8Array {
  return encodeElements([[0x7fe00010, 'OB', bytes]], implicit);
}

/**
 * Independent Pixel Data parse of an Explicit VR Little Endian file: walks the data set's elements (undefined-length
 * sequences and items included) to (7FE0,0010), returns native bytes or the fragments after the offset table.
 */
export function handParsePixelData(file: Uint8Array): { native: Uint8Array } | { fragments: Uint8Array[] } {
  const dv = new DataView(file.buffer, file.byteOffset, file.length);
  const u16 = (p: number) => dv.getUint16(p, true);
  /** skips the items of an undefined-length sequence starting at p; returns the position after its delimiter */
  const skipSequence = (p: number): number => {
    for (;;) {
      const e = u16(p + 2), l = dv.getUint32(p + 4, true);
      if (u16(p) === 0xfffe && e === 0xe0dd) return p + 8;
      if (l !== 0xffffffff) { p += 8 + l; continue; }
      p += 8; // undefined-length item: elements up to the item delimiter
      while (!(u16(p) === 0xfffe && u16(p + 2) === 0xe00d)) p = element(p).next;
      p += 8;
    }
  };
  const element = (p: number): { next: number; tag: number; value: number; len: number } => {
    const tag = (u16(p) << 16 | u16(p + 2)) >>> 0;
    const vr = String.fromCharCode(file[p + 4], file[p + 5]);
    const long = LONG.has(vr);
    const len = long ? dv.getUint32(p + 8, true) : u16(p + 6);
    const value = p + (long ? 12 : 8);
    if (len !== 0xffffffff) return { next: value + len, tag, value, len };
    if (tag === 0x7fe00010) return { next: -1, tag, value, len };
    return { next: skipSequence(value), tag, value, len };
  };
  let p = 132;
  while (p + 8 <= file.length) {
    const el = element(p);
    if (el.tag === 0x7fe00010) {
      if (el.len !== 0xffffffff) return { native: file.subarray(el.value, el.value + el.len) };
      const frags: Uint8Array[] = [];
      let q = el.value;
      for (;;) {
        const e = u16(q + 2), l = dv.getUint32(q + 4, true);
        if (e === 0xe0dd) break;
        frags.push(file.subarray(q + 8, q + 8 + l));
        q += 8 + l;
      }
      return { fragments: frags.slice(1) };
    }
    p = el.next;
  }
  throw new Error('hand parser: no Pixel Data');
}

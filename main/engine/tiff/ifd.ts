/**
 * TIFF / BigTIFF header and IFD parsing (both byte orders), with the safety checks geotiff's parser does
 * not make: IFD loops, entry counts, value ranges past EOF, absurd counts. Small tag values are read at
 * parse time; large ones (TileOffsets, ImageDescription, …) are loaded lazily once and cached, mirroring
 * geotiff's ImageFileDirectory API (getValue / loadValue / loadValueIndexed).
 */
import { SlideError } from '../errors.js';
import { LIMITS } from './limits.js';
import type { FileSource } from './source.js';

/** field type -> byte size */
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };
const EAGER_BYTES = 4096;
const EAGER_ASCII_BYTES = 16 * 1024 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LATIN1 = new TextDecoder('latin1');

export type TagValue = number | number[] | string | Uint8Array;

interface Entry { tag: number; type: number; count: number; valueOffset: number; inline: Uint8Array | null }

export class ByteReader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u16(o: number): number { return this.dv.getUint16(o, this.le); }
  u32(o: number): number { return this.dv.getUint32(o, this.le); }
  u64(o: number): number {
    const hi = this.le ? this.dv.getUint32(o + 4, true) : this.dv.getUint32(o, false);
    const lo = this.le ? this.dv.getUint32(o, true) : this.dv.getUint32(o + 4, false);
    return hi * 0x1_0000_0000 + lo; // exact below 2^53; larger values fail later range checks
  }
}

function decodeValues(bytes: Uint8Array, le: boolean, type: number, count: number): TagValue {
  if (type === 2) { // ASCII: NUL-terminated (possibly several strings); UTF-8 if valid, else Latin-1
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    const b = bytes.subarray(0, end);
    try { return UTF8.decode(b); } catch { return LATIN1.decode(b); }
  }
  if (type === 7) return bytes; // UNDEFINED: raw bytes (JPEGTables, ICC profile, …)
  const r = new ByteReader(bytes, le);
  const out: number[] = new Array(count);
  const dv = r.dv;
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 1: out[i] = bytes[i]; break;
      case 6: out[i] = dv.getInt8(i); break;
      case 3: out[i] = dv.getUint16(i * 2, le); break;
      case 8: out[i] = dv.getInt16(i * 2, le); break;
      case 4: case 13: out[i] = dv.getUint32(i * 4, le); break;
      case 9: out[i] = dv.getInt32(i * 4, le); break;
      case 5: { const d = dv.getUint32(i * 8 + 4, le); out[i] = d === 0 ? NaN : dv.getUint32(i * 8, le) / d; break; }
      case 10: { const d = dv.getInt32(i * 8 + 4, le); out[i] = d === 0 ? NaN : dv.getInt32(i * 8, le) / d; break; }
      case 11: out[i] = dv.getFloat32(i * 4, le); break;
      case 12: out[i] = dv.getFloat64(i * 8, le); break;
      case 16: case 18: out[i] = r.u64(i * 8); break;
      case 17: out[i] = Number(dv.getBigInt64(i * 8, le)); break;
      default: out[i] = NaN;
    }
  }
  return out;
}

/** One image file directory. Tag values are cached after the first load. */
export class Ifd {
  private readonly entries = new Map<number, Entry>();
  private readonly values = new Map<number, TagValue>();
  private readonly pending = new Map<number, Promise<TagValue>>();
  /** SubIFDs of this IFD (tag 330), parsed with the file */
  readonly subIfds: Ifd[] = [];

  constructor(
    private readonly src: FileSource,
    private readonly le: boolean,
    /** byte offset of this IFD in the file */
    readonly offset: number,
    /** position in parse order (0 = first top-level IFD) */
    readonly index: number,
    /** index of the parent top-level IFD for a SubIFD, else null */
    readonly parent: number | null,
  ) {}

  /** @internal */ addEntry(e: Entry): void {
    if (!this.entries.has(e.tag)) this.entries.set(e.tag, e);
    if (e.inline) this.values.set(e.tag, decodeValues(e.inline, this.le, e.type, e.count));
  }
  /** @internal */ setValue(tag: number, v: TagValue): void { this.values.set(tag, v); }

  hasTag(tag: number): boolean { return this.entries.has(tag); }
  count(tag: number): number { return this.entries.get(tag)?.count ?? 0; }
  tags(): number[] { return [...this.entries.keys()]; }

  /** A value already in memory (inline or small), else undefined. Deferred values need loadValue(). */
  getValue(tag: number): TagValue | undefined { return this.values.get(tag); }
  /** First number of a numeric tag, or `dflt`. */
  num(tag: number, dflt: number): number {
    const v = this.values.get(tag);
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && v.length > 0 && Number.isFinite(v[0])) return v[0];
    return dflt;
  }
  nums(tag: number): number[] | undefined {
    const v = this.values.get(tag);
    return Array.isArray(v) ? v : typeof v === 'number' ? [v] : undefined;
  }
  str(tag: number): string | undefined {
    const v = this.values.get(tag);
    return typeof v === 'string' ? v : undefined;
  }

  /** Loads a (possibly deferred) tag value once; concurrent callers share one read. */
  async loadValue(tag: number, signal?: AbortSignal): Promise<TagValue | undefined> {
    const have = this.values.get(tag);
    if (have !== undefined) return have;
    const e = this.entries.get(tag);
    if (!e) return undefined;
    let p = this.pending.get(tag);
    if (!p) {
      const size = TYPE_SIZE[e.type];
      p = this.src.read(e.valueOffset, size * e.count, signal, `tag ${tag} value`).then((bytes) => {
        const v = decodeValues(bytes, this.le, e.type, e.count);
        this.values.set(tag, v);
        return v;
      }).finally(() => this.pending.delete(tag));
      this.pending.set(tag, p);
    }
    return p;
  }

  async loadValueIndexed(tag: number, i: number, signal?: AbortSignal): Promise<number | undefined> {
    const v = this.values.get(tag) ?? await this.loadValue(tag, signal);
    if (Array.isArray(v)) return v[i];
    if (typeof v === 'number') return i === 0 ? v : undefined;
    return undefined;
  }
}

function stripPath(path: string, msg: string): string {
  return msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg;
}

export interface TiffHeader { littleEndian: boolean; bigTiff: boolean; firstIfd: number }

export function fail(path: string, code: 'CORRUPT' | 'LIMIT' | 'UNSUPPORTED_FORMAT', msg: string): never {
  throw new SlideError(code, `${path}: ${msg}`);
}

export function parseHeader(path: string, head: Uint8Array, fileSize: number): TiffHeader {
  if (fileSize === 0) fail(path, 'CORRUPT', 'empty file (0 bytes)');
  if (head.length < 8) fail(path, 'CORRUPT', `file too short for a TIFF header (${fileSize} bytes): truncated`);
  const bo = String.fromCharCode(head[0], head[1]);
  if (bo !== 'II' && bo !== 'MM') {
    fail(path, 'UNSUPPORTED_FORMAT', 'not a TIFF file (no TIFF/BigTIFF header)');
  }
  const le = bo === 'II';
  const r = new ByteReader(head, le);
  const magic = r.u16(2);
  if (magic === 42) return { littleEndian: le, bigTiff: false, firstIfd: r.u32(4) };
  if (magic === 43) {
    if (head.length < 16) fail(path, 'CORRUPT', 'file too short for a BigTIFF header: truncated');
    if (r.u16(4) !== 8 || r.u16(6) !== 0) fail(path, 'CORRUPT', `BigTIFF header has offset size ${r.u16(4)} (expected 8)`);
    return { littleEndian: le, bigTiff: true, firstIfd: r.u64(8) };
  }
  fail(path, 'UNSUPPORTED_FORMAT', 'not a TIFF file (no TIFF/BigTIFF header: byte-order mark without the TIFF (42) or BigTIFF (43) version number)');
}

/**
 * Parses the whole IFD chain plus every SubIFD (tag 330, one level deep, as in OME-TIFF / generic pyramids).
 * Returns top-level IFDs in file order; SubIFDs hang off their parent's `subIfds`.
 */
export async function parseIfds(src: FileSource, h: TiffHeader, warnings: string[] = []): Promise<Ifd[]> {
  const path = src.path;
  const seen = new Set<number>();
  let total = 0;
  const parseOne = async (offset: number, index: number, parent: number | null): Promise<{ ifd: Ifd; next: number }> => {
    if (seen.has(offset)) fail(path, 'CORRUPT', `IFD loop: the directory at offset ${offset} is referenced twice`);
    seen.add(offset);
    if (++total > LIMITS.maxIfds) fail(path, 'LIMIT', `more than ${LIMITS.maxIfds} IFDs`);
    const countSize = h.bigTiff ? 8 : 2, entrySize = h.bigTiff ? 20 : 12, offSize = h.bigTiff ? 8 : 4;
    if (offset < 8 || offset + countSize > src.size) {
      fail(path, 'CORRUPT', `IFD offset ${offset} lies outside the file (${src.size} bytes): truncated or corrupt`);
    }
    const cb = await src.read(offset, countSize, undefined, 'IFD entry count');
    const n = h.bigTiff ? new ByteReader(cb, h.littleEndian).u64(0) : new ByteReader(cb, h.littleEndian).u16(0);
    if (n === 0) fail(path, 'CORRUPT', `IFD at offset ${offset} has no entries`);
    if (n > LIMITS.maxIfdEntries) fail(path, 'LIMIT', `IFD at offset ${offset} claims ${n} entries (limit ${LIMITS.maxIfdEntries})`);
    const len = n * entrySize + offSize;
    if (offset + countSize + len > src.size) {
      fail(path, 'CORRUPT', `IFD at offset ${offset} (${n} entries) runs past the end of the file: truncated`);
    }
    const body = await src.read(offset + countSize, len, undefined, 'IFD');
    const r = new ByteReader(body, h.littleEndian);
    const ifd = new Ifd(src, h.littleEndian, offset, index, parent);
    const deferred: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const p = i * entrySize;
      const tag = r.u16(p), type = r.u16(p + 2);
      const count = h.bigTiff ? r.u64(p + 4) : r.u32(p + 4);
      const size = TYPE_SIZE[type];
      if (size === undefined) continue; // unknown field type: skip, as libtiff does
      const bytes = size * count;
      if (!Number.isSafeInteger(bytes)) fail(path, 'CORRUPT', `tag ${tag} in IFD ${index} has an absurd count ${count}`);
      const vp = p + (h.bigTiff ? 12 : 8);
      if (bytes <= offSize) {
        ifd.addEntry({ tag, type, count, valueOffset: offset + countSize + vp, inline: body.slice(vp, vp + bytes) });
        continue;
      }
      const valueOffset = h.bigTiff ? r.u64(vp) : r.u32(vp);
      if (valueOffset + bytes > src.size) {
        fail(path, 'CORRUPT', `tag ${tag} in IFD ${index}: value at offset ${valueOffset} (${bytes} bytes) lies past the end of the file (${src.size} bytes)`);
      }
      if (bytes > LIMITS.maxTagBytes) fail(path, 'LIMIT', `tag ${tag} in IFD ${index} is ${bytes} bytes (limit ${LIMITS.maxTagBytes})`);
      const e: Entry = { tag, type, count, valueOffset, inline: null };
      ifd.addEntry(e);
      // ASCII (ImageDescription: OME-XML, Aperio, …) is read at open: drivers detect formats from it
      if (bytes <= EAGER_BYTES || tag === 330 || (type === 2 && bytes <= EAGER_ASCII_BYTES)) deferred.push(e);
    }
    // small out-of-line values: one read each, in parallel
    await Promise.all(deferred.map((e) => ifd.loadValue(e.tag)));
    const next = h.bigTiff ? r.u64(n * entrySize) : r.u32(n * entrySize);
    return { ifd, next };
  };

  const top: Ifd[] = [];
  let off = h.firstIfd;
  if (off === 0) fail(path, 'CORRUPT', 'TIFF header points to no IFD');
  while (off !== 0) {
    let r: { ifd: Ifd; next: number };
    try {
      r = await parseOne(off, top.length, null);
    } catch (e) {
      // an unreadable IFD after the first (truncated file): keep what came before, say what was skipped
      if (top.length === 0 || !(e instanceof SlideError) || e.code !== 'CORRUPT' || /IFD loop/.test(e.message)) throw e;
      warnings.push(`IFD ${top.length} and any after it were skipped (${stripPath(path, e.message)})`);
      break;
    }
    top.push(r.ifd);
    off = r.next;
    if (off !== 0 && (off < 8 || off >= src.size)) {
      // libtiff tolerates a bad trailing next-IFD pointer if earlier IFDs are fine; so do we, with a warning
      warnings.push(`IFD ${top.length} and any after it were skipped (its offset ${off} lies ${off >= src.size ? `past the end of the file (${src.size} bytes): truncated file` : 'inside the header: corrupt pointer'})`);
      break;
    }
  }
  // SubIFDs: every offset listed in a tag 330. Writers differ on the next pointers of SubIFDs (Bio-Formats
  // chains channel 0's reduced level to channel 1's), so a next pointer is followed only to an IFD that no
  // tag 330 lists and that was not parsed yet.
  const listed = new Set<number>();
  let subCount = 0;
  for (const ifd of top) for (const so of ifd.nums(330) ?? []) listed.add(so);
  for (const ifd of top) {
    const subs = ifd.nums(330);
    if (!subs) continue;
    for (const so of subs) {
      if (!so || so >= src.size) {
        warnings.push(`a SubIFD of IFD ${ifd.index} was skipped (its offset ${so} lies outside the file of ${src.size} bytes: truncated or corrupt)`);
        continue;
      }
      if (seen.has(so)) {
        if (top.some((t) => t.offset === so)) fail(path, 'CORRUPT', `IFD loop: SubIFD offset ${so} of IFD ${ifd.index} points to a top-level IFD`);
        continue; // listed twice: parsed already
      }
      let o = so;
      while (o !== 0) {
        let r: { ifd: Ifd; next: number };
        try {
          r = await parseOne(o, top.length + subCount++, ifd.index);
        } catch (e) {
          if (!(e instanceof SlideError) || e.code !== 'CORRUPT' || /IFD loop/.test(e.message)) throw e;
          warnings.push(`a SubIFD of IFD ${ifd.index} at offset ${o} was skipped (${stripPath(path, e.message)})`);
          break;
        }
        ifd.subIfds.push(r.ifd);
        const next = r.next;
        o = next !== 0 && next < src.size && !listed.has(next) && !seen.has(next) ? next : 0;
      }
    }
  }
  return top;
}

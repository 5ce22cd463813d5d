/**
 * A streaming writer for tiled, Deflate-compressed, pyramidal TIFF (classic, little-endian): one IFD per level,
 * chained (level 0 first, then the reduced levels with NewSubfileType 1: the layout vips `tiffsave --pyramid`
 * writes and OpenSlide's generic-tiff / QuPath / vips read). Tiles are produced on demand by the caller
 * (`tile(level, col, row)`), compressed and written one at a time, so memory stays at a tile or two whatever the
 * image size. Samples: 32-bit float (1 band, MinIsBlack) or 8-bit RGBA (unassociated alpha).
 *
 * Why not sharp/vips tiffsave: sharp always casts its output to 8-bit sRGB (a float32 map would lose its values)
 * and vips' pyramid `mean` shrink spreads NaN (one unanalysed cell blanks its whole 2×2 block on every coarser
 * level); both are handled here by the caller's tile function.
 *
 * The file is written to `<path>.partial-<pid>` and renamed into place when complete (never half a TIFF at path).
 */
import { open, rename, rm } from 'node:fs/promises';
import { deflate } from 'node:zlib';
import { promisify } from 'node:util';
import { throwIfAborted } from '../../base/abort.js';

const deflateAsync = promisify(deflate);

export type TiffSampleKind = 'float32' | 'rgba8';

export interface TiffLevelSpec {
  width: number;
  height: number;
  /** pixels per centimetre (X/YResolution with ResolutionUnit 3), or null to leave the tags out */
  resolutionPerCm: [number, number] | null;
}

export interface TiffWriteSpec {
  kind: TiffSampleKind;
  /** level 0 first; each next level is the reduced image */
  levels: TiffLevelSpec[];
  /** tile edge, multiple of 16 (default 256) */
  tileSize?: number;
  /** ImageDescription of level 0 (e.g. the JSON sidecar; non-ASCII characters are written as \uXXXX) */
  description?: string;
  software?: string;
  /**
   * The samples of tile (col, row) of `level`: tileSize² × (1 float | 4 bytes), row-major, padded past the image
   * edge (any value; readers crop). Called once per tile in file order.
   */
  tile: (level: number, col: number, row: number) => Float32Array | Uint8Array;
  onProgress?: (done: number, total: number) => void;
  /** checked between tiles: an aborted write removes its temporary file and throws AbortError */
  signal?: AbortSignal;
}

const T = { SHORT: 3, LONG: 4, RATIONAL: 5, ASCII: 2 } as const;
interface Entry { tag: number; type: number; values: number[] | Uint8Array }

/** The best rational n/d (both < 2³²) for a positive value (resolution tags). */
export function toRational(v: number): [number, number] {
  if (!(v > 0) || !Number.isFinite(v)) return [1, 1];
  const max = 0xffffffff;
  const d = Math.max(1, Math.min(1_000_000, Math.floor(max / Math.max(1, v))));
  return [Math.min(max, Math.round(v * d)), d];
}

function entryBytes(e: Entry): Uint8Array {
  if (e.values instanceof Uint8Array) return e.values;
  const size = e.type === T.SHORT ? 2 : e.type === T.RATIONAL ? 8 : 4;
  const n = e.type === T.RATIONAL ? e.values.length / 2 : e.values.length;
  const b = new DataView(new ArrayBuffer(n * size));
  e.values.forEach((v, i) => (e.type === T.SHORT ? b.setUint16(i * 2, v, true) : b.setUint32(i * 4, v, true)));
  return new Uint8Array(b.buffer);
}

const count = (e: Entry): number => (e.values instanceof Uint8Array ? e.values.length : e.type === T.RATIONAL ? e.values.length / 2 : e.values.length);

/** The IFD (entries sorted by tag, then out-of-line values) placed at `at`; next-IFD pointer 0. */
function buildIfd(entries: Entry[], at: number): { bytes: Uint8Array; nextPointerAt: number } {
  entries.sort((a, b) => a.tag - b.tag);
  const head = 2 + entries.length * 12 + 4;
  const extra: Uint8Array[] = [];
  let extraLen = 0;
  const dir = new DataView(new ArrayBuffer(head));
  dir.setUint16(0, entries.length, true);
  entries.forEach((e, i) => {
    const o = 2 + i * 12;
    const data = entryBytes(e);
    dir.setUint16(o, e.tag, true);
    dir.setUint16(o + 2, e.type, true);
    dir.setUint32(o + 4, count(e), true);
    if (data.length <= 4) new Uint8Array(dir.buffer).set(data, o + 8);
    else {
      dir.setUint32(o + 8, at + head + extraLen, true);
      const padded = data.length & 1 ? new Uint8Array([...data, 0]) : data; // word-aligned values
      extra.push(padded);
      extraLen += padded.length;
    }
  });
  const bytes = new Uint8Array(head + extraLen);
  bytes.set(new Uint8Array(dir.buffer), 0);
  let p = head;
  for (const x of extra) { bytes.set(x, p); p += x.length; }
  return { bytes, nextPointerAt: at + head - 4 };
}

/** A TIFF ASCII value: 7-bit, NUL-terminated; other characters as \uXXXX (JSON text stays valid JSON). */
export function tiffAscii(s: string): Uint8Array {
  const safe = s.replace(/[^\x20-\x7e\n\r\t]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const b = Buffer.from(safe + '\0', 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Writes the pyramid; returns the file size. Throws (and leaves nothing at `path`) past 4 GiB. */
export async function writePyramidTiff(path: string, spec: TiffWriteSpec): Promise<number> {
  const ts = spec.tileSize ?? 256;
  if (ts % 16 !== 0 || ts < 16) throw new Error(`tile size must be a multiple of 16 (got ${ts})`);
  const float = spec.kind === 'float32';
  const spp = float ? 1 : 4;
  const bytesPerTile = ts * ts * (float ? 4 : 4);
  const tmp = `${path}.partial-${process.pid}`;
  const fh = await open(tmp, 'w');
  let ok = false;
  try {
    let pos = 0;
    const put = async (b: Uint8Array, at = pos): Promise<void> => {
      if (at + b.length > 0xffffffff) throw new Error(`${path}: the TIFF would exceed 4 GiB (classic TIFF); export a coarser map`);
      await fh.write(b, 0, b.length, at);
      if (at === pos) pos += b.length;
    };
    const header = new DataView(new ArrayBuffer(8));
    header.setUint8(0, 0x49); header.setUint8(1, 0x49); header.setUint16(2, 42, true); header.setUint32(4, 0, true);
    await put(new Uint8Array(header.buffer));
    let pointerAt = 4;
    const total = spec.levels.reduce((s, l) => s + Math.ceil(l.width / ts) * Math.ceil(l.height / ts), 0);
    let done = 0;
    for (let li = 0; li < spec.levels.length; li++) {
      const L = spec.levels[li];
      const across = Math.ceil(L.width / ts), down = Math.ceil(L.height / ts);
      const offsets: number[] = [], counts: number[] = [];
      // compress a few tiles ahead (zlib runs on the thread pool) while writing in order
      const pending: Array<Promise<Buffer>> = [];
      const n = across * down;
      const launch = (i: number) => {
        const t = spec.tile(li, i % across, Math.floor(i / across));
        const raw = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
        if (raw.length !== bytesPerTile) throw new Error(`tile ${i} of level ${li}: ${raw.length} bytes, expected ${bytesPerTile}`);
        pending[i] = deflateAsync(raw, { level: 6 });
        pending[i].catch(() => undefined); // awaited in order below; an early exit must not leave it unhandled
      };
      for (let i = 0; i < Math.min(n, 8); i++) launch(i);
      for (let i = 0; i < n; i++) {
        throwIfAborted(spec.signal, `writing ${path}`);
        if (i + 8 < n) launch(i + 8);
        const z = await pending[i];
        delete pending[i];
        if (pos & 1) await put(new Uint8Array(1));
        offsets.push(pos);
        counts.push(z.length);
        await put(z);
        spec.onProgress?.(++done, total);
      }
      const entries: Entry[] = [
        { tag: 254, type: T.LONG, values: [li === 0 ? 0 : 1] },
        { tag: 256, type: T.LONG, values: [L.width] },
        { tag: 257, type: T.LONG, values: [L.height] },
        { tag: 258, type: T.SHORT, values: Array(spp).fill(float ? 32 : 8) },
        { tag: 259, type: T.SHORT, values: [8] }, // Adobe Deflate
        { tag: 262, type: T.SHORT, values: [float ? 1 : 2] },
        { tag: 277, type: T.SHORT, values: [spp] },
        { tag: 284, type: T.SHORT, values: [1] },
        { tag: 322, type: T.LONG, values: [ts] },
        { tag: 323, type: T.LONG, values: [ts] },
        { tag: 324, type: T.LONG, values: offsets },
        { tag: 325, type: T.LONG, values: counts },
        { tag: 339, type: T.SHORT, values: Array(spp).fill(float ? 3 : 1) },
      ];
      if (!float) entries.push({ tag: 338, type: T.SHORT, values: [2] }); // unassociated alpha
      if (L.resolutionPerCm) {
        entries.push({ tag: 282, type: T.RATIONAL, values: toRational(L.resolutionPerCm[0]) });
        entries.push({ tag: 283, type: T.RATIONAL, values: toRational(L.resolutionPerCm[1]) });
        entries.push({ tag: 296, type: T.SHORT, values: [3] });
      }
      if (li === 0 && spec.description) entries.push({ tag: 270, type: T.ASCII, values: tiffAscii(spec.description) });
      if (li === 0 && spec.software) entries.push({ tag: 305, type: T.ASCII, values: tiffAscii(spec.software) });
      if (pos & 1) await put(new Uint8Array(1));
      const ifdAt = pos;
      const ifd = buildIfd(entries, ifdAt);
      await put(ifd.bytes);
      const ptr = new DataView(new ArrayBuffer(4));
      ptr.setUint32(0, ifdAt, true);
      await put(new Uint8Array(ptr.buffer), pointerAt);
      pointerAt = ifd.nextPointerAt;
    }
    await fh.sync();
    ok = true;
    return pos;
  } finally {
    await fh.close();
    if (ok) await rename(tmp, path);
    else await rm(tmp, { force: true });
  }
}

/** Level sizes of a 2× pyramid from (w, h) down to the first level that fits one tile. */
export function pyramidSizes(width: number, height: number, tileSize: number): Array<[number, number]> {
  const out: Array<[number, number]> = [[width, height]];
  let w = width, h = height;
  while (w > tileSize || h > tileSize) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
    out.push([w, h]);
  }
  return out;
}

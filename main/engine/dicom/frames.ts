/**
 * Where each frame of one DICOM instance lies in its file, found without reading the pixels:
 * - native pixel data: frame i is `frameBytes` bytes at offset + i·frameBytes;
 * - encapsulated: the Basic Offset Table when it has one entry per frame, else the Extended Offset Table, else
 *   one pass over the fragment item headers (8 bytes each, read through an 8 KiB window), grouping fragments into
 *   frames (one per frame, or by the codestream start marker of each frame's first fragment). The pass runs once,
 *   at open, so a truncated file is found there; its result is kept (two numbers per frame).
 */
import { SlideError } from '../errors.js';
import type { FileSource } from '../tiff/source.js';
import type { DicomHeader, FrameCodec } from './header.js';

/** Fragments of one frame: [offset, length] pairs of item values in the file. */
export type Fragments = Array<[number, number]>;

const WINDOW = 8 * 1024;
const ITEM = 0xe000, SEQ_END = 0xe0dd;

/** Reads little-endian item headers through a cached window of the file. */
class ItemReader {
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  constructor(private readonly src: FileSource) {}

  async header(pos: number): Promise<{ group: number; element: number; length: number; head: number }> {
    if (pos + 8 > this.src.size) {
      throw new SlideError('CORRUPT', `${this.src.path}: DICOM pixel data ends at byte ${pos} of ${this.src.size} without its sequence delimiter: the file is truncated`);
    }
    if (pos < this.at || pos + 12 > this.at + this.buf.length) {
      this.at = pos;
      this.buf = await this.src.read(pos, Math.min(WINDOW, this.src.size - pos), undefined, 'DICOM fragment headers');
    }
    const o = pos - this.at;
    const b = this.buf;
    const u16 = (p: number) => b[p] | (b[p + 1] << 8);
    const length = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16)) + b[o + 7] * 2 ** 24;
    // the first four bytes of the item value (a frame's start), big-endian, when in the window
    const head = o + 12 <= b.length ? ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) >>> 0 : -1;
    return { group: u16(o), element: u16(o + 2), length, head };
  }
}

export interface FrameIndex {
  /** stored frames */
  readonly count: number;
  /** the fragments holding frame i */
  fragments(i: number): Fragments;
}

/** Frame layout of native pixel data; CORRUPT when the data is shorter than the frames need. */
export function nativeFrames(path: string, h: DicomHeader, fileSize: number): FrameIndex & { frameBytes: number } {
  if (h.bitsAllocated !== 8) {
    throw new SlideError('UNSUPPORTED', `${path}: native pixel data with BitsAllocated ${h.bitsAllocated} is not supported (8-bit only)`);
  }
  const frameBytes = h.rows * h.columns * h.samplesPerPixel;
  const need = frameBytes * h.frames;
  const have = Math.min(h.pixelData.length ?? 0, fileSize - h.pixelData.offset);
  if (h.pixelData.length === null) throw new SlideError('CORRUPT', `${path}: native pixel data has an undefined length`);
  if (have < need) {
    throw new SlideError('CORRUPT', `${path}: pixel data holds ${have} bytes but ${h.frames} frame(s) of ${h.columns}×${h.rows}×${h.samplesPerPixel} need ${need}: the file is truncated or corrupt`);
  }
  const off = h.pixelData.offset;
  return { count: h.frames, frameBytes, fragments: (i) => [[off + i * frameBytes, frameBytes]] };
}

/** A frame's first fragment starts with JPEG SOI, or J2K SOC + SIZ, or a JP2 signature box (length 12). */
const startsFrame = (codec: FrameCodec, head: number): boolean =>
  codec === 'jpeg' ? head >>> 16 === 0xffd8 : head === 0xff4fff51 || head === 0x0000000c;

/** Frame layout of encapsulated pixel data (see the file comment). */
export async function encapsulatedFrames(src: FileSource, h: DicomHeader, codec: FrameCodec): Promise<FrameIndex> {
  const path = src.path;
  const rd = new ItemReader(src);
  // Basic Offset Table: the first item
  const bot = await rd.header(h.pixelData.offset);
  if (bot.group !== 0xfffe || bot.element !== ITEM) {
    throw new SlideError('CORRUPT', `${path}: encapsulated pixel data does not start with an item (found (${hex(bot.group)},${hex(bot.element)}))`);
  }
  const first = h.pixelData.offset + 8 + bot.length;
  const frames: Fragments[] = [];
  let starts: number[] | null = null;
  if (bot.length === h.frames * 4 && h.frames > 1) {
    const t = await src.read(h.pixelData.offset + 8, bot.length, undefined, 'DICOM basic offset table');
    const dv = new DataView(t.buffer, t.byteOffset, t.length);
    starts = Array.from({ length: h.frames }, (_, i) => first + dv.getUint32(i * 4, true));
  } else if (h.extendedOffsets && h.extendedOffsets.length === h.frames * 8 && h.frames > 1) {
    const t = await src.read(h.extendedOffsets.offset, h.extendedOffsets.length, undefined, 'DICOM extended offset table');
    const dv = new DataView(t.buffer, t.byteOffset, t.length);
    starts = Array.from({ length: h.frames }, (_, i) => first + Number(dv.getBigUint64(i * 8, true)));
  }
  if (starts && !starts.every((s, i) => i === 0 ? s === first : s > starts![i - 1])) {
    throw new SlideError('CORRUPT', `${path}: the pixel data's offset table is not increasing from the first fragment`);
  }
  // one pass over the fragment headers (bounded: at most one item per 8 bytes of file)
  const all: Array<[number, number, number]> = []; // offset, length, head
  let pos = first;
  for (;;) {
    const it = await rd.header(pos);
    if (it.group === 0xfffe && it.element === SEQ_END) break;
    if (it.group !== 0xfffe || it.element !== ITEM) {
      throw new SlideError('CORRUPT', `${path}: expected a pixel data item at byte ${pos}, found (${hex(it.group)},${hex(it.element)})`);
    }
    if (pos + 8 + it.length > src.size) {
      throw new SlideError('CORRUPT', `${path}: fragment ${all.length + 1} at byte ${pos} (+${it.length} bytes) runs past the end of the file (${src.size} bytes): the file is truncated`);
    }
    all.push([pos, it.length, it.head]);
    pos += 8 + it.length;
  }
  if (starts) {
    let k = 0;
    for (let f = 0; f < h.frames; f++) {
      const end = f + 1 < h.frames ? starts[f + 1] : Infinity;
      if (all[k]?.[0] !== starts[f]) throw new SlideError('CORRUPT', `${path}: offset table entry ${f} (byte ${starts[f]}) is not the start of a fragment`);
      const fr: Fragments = [];
      while (k < all.length && all[k][0] < end) { fr.push([all[k][0] + 8, all[k][1]]); k++; }
      frames.push(fr);
    }
  } else if (all.length === h.frames) {
    for (const [o, l] of all) frames.push([[o + 8, l]]);
  } else if (h.frames === 1) {
    frames.push(all.map(([o, l]) => [o + 8, l]));
  } else {
    for (const [o, l, head] of all) {
      if (startsFrame(codec, head) || frames.length === 0) frames.push([]);
      frames[frames.length - 1].push([o + 8, l]);
    }
  }
  if (frames.length < h.frames) {
    throw new SlideError('CORRUPT', `${path}: pixel data holds ${frames.length} frame(s) in ${all.length} fragment(s), NumberOfFrames says ${h.frames}: the file is truncated or corrupt`);
  }
  return { count: h.frames, fragments: (i) => frames[i] };
}

function hex(v: number): string { return v.toString(16).toUpperCase().padStart(4, '0'); }

/** Reads frame i's bytes (fragments concatenated). */
export async function readFrame(src: FileSource, index: FrameIndex, i: number, signal?: AbortSignal, what = `frame ${i + 1}`): Promise<Uint8Array> {
  const fr = index.fragments(i);
  if (fr.length === 1) return src.read(fr[0][0], fr[0][1], signal, what);
  const parts = await Promise.all(fr.map(([o, l]) => src.read(o, l, signal, what)));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

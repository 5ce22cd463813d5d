/**
 * Hamamatsu NDPI pyramid levels: random access into a level stored as ONE JPEG strip with restart markers.
 *
 * A level's strip is parsed once (`indexNdpiStrip`): the JPEG header (SOF size, sampling, DRI restart interval,
 * tables) and the byte offset of every restart interval (Hamamatsu tag 65426 McuStarts, offsets relative to the
 * strip start; or, without it, a single scan of the strip for RST markers). A virtual tile is a rectangle of
 * whole restart intervals: (restart interval × MCU width) wide and some MCU rows tall (grouped to ~targetTilePixels).
 * `readNdpiTileJpeg` reads only that tile's intervals and builds a standalone baseline JPEG for it: the strip's
 * header with the SOF size patched to the tile, the intervals' entropy-coded bytes with RST markers renumbered
 * 0..7 from the tile's start, and EOI. That JPEG can be decoded by sharp or passed through to a browser.
 */
import sharp, { type OutputInfo } from 'sharp';
import { SlideError } from '../errors.js';
import { hex2, parseJpegHeader, patchSofDims, scanRestartMarkers } from './jpeg-markers.js';

/** Read `length` bytes at absolute file `offset` (may return fewer at end of file). */
export type NdpiRead = (offset: number, length: number) => Promise<Uint8Array>;

export interface NdpiLevelIndex {
  width: number;
  height: number;
  /** virtual tile size (nominal; edge tiles are smaller) */
  tileWidth: number;
  tileHeight: number;
  tilesAcross: number;
  tilesDown: number;
  /** 'intervals' = tiles made of restart intervals; 'whole' = no usable restart markers: one tile = the level */
  mode: 'intervals' | 'whole';
  mcuWidth: number;
  mcuHeight: number;
  /** DRI restart interval in MCUs (0 = none) */
  restartInterval: number;
  /** restart intervals per MCU row (≥ 1 when an interval is a part of a row) */
  intervalsPerRow: number;
  /** MCU rows per restart interval (≥ 1 when an interval spans whole rows) */
  mcuRowsPerInterval: number;
  /** restart-interval rows grouped into one virtual tile row */
  unitsPerTile: number;
  stripOffset: number;
  stripByteCount: number;
  /** JPEG header of the strip: SOI … SOS (SOF size patched per tile) */
  header: Uint8Array;
  sofDimsAt: number;
  /** absolute file offset of the first entropy-coded byte of each restart interval */
  intervalStarts: Float64Array;
  /** absolute file offset of the strip's EOI marker (end of the last interval's data) */
  dataEnd: number;
  /** where the interval offsets came from */
  source: 'McuStarts' | 'scan' | 'none';
}

export interface NdpiIndexOptions {
  /** level size from the TIFF tags: used when the JPEG header's SOF size is 0 (very large NDPI levels) */
  width?: number;
  height?: number;
  /** aim for virtual tiles of about this many pixels (default 512×512); tile height is MCU rows × a power of 2 */
  targetTilePixels?: number;
  /** a name for error messages, e.g. "slide.ndpi level 0" */
  name?: string;
}

/** Safety limits. */
const MAX_HEADER_BYTES = 1 << 20;
const MAX_TILE_BYTES = 256 << 20;
const MAX_WHOLE_STRIP_BYTES = 512 << 20;
const MAX_INTERVALS = 50_000_000;

async function readExact(read: NdpiRead, offset: number, length: number, what: string): Promise<Uint8Array> {
  const b = await read(offset, length);
  if (b.length < length) {
    throw new SlideError('CORRUPT', `${what}: truncated (wanted ${length} bytes at offset ${offset}, file gave ${b.length})`);
  }
  return b.length === length ? b : b.subarray(0, length);
}

/**
 * Parse one NDPI level strip for random access. Reads the JPEG header and the strip's last bytes only
 * (plus one full scan of the strip when McuStarts is absent or unusable).
 * `mcuStarts`: tag 65426 values (offsets relative to the strip start), or null.
 */
export async function indexNdpiStrip(
  read: NdpiRead, stripOffset: number, stripByteCount: number, mcuStarts: ArrayLike<number> | null,
  opts: NdpiIndexOptions = {},
): Promise<NdpiLevelIndex> {
  const what = opts.name ?? `NDPI strip at offset ${stripOffset}`;
  if (!Number.isSafeInteger(stripOffset) || !Number.isSafeInteger(stripByteCount) || stripOffset < 0 || stripByteCount < 4) {
    throw new SlideError('CORRUPT', `${what}: bad strip offset/byte count (${stripOffset}, ${stripByteCount})`);
  }
  // 1. the JPEG header (usually < 1 KB; grow the read until SOS is complete)
  let want = Math.min(stripByteCount, 4096);
  let head: Uint8Array;
  let hdr;
  for (;;) {
    head = await readExact(read, stripOffset, want, what);
    hdr = parseJpegHeader(head, what);
    if (hdr) break;
    if (want >= stripByteCount || want >= MAX_HEADER_BYTES) {
      throw new SlideError('CORRUPT', `${what}: JPEG header incomplete in the first ${want} bytes of the strip`);
    }
    want = Math.min(stripByteCount, want * 4, MAX_HEADER_BYTES);
  }
  if (hdr.sofMarker !== 0xc0 && hdr.sofMarker !== 0xc1) {
    throw new SlideError('UNSUPPORTED', `${what}: JPEG frame type FF ${hdr.sofMarker.toString(16).toUpperCase()} (only baseline/extended sequential Huffman JPEG)`);
  }
  const width = hdr.width || opts.width || 0;
  const height = hdr.height || opts.height || 0;
  if (width < 1 || height < 1) throw new SlideError('CORRUPT', `${what}: JPEG size ${hdr.width}×${hdr.height} and no TIFF size`);
  const header = head.slice(0, hdr.headerLength);
  const { mcuWidth, mcuHeight, restartInterval } = hdr;
  const mcusPerRow = Math.ceil(width / mcuWidth);
  const mcuRows = Math.ceil(height / mcuHeight);

  // 2. the end of the entropy-coded data: EOI at (or near) the end of the strip
  const tailLen = Math.min(stripByteCount - hdr.headerLength, 64);
  const tail = await readExact(read, stripOffset + stripByteCount - tailLen, tailLen, what);
  let eoiRel = -1;
  for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) { eoiRel = i; break; }
  if (eoiRel < 0) throw new SlideError('CORRUPT', `${what}: no JPEG EOI at the end of the strip (truncated or garbled; ends ${hex2(tail, tail.length - 2)})`);
  const dataEnd = stripOffset + stripByteCount - tailLen + eoiRel;

  // 3. geometry of the restart intervals
  let intervalsPerRow = 0, mcuRowsPerInterval = 0;
  if (restartInterval > 0 && mcusPerRow % restartInterval === 0) intervalsPerRow = mcusPerRow / restartInterval;
  else if (restartInterval > 0 && restartInterval % mcusPerRow === 0) mcuRowsPerInterval = restartInterval / mcusPerRow;
  const base = { width, height, mcuWidth, mcuHeight, restartInterval, stripOffset, stripByteCount, header, sofDimsAt: hdr.sofDimsAt, dataEnd };
  if (!intervalsPerRow && !mcuRowsPerInterval) {
    return {
      ...base, mode: 'whole', tileWidth: width, tileHeight: height, tilesAcross: 1, tilesDown: 1, intervalsPerRow: 0,
      mcuRowsPerInterval: 0, unitsPerTile: 1, intervalStarts: new Float64Array([stripOffset + hdr.headerLength]), source: 'none',
    };
  }
  const unitRows = intervalsPerRow ? 1 : mcuRowsPerInterval; // MCU rows in one row of intervals
  const units = Math.ceil(mcuRows / unitRows); // rows of intervals
  const expected = units * (intervalsPerRow || 1);
  if (expected > MAX_INTERVALS) throw new SlideError('LIMIT', `${what}: ${expected} restart intervals is beyond the limit`);

  // 4. interval offsets: McuStarts if consistent, else one scan of the strip
  let starts: Float64Array | null = null;
  let source: NdpiLevelIndex['source'] = 'McuStarts';
  if (mcuStarts && mcuStarts.length === expected && validStarts(mcuStarts, hdr.headerLength, dataEnd - stripOffset)) {
    starts = new Float64Array(expected);
    for (let i = 0; i < expected; i++) starts[i] = stripOffset + mcuStarts[i];
  } else {
    source = 'scan';
    if (stripByteCount > MAX_WHOLE_STRIP_BYTES) throw new SlideError('LIMIT', `${what}: strip of ${stripByteCount} bytes is too large to scan for restart markers`);
    const strip = await readExact(read, stripOffset, stripByteCount, what);
    const { afterRst } = scanRestartMarkers(strip, hdr.headerLength);
    if (afterRst.length + 1 !== expected) {
      throw new SlideError('CORRUPT', `${what}: found ${afterRst.length + 1} restart intervals, expected ${expected} for ${width}×${height} with restart interval ${restartInterval}` +
        (mcuStarts ? ` (McuStarts has ${mcuStarts.length} entries)` : ''));
    }
    starts = new Float64Array(expected);
    starts[0] = stripOffset + hdr.headerLength;
    for (let i = 0; i < afterRst.length; i++) starts[i + 1] = stripOffset + afterRst[i];
  }

  // 5. virtual tile size: whole intervals wide, a power of two of interval rows tall (~targetTilePixels)
  const tileWidth = intervalsPerRow ? restartInterval * mcuWidth : width;
  const unitHeight = unitRows * mcuHeight;
  const target = opts.targetTilePixels ?? 512 * 512;
  let unitsPerTile = 1;
  while (unitsPerTile * 2 * unitHeight * tileWidth <= target && unitsPerTile * 2 <= units) unitsPerTile *= 2;
  const tileHeight = unitsPerTile * unitHeight;
  return {
    ...base, mode: 'intervals', tileWidth: Math.min(tileWidth, width), tileHeight: Math.min(tileHeight, height),
    tilesAcross: intervalsPerRow || 1, tilesDown: Math.ceil(units / unitsPerTile),
    intervalsPerRow: intervalsPerRow || 0, mcuRowsPerInterval: mcuRowsPerInterval || 0, unitsPerTile, intervalStarts: starts, source,
  };
}

function validStarts(s: ArrayLike<number>, first: number, end: number): boolean {
  if (s[0] !== first) return false;
  for (let i = 1; i < s.length; i++) if (!(s[i] > s[i - 1] + 2) || s[i] >= end) return false;
  return true;
}

/** Visible size of virtual tile (col, row). */
export function ndpiTileSize(index: NdpiLevelIndex, col: number, row: number): { width: number; height: number } {
  checkTile(index, col, row);
  return {
    width: Math.min(index.tileWidth, index.width - col * index.tileWidth),
    height: Math.min(index.tileHeight, index.height - row * index.tileHeight),
  };
}

function checkTile(index: NdpiLevelIndex, col: number, row: number): void {
  if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= index.tilesAcross || row >= index.tilesDown) {
    throw new SlideError('OUT_OF_RANGE', `NDPI tile (${col},${row}) is outside the ${index.tilesAcross}×${index.tilesDown} virtual tile grid`);
  }
}

/**
 * The standalone JPEG for virtual tile (col, row): decodes to exactly the tile's visible pixels.
 * Reads only the bytes of the tile's restart intervals.
 */
export async function readNdpiTileJpeg(index: NdpiLevelIndex, read: NdpiRead, col: number, row: number): Promise<Uint8Array> {
  const { width: tw, height: th } = ndpiTileSize(index, col, row);
  const what = `NDPI strip at offset ${index.stripOffset}, tile (${col},${row})`;
  if (index.mode === 'whole') {
    if (index.stripByteCount > MAX_WHOLE_STRIP_BYTES) throw new SlideError('LIMIT', `${what}: strip of ${index.stripByteCount} bytes is too large to read whole`);
    const strip = await readExact(read, index.stripOffset, index.dataEnd + 2 - index.stripOffset, what);
    const out = strip.slice();
    out.set(patchSofDims(index.header, index.sofDimsAt, tw, th).subarray(index.sofDimsAt, index.sofDimsAt + 4), index.sofDimsAt);
    return out;
  }
  // the intervals of this tile, in stream order
  const perRow = index.intervalsPerRow || 1;
  const firstUnit = row * index.unitsPerTile;
  const totalUnits = Math.ceil(index.intervalStarts.length / perRow);
  const lastUnit = Math.min(firstUnit + index.unitsPerTile, totalUnits) - 1;
  const n = index.intervalStarts.length;
  const ranges: Array<{ i: number; start: number; end: number }> = [];
  for (let u = firstUnit; u <= lastUnit; u++) {
    const i = u * perRow + col;
    const start = index.intervalStarts[i];
    const end = i + 1 < n ? index.intervalStarts[i + 1] : index.dataEnd; // non-last: includes the trailing RST
    ranges.push({ i, start, end });
  }
  // group contiguous ranges into single reads
  let total = 0;
  for (const r of ranges) total += r.end - r.start;
  if (total > MAX_TILE_BYTES) throw new SlideError('LIMIT', `${what}: ${total} bytes of entropy-coded data is beyond the tile limit`);
  const pieces: Uint8Array[] = [];
  for (let k = 0; k < ranges.length;) {
    let m = k;
    while (m + 1 < ranges.length && ranges[m + 1].start === ranges[m].end) m++;
    const buf = await readExact(read, ranges[k].start, ranges[m].end - ranges[k].start, what);
    for (let j = k; j <= m; j++) pieces.push(buf.subarray(ranges[j].start - ranges[k].start, ranges[j].end - ranges[k].start));
    k = m + 1;
  }
  // assemble: header (SOF patched) + intervals with RSTs renumbered + EOI
  const hdr = patchSofDims(index.header, index.sofDimsAt, tw, th);
  const out = new Uint8Array(hdr.length + total + 2);
  out.set(hdr, 0);
  let p = hdr.length;
  for (let j = 0; j < pieces.length; j++) {
    const piece = pieces[j];
    const r = ranges[j];
    let body = piece;
    if (r.i + 1 < n) {
      // interval data ends with its RST marker (RST(i mod 8)); check it so a wrong McuStarts or garbled strip is caught
      const a = piece.length - 2;
      if (a < 0 || piece[a] !== 0xff || piece[a + 1] !== (0xd0 | (r.i & 7))) {
        throw new SlideError('CORRUPT', `${what}: restart interval ${r.i} does not end with RST${r.i & 7} (found ${hex2(piece, Math.max(0, a))}): McuStarts or the strip is corrupt`);
      }
      body = piece.subarray(0, a);
    }
    out.set(body, p);
    p += body.length;
    if (j + 1 < pieces.length) { out[p++] = 0xff; out[p++] = 0xd0 | (j & 7); }
  }
  out[p++] = 0xff;
  out[p++] = 0xd9;
  return out.subarray(0, p);
}

/** Decode virtual tile (col, row) to interleaved 8-bit RGB with sharp (libvips thread pool). */
export async function decodeNdpiTile(index: NdpiLevelIndex, read: NdpiRead, col: number, row: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const jpeg = await readNdpiTileJpeg(index, read, col, row);
  // the frame size was written by readNdpiTileJpeg from the level geometry: cap libvips at one full tile (+ MCU padding)
  checkTile(index, col, row);
  const maxPixels = (Math.ceil(index.tileWidth / 32) * 32) * (Math.ceil(index.tileHeight / 32) * 32);
  return decodeJpegToRgb(jpeg, `NDPI tile (${col},${row}) of the strip at offset ${index.stripOffset}`, maxPixels);
}

/** Decode a complete JPEG to interleaved RGB (grey expanded); SlideError('CORRUPT') if libjpeg rejects it. */
export async function decodeJpegToRgb(jpeg: Uint8Array, what: string, maxPixels = 1 << 28): Promise<{ data: Uint8Array; width: number; height: number }> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(jpeg, { limitInputPixels: Math.max(1, maxPixels) }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new SlideError('CORRUPT', `${what}: JPEG decode failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`, { cause: e });
  }
  const { width, height, channels } = out.info;
  if (channels === 3) return { data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length), width, height };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = out.data[i * channels];
  return { data: rgb, width, height };
}

/** 64-bit McuStarts from TAG.NdpiMcuStarts (low words) and, when present, TAG.NdpiMcuStartsHigh (high words). */
export function combineNdpiMcuStarts(low: ArrayLike<number>, high: ArrayLike<number> | null | undefined): number[] {
  if (high && high.length !== low.length) {
    throw new SlideError('CORRUPT', `NDPI McuStarts high words: ${high.length} entries for ${low.length} McuStarts`);
  }
  const out = new Array<number>(low.length);
  for (let i = 0; i < low.length; i++) out[i] = (high ? high[i] * 0x1_0000_0000 : 0) + (low[i] >>> 0);
  return out;
}

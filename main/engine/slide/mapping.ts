/**
 * Chooses the PixelMapping for a level set and, for 16-bit / multichannel sources, measures each channel's
 * display range once from the data (the smallest pyramid level, bounded), so every tile is mapped alike.
 */
import { SlideError } from './types.js';
import { decodeChunk, unsupportedReason, TAG, type TiffImage } from '../tiff/index.js';
import { DEFAULT_CHANNEL_COLORS, type PixelMapping, type Rgb } from './pixels.js';
import type { RawProps } from './properties.js';

/** At most this many samples are scanned per channel to measure its range. */
const RANGE_SAMPLE_BUDGET = 4 * 1024 * 1024;

/** Throws SlideError('UNSUPPORTED') naming the compression / sample layout when we cannot decode `im`. */
export function assertDecodable(im: TiffImage): void {
  const r = unsupportedReason(im);
  if (r) throw new SlideError('UNSUPPORTED', `${im.src.path}: IFD ${im.ifd.index}: ${r}`);
  if (im.photometric === 5 || im.photometric === 8 || im.photometric === 9 || im.photometric === 10 || im.photometric === 4) {
    throw new SlideError('UNSUPPORTED', `${im.src.path}: IFD ${im.ifd.index}: unsupported photometric interpretation ${im.photometric} (${im.photometricName})`);
  }
}

/** Per-channel [min, max] of raw samples over `images` (one per channel) or the samples of one image. */
export async function measureRanges(images: TiffImage[], signal?: AbortSignal): Promise<Array<[number, number]>> {
  const perImage = images.length === 1 ? images[0].samplesPerPixel : 1;
  const ranges: Array<[number, number]> = [];
  for (const im of images) {
    const planes = im.planar === 2 ? im.samplesPerPixel : 1;
    const spp = im.planar === 2 ? 1 : im.samplesPerPixel;
    const lo = new Array(perImage).fill(Infinity), hi = new Array(perImage).fill(-Infinity);
    const chunksPerPlane = im.chunksAcross * im.chunksDown;
    const samplesPerChunk = im.chunkWidth * im.chunkHeight;
    const step = Math.max(1, Math.floor(chunksPerPlane / Math.max(1, Math.floor(RANGE_SAMPLE_BUDGET / samplesPerChunk))));
    for (let p = 0; p < planes; p++) {
      for (let i = 0; i < chunksPerPlane; i += step) {
        const col = i % im.chunksAcross, row = Math.floor(i / im.chunksAcross);
        const bytes = await im.readChunk(im.chunkIndex(col, row, p), signal);
        if (bytes.length === 0) continue;
        const rows = im.tiled ? im.chunkHeight : Math.min(im.chunkHeight, im.height - row * im.chunkHeight);
        const d = await decodeChunk(im, bytes, rows, `${im.src.path}: IFD ${im.ifd.index} chunk ${i}`, signal);
        // only pixels inside the image (edge tiles are padded)
        const vw = Math.min(d.width, im.width - col * im.chunkWidth), vh = Math.min(d.height, im.height - row * im.chunkHeight);
        for (let y = 0; y < vh; y++) {
          let si = y * d.width * d.channels;
          for (let x = 0; x < vw; x++) {
            for (let k = 0; k < spp; k++) {
              const v = d.data[si + k], c = planes > 1 ? p : k;
              if (v < lo[c]) lo[c] = v;
              if (v > hi[c]) hi[c] = v;
            }
            si += d.channels;
          }
        }
      }
    }
    for (let c = 0; c < perImage; c++) ranges.push(Number.isFinite(lo[c]) ? [lo[c], hi[c]] : [0, im.bitsPerSample === 16 ? 65535 : 255]);
  }
  return ranges;
}

const hex = (c: Rgb) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

/**
 * Mapping for a level set whose smallest level is `smallest` (images per channel, or one image).
 * `colors` overrides the default composite palette (e.g. OME Channel Color). States the mapping in raw.
 */
export async function chooseMapping(level0: TiffImage[], smallest: TiffImage[], raw: RawProps, colors?: Array<Rgb | null>): Promise<PixelMapping> {
  for (const im of level0) assertDecodable(im);
  const im = level0[0];
  const c = im.compression;
  if (c === 7 || c === 33003 || c === 33005 || (level0.length === 1 && (im.photometric === 2 || im.photometric === 6) && im.samplesPerPixel >= 3)) {
    if (im.bitsPerSample === 16) raw.set('glassbox.display', 'RGB 16-bit, scaled 0..65535 -> 0..255');
    return { kind: 'rgb' };
  }
  if (level0.length === 1 && im.photometric === 3) {
    const pal = await im.ifd.loadValue(TAG.ColorMap);
    if (!Array.isArray(pal) || pal.length !== 3 * 2 ** im.bitsPerSample) {
      throw new SlideError('CORRUPT', `${im.src.path}: IFD ${im.ifd.index}: palette image without a valid ColorMap`);
    }
    raw.set('glassbox.display', 'palette (ColorMap)');
    return { kind: 'palette', palette: pal };
  }
  const channels = level0.length > 1 ? level0.length : im.samplesPerPixel;
  if (channels === 1) {
    const invert = im.photometric === 0;
    const ranges = im.bitsPerSample === 16 ? await measureRanges(smallest) : [[0, 255] as [number, number]];
    raw.set('glassbox.display', `grey${invert ? ' (min-is-white, inverted)' : ''}: samples ${ranges[0][0]}..${ranges[0][1]} -> 0..255`);
    return { kind: 'grey', invert, ranges };
  }
  const ranges = await measureRanges(smallest);
  const cols: Rgb[] = [];
  for (let i = 0; i < channels; i++) cols.push(colors?.[i] ?? DEFAULT_CHANNEL_COLORS[i % DEFAULT_CHANNEL_COLORS.length]);
  raw.set('glassbox.display', `additive composite of ${channels} channels; each channel's range (measured on the smallest level) maps linearly to 0..1, times its colour`);
  for (let i = 0; i < channels; i++) {
    raw.set(`glassbox.channel[${i}].color`, hex(cols[i]));
    raw.set(`glassbox.channel[${i}].range`, `${ranges[i][0]}..${ranges[i][1]}`);
  }
  return { kind: 'composite', ranges, colors: cols };
}

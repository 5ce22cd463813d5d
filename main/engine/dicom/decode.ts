/**
 * DICOM frames → standalone JPEG (pass-through) or 8-bit RGB, reusing the TIFF layer's codecs:
 * JPEG through sharp (libjpeg-turbo) with the frame size checked first, JPEG 2000 through the codec registry's
 * OpenJPEG decoder (the one Aperio J2K tile decode, pooled for large frames), native pixels copied (planar, YBR_FULL and MONOCHROME1/2 mapped).
 *
 * Colour of JPEG frames: a frame that says what it holds (JFIF → YCbCr, Adobe APP14 → its transform flag,
 * component ids 'R','G','B' → RGB) is passed through as it is. A frame that says nothing is YCbCr to every
 * decoder, which is right for YBR_FULL_422 / YBR_FULL; for PhotometricInterpretation RGB it means "no colour
 * transform" (DICOM PS3.5 8.2.1), so an Adobe APP14 (transform 0) is inserted, as for Aperio's RGB JPEG tiles.
 */
import { SlideError } from '../errors.js';
import { ADOBE_APP14_RGB, hasAdobeMarker } from '../tiff/jpeg.js';
import { parseJpegHeader } from '../tiff/jpeg-markers.js';
import { checkJpegFrame, decodeJpegBytes, type DecodedChunk } from '../tiff/codecs.js';
import { decodeAperioJ2k } from '../tiff/jpeg2000.js';
import { APERIO_J2K_RGB, APERIO_J2K_YCBCR } from '../tiff/jpeg2000.js';
import { ycbcrToRgbInPlace } from '../tiff/openjpeg.mjs';
import type { DicomHeader, FrameCodec } from './header.js';

export interface Rgb { data: Uint8Array; width: number; height: number }

function hasJfif(jpeg: Uint8Array): boolean {
  let i = 2;
  while (i + 9 <= jpeg.length && jpeg[i] === 0xff) {
    const m = jpeg[i + 1];
    if (m === 0xda || m === 0xd9) break;
    if (m === 0xe0 && jpeg[i + 4] === 0x4a && jpeg[i + 5] === 0x46 && jpeg[i + 6] === 0x49 && jpeg[i + 7] === 0x46) return true;
    i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
  }
  return false;
}

/**
 * A JPEG frame as a standalone JPEG that decodes to the frame's RGB (see the file comment), its frame size
 * checked against Columns × Rows (MCU padding allowed): a bogus SOF is refused, never passed through.
 */
export function frameAsJpeg(frame: Uint8Array, h: DicomHeader, what: string, visible: { w: number; h: number }): { jpeg: Uint8Array; maxPixels: number } {
  if (frame.length < 4 || frame[0] !== 0xff || frame[1] !== 0xd8) throw new SlideError('CORRUPT', `${what}: JPEG frame does not start with SOI (corrupt frame data)`);
  let jpeg = frame;
  if (h.photometric === 'RGB' && !hasJfif(frame) && !hasAdobeMarker(frame)) {
    const hdr = parseJpegHeader(frame, what);
    const ids = hdr?.components.map((c) => c.id).join(',');
    if (hdr && hdr.components.length === 3 && ids !== '82,71,66') {
      jpeg = new Uint8Array(frame.length + ADOBE_APP14_RGB.length);
      jpeg.set(frame.subarray(0, 2), 0);
      jpeg.set(ADOBE_APP14_RGB, 2);
      jpeg.set(frame.subarray(2), 2 + ADOBE_APP14_RGB.length);
    }
  }
  const maxPixels = checkJpegFrame(jpeg, { width: h.columns, height: h.rows, minWidth: visible.w, minHeight: visible.h }, what);
  return { jpeg, maxPixels };
}

/** The contiguous codestream of a JP2-wrapped frame (its 'jp2c' box), or the frame itself. */
function j2kCodestream(frame: Uint8Array, what: string): Uint8Array {
  if (frame[0] === 0xff && frame[1] === 0x4f) return frame;
  let p = 0;
  while (p + 8 <= frame.length) {
    const len = ((frame[p] << 24) >>> 0) + (frame[p + 1] << 16) + (frame[p + 2] << 8) + frame[p + 3];
    const type = String.fromCharCode(...frame.subarray(p + 4, p + 8));
    if (type === 'jp2c') return frame.subarray(p + 8, len === 0 ? frame.length : p + len);
    if (len < 8) break;
    p += len;
  }
  throw new SlideError('CORRUPT', `${what}: JPEG 2000 frame holds neither a codestream nor a JP2 'jp2c' box`);
}

/** Decoded samples (1 or 3 channels, any size ≥ visible) → RGB cropped to `visible`. */
function cropToRgb(d: { data: Uint8Array; width: number; channels: number }, visible: { w: number; h: number }, invert = false): Rgb {
  const { w, h } = visible;
  const out = new Uint8Array(w * h * 3);
  const ch = d.channels;
  for (let y = 0; y < h; y++) {
    let si = y * d.width * ch, di = y * w * 3;
    for (let x = 0; x < w; x++, si += ch, di += 3) {
      if (ch >= 3) { out[di] = d.data[si]; out[di + 1] = d.data[si + 1]; out[di + 2] = d.data[si + 2]; }
      else { const v = invert ? 255 - d.data[si] : d.data[si]; out[di] = out[di + 1] = out[di + 2] = v; }
    }
  }
  return { data: out, width: w, height: h };
}

/** Native (uncompressed) 8-bit frame → RGB cropped to `visible`. */
function nativeToRgb(frame: Uint8Array, hd: DicomHeader, what: string, visible: { w: number; h: number }): Rgb {
  const { columns: cw, rows: ch, samplesPerPixel: spp } = hd;
  if (spp === 1) {
    if (hd.photometric !== 'MONOCHROME2' && hd.photometric !== 'MONOCHROME1') {
      throw new SlideError('UNSUPPORTED', `${what}: native ${hd.photometric || '(no photometric)'} pixels are not supported (MONOCHROME1/2, RGB and YBR_FULL are)`);
    }
    return cropToRgb({ data: frame, width: cw, channels: 1 }, visible, hd.photometric === 'MONOCHROME1');
  }
  if (spp !== 3 || !(hd.photometric === 'RGB' || hd.photometric === 'YBR_FULL')) {
    throw new SlideError('UNSUPPORTED', `${what}: native ${hd.photometric} with ${spp} samples per pixel is not supported (MONOCHROME1/2, RGB and YBR_FULL are)`);
  }
  let px = frame;
  if (hd.planar === 1) { // R plane, G plane, B plane → interleaved
    const n = cw * ch;
    px = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) { px[i * 3] = frame[i]; px[i * 3 + 1] = frame[n + i]; px[i * 3 + 2] = frame[2 * n + i]; }
  }
  const out = cropToRgb({ data: px, width: cw, channels: 3 }, visible);
  if (hd.photometric === 'YBR_FULL') ycbcrToRgbInPlace(out.data);
  return out;
}

/** Decodes one frame to RGB cropped to the visible part of its tile. */
export async function decodeFrame(frame: Uint8Array, hd: DicomHeader, codec: FrameCodec, what: string, visible: { w: number; h: number }, signal?: AbortSignal): Promise<Rgb> {
  if (codec === 'native') return nativeToRgb(frame, hd, what, visible);
  let d: DecodedChunk;
  if (codec === 'jpeg') {
    const { jpeg, maxPixels } = frameAsJpeg(frame, hd, what, visible);
    d = await decodeJpegBytes(jpeg, what, maxPixels);
  } else {
    // the decoder applies the codestream's colour transform (YBR_ICT / YBR_RCT / RGB); YBR_FULL without one is converted
    const ycc = hd.photometric === 'YBR_FULL' || hd.photometric === 'YBR_FULL_422';
    const j = await decodeAperioJ2k(j2kCodestream(frame, what), ycc ? APERIO_J2K_YCBCR : APERIO_J2K_RGB, what, signal);
    d = { data: j.data, width: j.width, height: j.height, channels: j.components, bits: 8 };
  }
  if (d.bits !== 8 || d.width < visible.w || d.height < visible.h) {
    throw new SlideError('CORRUPT', `${what}: decoded ${d.width}×${d.height} (${d.bits}-bit), expected at least ${visible.w}×${visible.h} 8-bit`);
  }
  return cropToRgb({ data: d.data as Uint8Array, width: d.width, channels: d.channels }, visible, hd.photometric === 'MONOCHROME1');
}

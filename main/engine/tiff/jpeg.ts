/**
 * Abbreviated TIFF JPEG tiles -> complete, standalone JPEG streams.
 * JPEGTables (tag 347) without its EOI + tile without its SOI = a complete JPEG. When the TIFF says the
 * JPEG data is RGB (Photometric 2, as Aperio writes it) an Adobe APP14 segment with transform = 0 is
 * inserted right after SOI, so decoders (libjpeg in sharp, Chromium) do not apply YCbCr->RGB.
 * The header prefix is built once per IFD and reused for every tile.
 */
import { SlideError } from '../errors.js';

/** FFEE, length 14, "Adobe", version 100, flags0 0, flags1 0, transform 0 (= RGB / no transform) */
export const ADOBE_APP14_RGB = Uint8Array.of(0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00);

export function hasAdobeMarker(jpeg: Uint8Array): boolean {
  // scan header segments until SOS
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const m = jpeg[i + 1];
    if (m === 0xda || m === 0xd9) break;
    if (m === 0xee && jpeg[i + 4] === 0x41 && jpeg[i + 5] === 0x64) return true;
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01 || m === 0xff) { i += m === 0xff ? 1 : 2; continue; }
    i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
  }
  return false;
}

/**
 * Builds the reusable prefix: SOI [+ APP14] [+ table segments from JPEGTables without SOI/EOI].
 * `tables` may be undefined (self-contained tiles).
 */
export function jpegPrefix(tables: Uint8Array | undefined, rgb: boolean): Uint8Array {
  let body: Uint8Array = new Uint8Array(0);
  if (tables && tables.length >= 4) {
    let start = 0, end = tables.length;
    if (tables[0] === 0xff && tables[1] === 0xd8) start = 2;
    if (tables[end - 2] === 0xff && tables[end - 1] === 0xd9) end -= 2;
    body = tables.subarray(start, end);
  }
  const app = rgb && !(tables && hasAdobeMarker(tables)) ? ADOBE_APP14_RGB : new Uint8Array(0);
  const out = new Uint8Array(2 + app.length + body.length);
  out[0] = 0xff; out[1] = 0xd8;
  out.set(app, 2);
  out.set(body, 2 + app.length);
  return out;
}

/** prefix + tile-without-SOI. The tile must start with SOI (FFD8); else it is corrupt. */
export function completeJpeg(prefix: Uint8Array, tile: Uint8Array, rgb: boolean, what: string): Uint8Array {
  if (tile.length < 4 || tile[0] !== 0xff || tile[1] !== 0xd8) {
    throw new SlideError('CORRUPT', `${what}: JPEG tile does not start with SOI (corrupt tile data)`);
  }
  // a tile that already carries its own Adobe marker needs no inserted APP14: drop ours (keep the tables)
  const ours = rgb && prefix.length >= 2 + ADOBE_APP14_RGB.length && prefix[2] === 0xff && prefix[3] === 0xee;
  let usePrefix = prefix;
  if (ours && hasAdobeMarker(tile)) {
    usePrefix = new Uint8Array(prefix.length - ADOBE_APP14_RGB.length);
    usePrefix[0] = 0xff; usePrefix[1] = 0xd8;
    usePrefix.set(prefix.subarray(2 + ADOBE_APP14_RGB.length), 2);
  }
  const out = new Uint8Array(usePrefix.length + tile.length - 2);
  out.set(usePrefix, 0);
  out.set(tile.subarray(2), usePrefix.length);
  return out;
}

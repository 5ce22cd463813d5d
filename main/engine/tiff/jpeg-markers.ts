/**
 * Minimal JPEG marker-level parsing used to cut JPEG streams into standalone pieces (NDPI restart intervals).
 * Nothing here decodes entropy-coded data.
 */
import { SlideError } from '../errors.js';

export interface JpegComponent { id: number; h: number; v: number; tq: number }

export interface JpegHeader {
  /** bytes from SOI up to and including the SOS segment (the entropy-coded data follows) */
  headerLength: number;
  /** byte offset (within the header) of the SOF segment's 16-bit height field; width follows at +2 */
  sofDimsAt: number;
  /** SOF marker byte (0xC0 baseline, 0xC1 extended, 0xC2 progressive, …) */
  sofMarker: number;
  width: number;
  height: number;
  components: JpegComponent[];
  /** MCU size in pixels (8 × max sampling factor) */
  mcuWidth: number;
  mcuHeight: number;
  /** DRI restart interval in MCUs (0 = no restart markers) */
  restartInterval: number;
  /** byte offset (within the header) of the DRI segment's value, or -1 */
  driAt: number;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Parse a JPEG's header (SOI … SOS). Returns null when `bytes` ends before the SOS segment is complete
 * (read more and retry); throws SlideError('CORRUPT') for anything that is not a sane JPEG header.
 * `what` names the stream in error messages.
 */
export function parseJpegHeader(bytes: Uint8Array, what: string): JpegHeader | null {
  const n = bytes.length;
  if (n < 2) return null;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new SlideError('CORRUPT', `${what}: not a JPEG stream (expected SOI FF D8, got ${hex2(bytes, 0)})`);
  }
  let p = 2;
  let sof: Pick<JpegHeader, 'sofDimsAt' | 'sofMarker' | 'width' | 'height' | 'components'> | null = null;
  let restartInterval = 0, driAt = -1;
  while (true) {
    // skip fill bytes
    while (p < n && bytes[p] === 0xff && p + 1 < n && bytes[p + 1] === 0xff) p++;
    if (p + 4 > n) return null;
    if (bytes[p] !== 0xff) throw new SlideError('CORRUPT', `${what}: JPEG marker expected at byte ${p}, got ${hex2(bytes, p)}`);
    const m = bytes[p + 1];
    if (m === 0xd9) throw new SlideError('CORRUPT', `${what}: JPEG ends (EOI) before any scan`);
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01 || m === 0xd8) {
      throw new SlideError('CORRUPT', `${what}: unexpected JPEG marker FF ${m.toString(16).toUpperCase()} in the header at byte ${p}`);
    }
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (len < 2) throw new SlideError('CORRUPT', `${what}: JPEG segment FF ${m.toString(16).toUpperCase()} at byte ${p} has length ${len}`);
    if (p + 2 + len > n) return null;
    const s = p + 4;
    if (SOF_MARKERS.has(m)) {
      if (len < 8) throw new SlideError('CORRUPT', `${what}: SOF segment too short`);
      const nc = bytes[s + 5];
      if (nc < 1 || nc > 4 || len < 8 + 3 * nc) throw new SlideError('CORRUPT', `${what}: SOF declares ${nc} components`);
      const components: JpegComponent[] = [];
      for (let c = 0; c < nc; c++) {
        const q = s + 6 + 3 * c;
        const h = bytes[q + 1] >> 4, v = bytes[q + 1] & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) throw new SlideError('CORRUPT', `${what}: SOF component ${c} has sampling ${h}×${v}`);
        components.push({ id: bytes[q], h, v, tq: bytes[q + 2] });
      }
      sof = { sofDimsAt: s + 1, sofMarker: m, height: (bytes[s + 1] << 8) | bytes[s + 2], width: (bytes[s + 3] << 8) | bytes[s + 4], components };
    } else if (m === 0xdd) {
      if (len !== 4) throw new SlideError('CORRUPT', `${what}: DRI segment has length ${len}`);
      restartInterval = (bytes[s] << 8) | bytes[s + 1];
      driAt = s;
    } else if (m === 0xda) {
      if (!sof) throw new SlideError('CORRUPT', `${what}: JPEG scan (SOS) before any frame header (SOF)`);
      const hmax = Math.max(...sof.components.map((c) => c.h));
      const vmax = Math.max(...sof.components.map((c) => c.v));
      return { ...sof, headerLength: p + 2 + len, mcuWidth: 8 * hmax, mcuHeight: 8 * vmax, restartInterval, driAt };
    }
    p += 2 + len;
  }
}

/** A copy of `header` with the SOF height/width replaced (both must fit in 16 bits). */
export function patchSofDims(header: Uint8Array, sofDimsAt: number, width: number, height: number): Uint8Array {
  if (width < 1 || height < 1 || width > 0xffff || height > 0xffff) {
    throw new SlideError('LIMIT', `JPEG frame ${width}×${height} does not fit a JPEG header`);
  }
  const out = header.slice();
  out[sofDimsAt] = height >> 8;
  out[sofDimsAt + 1] = height & 0xff;
  out[sofDimsAt + 2] = width >> 8;
  out[sofDimsAt + 3] = width & 0xff;
  return out;
}

/**
 * Offsets (relative to `bytes`) of the byte right after each RSTn marker in entropy-coded data that starts
 * at `from`. Stops at EOI. Used when an NDPI level has no McuStarts tag.
 */
export function scanRestartMarkers(bytes: Uint8Array, from: number): { afterRst: number[]; eoi: number } {
  const afterRst: number[] = [];
  const n = bytes.length;
  for (let i = from; i + 1 < n; i++) {
    if (bytes[i] !== 0xff) continue;
    const m = bytes[i + 1];
    if (m === 0x00 || m === 0xff) continue; // stuffed byte / fill
    if (m >= 0xd0 && m <= 0xd7) { afterRst.push(i + 2); i++; continue; }
    if (m === 0xd9) return { afterRst, eoi: i };
    throw new SlideError('CORRUPT', `unexpected JPEG marker FF ${m.toString(16).toUpperCase()} inside entropy-coded data at byte ${i}`);
  }
  return { afterRst, eoi: -1 };
}

export function hex2(b: Uint8Array, at: number): string {
  return Array.from(b.subarray(at, at + 2), (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ') || '(end of data)';
}

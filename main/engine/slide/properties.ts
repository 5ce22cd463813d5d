/**
 * Property normalisation, in one place (OpenSlide style): locale-free number parsing, unit scaling,
 * raw metadata that is never overwritten, mpp from vendor metadata or TIFF resolution tags with
 * placeholder rejection, and OpenSlide's downsample formula.
 */
import type { Ifd, TiffImage } from '../tiff/index.js';
import { TAG } from '../tiff/index.js';
import type { SlideLevel } from './types.js';

/** Raw vendor metadata: first writer wins (never overwrite), like OpenSlide's property table. */
export class RawProps {
  readonly map: Record<string, string> = {};
  set(key: string, value: string | number | undefined | null): void {
    if (value === undefined || value === null) return;
    if (Object.prototype.hasOwnProperty.call(this.map, key)) return;
    this.map[key] = String(value);
  }
}

/**
 * Locale-free decimal parse: '0.4990', ' 20 ', '1e-3'; a lone decimal comma ('0,499') is accepted.
 * Returns null for anything else (never NaN, never a partial parse like parseFloat('20x')).
 */
export function parseDecimal(s: string | undefined | null): number | null {
  if (s === undefined || s === null) return null;
  let t = s.trim();
  if (!t.includes('.') && /^[+-]?\d+,\d+$/.test(t)) t = t.replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** µm per unit, for OME / vendor length units */
const UM_PER_UNIT: Record<string, number> = {
  'µm': 1, 'μm': 1, um: 1, micron: 1, microns: 1, micrometer: 1, micrometre: 1,
  nm: 1e-3, nanometer: 1e-3, pm: 1e-6, 'Å': 1e-4, angstrom: 1e-4,
  mm: 1e3, millimeter: 1e3, cm: 1e4, centimeter: 1e4, m: 1e6, meter: 1e6,
};

/** Converts a physical pixel size to µm; null for unknown units (e.g. OME "pixel", "reference frame"). */
export function toMicrometres(value: number | null, unit: string | undefined): number | null {
  if (value === null || !Number.isFinite(value) || value <= 0) return null;
  const k = UM_PER_UNIT[(unit ?? 'µm').trim()];
  return k === undefined ? null : value * k;
}

/** Above this, a "resolution" is not a microscope scale (72 dpi = 352.8 µm/px, 300 dpi = 84.7 µm/px is kept). */
export const MAX_PLAUSIBLE_MPP = 100;

export type ResolutionMpp = { x: number; y: number } | { reason: string };

/**
 * mpp from XResolution / YResolution / ResolutionUnit (unit 2 inch -> 25400/res, 3 cm -> 10000/res).
 * Unknown when the unit is 1 (none) or unrecognised, a resolution is missing, zero, or has a zero
 * denominator, or the result is not plausible for microscopy (> MAX_PLAUSIBLE_MPP µm/px, i.e. ≤ 100 px/cm:
 * the 72 dpi / 28.35 px/cm placeholders that image writers put in every file).
 * A missing ResolutionUnit means inch (the TIFF 6.0 default).
 */
export function mppFromResolution(ifd: Ifd): ResolutionMpp {
  const xr = ifd.num(TAG.XResolution, NaN), yr = ifd.num(TAG.YResolution, NaN);
  const unit = ifd.num(TAG.ResolutionUnit, 2);
  if (!ifd.hasTag(TAG.XResolution) || !ifd.hasTag(TAG.YResolution)) return { reason: 'no XResolution/YResolution tags' };
  if (!Number.isFinite(xr) || !Number.isFinite(yr) || xr <= 0 || yr <= 0) return { reason: `resolution ${xr}/${yr} is zero or undefined (0 denominator)` };
  const k = unit === 2 ? 25400 : unit === 3 ? 10000 : 0;
  if (!k) return { reason: `ResolutionUnit ${unit} (${unit === 1 ? 'none' : 'unknown'}) has no physical scale` };
  const x = k / xr, y = k / yr;
  if (x > MAX_PLAUSIBLE_MPP || y > MAX_PLAUSIBLE_MPP) {
    return { reason: `resolution ${fmt(xr)}×${fmt(yr)} px/${unit === 2 ? 'inch' : 'cm'} = ${fmt(x)} µm/px is a placeholder, not a microscope scale (> ${MAX_PLAUSIBLE_MPP} µm/px)` };
  }
  return { x, y };
}

function fmt(v: number): string { return String(Math.round(v * 1000) / 1000); }

const UNIT_NAMES: Record<number, string> = { 1: 'none', 2: 'inch', 3: 'centimeter' };

/** tiff.* properties as OpenSlide names them, from the level-0 IFD. */
export function addTiffProps(raw: RawProps, ifd: Ifd): void {
  const s = (k: string, tag: number) => { const v = ifd.str(tag); if (v !== undefined && v !== '') raw.set(k, v); };
  s('tiff.ImageDescription', TAG.ImageDescription);
  s('tiff.Make', TAG.Make);
  s('tiff.Model', TAG.Model);
  s('tiff.Software', TAG.Software);
  s('tiff.DateTime', TAG.DateTime);
  s('tiff.Artist', TAG.Artist);
  s('tiff.HostComputer', TAG.HostComputer);
  s('tiff.Copyright', TAG.Copyright);
  if (ifd.hasTag(TAG.XResolution)) raw.set('tiff.XResolution', String(Math.fround(ifd.num(TAG.XResolution, NaN))));
  if (ifd.hasTag(TAG.YResolution)) raw.set('tiff.YResolution', String(Math.fround(ifd.num(TAG.YResolution, NaN))));
  const unit = ifd.num(TAG.ResolutionUnit, 2); // OpenSlide reports libtiff's default (inch) when absent
  raw.set('tiff.ResolutionUnit', UNIT_NAMES[unit] ?? String(unit));
}

/** OpenSlide's downsample: the mean of the width and height ratios to level 0. */
export function levelInfo(levels: Array<{ width: number; height: number; tileWidth: number; tileHeight: number }>): SlideLevel[] {
  const w0 = levels[0].width, h0 = levels[0].height;
  return levels.map((l, i) => ({
    width: l.width, height: l.height,
    downsample: i === 0 ? 1 : (w0 / l.width + h0 / l.height) / 2,
    tileWidth: l.tileWidth, tileHeight: l.tileHeight,
  }));
}

export function pixelInfo(im: TiffImage, channels?: number): { channels: number; bitsPerSample: number; sampleFormat: 'uint' | 'int' | 'float'; photometric: string } {
  return { channels: channels ?? im.samplesPerPixel, bitsPerSample: im.bitsPerSample, sampleFormat: im.sampleFormat, photometric: im.photometricName };
}

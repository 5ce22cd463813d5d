/**
 * Image crops of annotated regions: the bounding box of a geometry (level-0 px) read from the slide at a chosen
 * output resolution, optionally with the heatmap blended over it (the viewer's colours and blending), the region's
 * outline, and a burned-in scale bar; encoded as PNG or TIFF with the output µm/px in the resolution metadata.
 *
 * Resolution: s = output µm/px ÷ slide µm/px level-0 px per output px (or a given downsample when the slide's
 * µm/px is unknown). Pixels are read from the coarsest pyramid level not coarser than s (the analysis' readLevel:
 * only ever shrunk, never enlarged from a coarser level), over the level-pixel-aligned rectangle covering the box,
 * then resampled by sharp (Lanczos 3) and cut to the box. When s equals that level's downsample and the box lies
 * on the level's pixel grid, no resampling happens: the crop IS the region read.
 */
import sharp from 'sharp';
import type { Slide } from '../slide/types.js';
import { readLevel } from '../analysis/grid.js';
import { throwIfAborted } from '../../base/abort.js';
import type { Geometry, Rgb } from '../annotations/types.js';
import { blendOverlay, type ValueGrid } from './paint.js';
import { decorationSvg, geometryPath, labelMode, scaleBarLayout, type ScaleBarLayout } from './svg.js';
import { EXPORT_LIMITS, ExportError, type HeatmapPaint, type ScaleBarChooser } from './types.js';

export type CropFormat = 'png' | 'tiff';

export interface CropOptions {
  /** output µm per pixel (needs the slide's µm/px); or */
  mpp?: number;
  /** level-0 px per output px (when the slide's µm/px is unknown, or by choice) */
  downsample?: number;
  format: CropFormat;
  /** draw the geometry's outline (colour; width in output px, default ~min side / 250, ≥ 1.5) */
  outline?: { color: Rgb; width?: number } | null;
  overlay?: { grid: ValueGrid; paint: HeatmapPaint } | null;
  /** burn in a scale bar chosen by this policy (null: none) */
  scaleBar?: ScaleBarChooser | null;
  /** extra context around the box, in output px (default 0) */
  margin?: number;
  /** how the scale-bar label is drawn: SVG text, or the built-in stroke font (default: text where a font renders) */
  labelFont?: 'text' | 'paths';
  signal?: AbortSignal;
}

export interface CropResult {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** level-0 px rectangle shown (top-left, size = width·downsample × height·downsample) */
  region: { x: number; y: number; w: number; h: number };
  downsample: number;
  /** output µm/px (null: unknown) */
  mpp: number | null;
  /** slide level read and its downsample */
  level: number;
  levelDownsample: number;
  resampled: boolean;
  /** the burned-in bar: length in µm (unit 'um') or level-0 px (unit 'px'), width in output px */
  scaleBar: { length: number; unit: 'um' | 'px'; widthPx: number; label: string } | null;
  /** output pixels the heatmap coloured */
  overlayPixels: number;
  /** the box reached past the slide and was cut to it */
  clipped: boolean;
}

/** Bounding box [minX, minY, maxX, maxY] of a geometry's positions; throws on an empty or non-finite one. */
export function geometryBounds(g: Geometry): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const visit = (p: number[]) => {
    const [x, y] = p;
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new ExportError('BAD_INPUT', `a ${g.type} has a non-finite coordinate (${x}, ${y})`);
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  };
  const c = g.coordinates as unknown;
  const walk = (v: unknown): void => {
    if (Array.isArray(v) && typeof v[0] === 'number') visit(v as number[]);
    else if (Array.isArray(v)) v.forEach(walk);
  };
  walk(c);
  if (x0 > x1) throw new ExportError('BAD_INPUT', `the ${g.type} has no coordinates`);
  return [x0, y0, x1, y1];
}

/** level-0 px per output px for the options, validated. */
export function cropDownsample(slide: Slide, opts: Pick<CropOptions, 'mpp' | 'downsample'>): { s: number; mpp: number | null } {
  const smpp = slide.properties.mpp;
  if ((opts.mpp === undefined) === (opts.downsample === undefined)) throw new ExportError('BAD_INPUT', 'give either an output µm/px or a downsample (exactly one)');
  let s: number;
  if (opts.mpp !== undefined) {
    if (!(opts.mpp > 0) || !Number.isFinite(opts.mpp)) throw new ExportError('BAD_INPUT', `output µm/px must be a positive number (got ${opts.mpp})`);
    if (!smpp) throw new ExportError('BAD_INPUT', `${slide.path}: the slide's µm/px is unknown, so a crop cannot be made at ${opts.mpp} µm/px; give a downsample instead (or the slide's µm/px)`);
    s = opts.mpp / smpp.x;
  } else {
    s = opts.downsample!;
    if (!(s > 0) || !Number.isFinite(s)) throw new ExportError('BAD_INPUT', `downsample must be a positive number (got ${s})`);
  }
  if (s < EXPORT_LIMITS.minDownsample) {
    const finest = smpp ? `${(smpp.x * EXPORT_LIMITS.minDownsample).toPrecision(3)} µm/px (the slide is ${smpp.x.toPrecision(3)} µm/px)` : `downsample ${EXPORT_LIMITS.minDownsample}`;
    throw new ExportError('BAD_INPUT', `${opts.mpp !== undefined ? `${opts.mpp} µm/px` : `downsample ${s}`} would enlarge the slide's finest level more than ${1 / EXPORT_LIMITS.minDownsample}×; the finest allowed is ${finest}`);
  }
  return { s, mpp: smpp ? s * smpp.x : null };
}

async function readBands(slide: Slide, level: number, lds: number, lx: number, ly: number, w: number, h: number, signal?: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(w * h * 3);
  const band = Math.max(1, Math.floor((64 * 2 ** 20) / w));
  for (let y = 0; y < h; y += band) {
    throwIfAborted(signal, 'crop');
    const bh = Math.min(band, h - y);
    const img = await slide.readRegion(lx * lds, (ly + y) * lds, level, w, bh, signal);
    out.set(img.data.subarray(0, w * bh * 3), y * w * 3);
  }
  return out;
}

export interface CropPlan {
  s: number;
  mpp: number | null;
  /** level-0 px of the output's top-left */
  x: number;
  y: number;
  width: number;
  height: number;
  clipped: boolean;
  level: number;
  lds: number;
  /** the level-pixel rectangle read */
  lx: number;
  ly: number;
  rw: number;
  rh: number;
}

/** Everything about a crop that can be checked without reading pixels (throws ExportError on a bad request). */
export function planCrop(slide: Slide, geometry: Geometry, opts: Pick<CropOptions, 'mpp' | 'downsample' | 'margin'>): CropPlan {
  const { s, mpp } = cropDownsample(slide, opts);
  const { width: W, height: H, levels } = slide.properties;
  let [bx0, by0, bx1, by1] = geometryBounds(geometry);
  const margin = Math.max(0, opts.margin ?? 0) * s;
  // a point or a line along an axis: give it some context (64 output px)
  const minSide = 64 * s;
  if (bx1 - bx0 < minSide && (geometry.type === 'Point' || geometry.type === 'MultiPoint' || bx1 === bx0)) { const c = (bx0 + bx1) / 2; bx0 = c - minSide / 2; bx1 = c + minSide / 2; }
  if (by1 - by0 < minSide && (geometry.type === 'Point' || geometry.type === 'MultiPoint' || by1 === by0)) { const c = (by0 + by1) / 2; by0 = c - minSide / 2; by1 = c + minSide / 2; }
  const want = [Math.floor(bx0 - margin), Math.floor(by0 - margin), Math.ceil(bx1 + margin), Math.ceil(by1 + margin)];
  const x = Math.max(0, want[0]), y = Math.max(0, want[1]);
  const x1 = Math.min(W, want[2]), y1 = Math.min(H, want[3]);
  if (x1 <= x || y1 <= y) {
    throw new ExportError('OUT_OF_SLIDE', `the region (${bx0.toFixed(0)}, ${by0.toFixed(0)})–(${bx1.toFixed(0)}, ${by1.toFixed(0)}) lies outside the slide (${W}×${H} px at level 0)`);
  }
  const clipped = x > want[0] || y > want[1] || x1 < want[2] || y1 < want[3];
  const width = Math.max(1, Math.round((x1 - x) / s)), height = Math.max(1, Math.round((y1 - y) / s));
  if (width > EXPORT_LIMITS.maxCropSide || height > EXPORT_LIMITS.maxCropSide || width * height > EXPORT_LIMITS.maxCropPixels) {
    throw new ExportError('LIMIT', `a ${width}×${height} px crop is too large (at most ${EXPORT_LIMITS.maxCropSide} px per side and ${EXPORT_LIMITS.maxCropPixels / 1e6} Mpx); choose a coarser µm/px`);
  }
  const level = readLevel(levels, s);
  const lds = levels[level].downsample;
  // the level-pixel rectangle covering the output's level-0 extent
  const lx = Math.floor(x / lds + 1e-9), ly = Math.floor(y / lds + 1e-9);
  const rw = Math.max(1, Math.ceil((x + width * s) / lds - 1e-9) - lx), rh = Math.max(1, Math.ceil((y + height * s) / lds - 1e-9) - ly);
  if (rw * rh > EXPORT_LIMITS.maxReadPixels) {
    throw new ExportError('LIMIT', `the crop needs ${rw}×${rh} px of slide level ${level} (more than ${EXPORT_LIMITS.maxReadPixels / 2 ** 20} Mpx): the slide has no pyramid level near ${s.toPrecision(3)}× downsample; choose a coarser µm/px or a smaller region`);
  }
  return { s, mpp, x, y, width, height, clipped, level, lds, lx, ly, rw, rh };
}

/** One crop of `geometry`'s bounding box (clipped to the slide). */
export async function renderCrop(slide: Slide, geometry: Geometry, opts: CropOptions): Promise<CropResult> {
  const { s, mpp, x: rx0, y: ry0, width: outW, height: outH, clipped, level, lds, lx: lx0, ly: ly0, rw, rh } = planCrop(slide, geometry, opts);
  const raw = await readBands(slide, level, lds, lx0, ly0, rw, rh, opts.signal);
  throwIfAborted(opts.signal, 'crop');
  const k = lds / s; // output px per level px
  const left = Math.round((rx0 - lx0 * lds) / s), top = Math.round((ry0 - ly0 * lds) / s);
  const RW = Math.max(outW + left, Math.round(rw * k)), RH = Math.max(outH + top, Math.round(rh * k));
  const resampled = RW !== rw || RH !== rh;
  let img = sharp(raw, { raw: { width: rw, height: rh, channels: 3 }, limitInputPixels: false });
  if (resampled) img = img.resize(RW, RH, { fit: 'fill', kernel: 'lanczos3' });
  const rgb = new Uint8Array(await sharp(await img.raw().toBuffer(), { raw: { width: resampled ? RW : rw, height: resampled ? RH : rh, channels: 3 }, limitInputPixels: false })
    .extract({ left, top, width: outW, height: outH }).raw().toBuffer());

  const overlayPixels = opts.overlay ? blendOverlay(rgb, outW, outH, rx0, ry0, s, opts.overlay.grid, opts.overlay.paint) : 0;

  let bar: ScaleBarLayout | null = null;
  let scaleBar: CropResult['scaleBar'] = null;
  if (opts.scaleBar && outW >= 64 && outH >= 48) {
    const units = mpp ?? s;
    const choice = opts.scaleBar(units, Math.floor(outW * 0.3));
    if (choice) {
      const widthPx = Math.round(choice.lengthUm / units);
      const label = mpp ? choice.label : `${Number(choice.lengthUm.toPrecision(6))} px`;
      bar = scaleBarLayout(outW, outH, widthPx, label);
      scaleBar = { length: choice.lengthUm, unit: mpp ? 'um' : 'px', widthPx, label };
    }
  }
  const outline = opts.outline
    ? { d: geometryPath(geometry, rx0, ry0, s, Math.max(3, Math.min(outW, outH) / 40)), color: opts.outline.color, strokeWidth: opts.outline.width ?? Math.max(1.5, Math.min(outW, outH) / 250) }
    : null;
  let pixels: Uint8Array = rgb;
  if (outline || bar) {
    // composite to raw first: the SVG's alpha would otherwise turn the file into RGBA
    const { data, info } = await sharp(rgb, { raw: { width: outW, height: outH, channels: 3 }, limitInputPixels: false })
      .composite([{ input: Buffer.from(decorationSvg(outW, outH, outline, bar, opts.labelFont ?? (bar ? await labelMode() : 'text'))), top: 0, left: 0 }]).raw().toBuffer({ resolveWithObject: true });
    pixels = info.channels === 3 ? data : await sharp(data, { raw: { width: outW, height: outH, channels: info.channels } }).removeAlpha().raw().toBuffer();
  }
  let out = sharp(pixels, { raw: { width: outW, height: outH, channels: 3 }, limitInputPixels: false });
  if (mpp) out = out.withMetadata({ density: 25400 / mpp });
  out = opts.format === 'png'
    ? out.png({ compressionLevel: 6 })
    : out.tiff({ compression: 'lzw', predictor: 'horizontal', ...(mpp ? { xres: 1000 / mpp, yres: 1000 / mpp, resolutionUnit: 'cm' as const } : {}) });
  const bytes = new Uint8Array(await out.toBuffer());
  return {
    bytes, width: outW, height: outH, region: { x: rx0, y: ry0, w: outW * s, h: outH * s }, downsample: s, mpp,
    level, levelDownsample: lds, resampled, scaleBar, overlayPixels, clipped,
  };
}

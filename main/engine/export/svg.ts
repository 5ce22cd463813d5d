/**
 * Vector decorations of a crop, as one SVG that sharp (librsvg) composites over the pixels: the region's outline
 * and the burned-in scale bar (a black bar of an exact whole number of pixels on a translucent white plate, its
 * label above it in DejaVu Sans / the system sans-serif). Where librsvg finds no font (a bare system: text would
 * silently vanish) the label is drawn with a tiny built-in stroke font instead (`labelMode` probes once).
 */
import sharp from 'sharp';
import type { Geometry, Rgb } from '../annotations/types.js';

/**
 * Stroke font for scale-bar labels: glyphs on a 4-wide grid, cap height 0…6, x-height 2…6, descenders to 8
 * (y down). Covers every character chooseScaleBar / the px labels produce: digits, '.', ' ', µ, m, n, p, x.
 */
const GLYPHS: Record<string, string> = {
  '0': 'M0,0L4,0L4,6L0,6Z', '1': 'M1,1L2,0L2,6M1,6L3,6', '2': 'M0,0L4,0L4,3L0,3L0,6L4,6', '3': 'M0,0L4,0L4,6L0,6M0,3L4,3',
  '4': 'M0,0L0,3L4,3M4,0L4,6', '5': 'M4,0L0,0L0,3L4,3L4,6L0,6', '6': 'M4,0L0,0L0,6L4,6L4,3L0,3', '7': 'M0,0L4,0L4,6',
  '8': 'M0,0L4,0L4,6L0,6ZM0,3L4,3', '9': 'M4,3L0,3L0,0L4,0L4,6L0,6', '.': 'M2,5.6L2,6', ' ': '',
  'µ': 'M0,8L0,2M0,6L4,6L4,2', 'm': 'M0,6L0,2L4,2L4,6M2,2L2,6', 'n': 'M0,6L0,2L4,2L4,6', 'p': 'M0,8L0,2L4,2L4,5L0,5', 'x': 'M0,2L4,6M4,2L0,6',
};
const GLYPH_ADVANCE = 6;

/** The label as stroked paths of the built-in font, baseline at (x, y); unknown characters are drawn as a box. */
export function strokeLabel(text: string, x: number, y: number, fontSize: number): string {
  const u = fontSize / 8.5; // cap height 6 units ≈ 0.7 em, like a sans-serif
  const parts: string[] = [];
  [...text].forEach((ch, i) => {
    const d = GLYPHS[ch] ?? 'M0,0L4,0L4,6L0,6Z';
    if (d) parts.push(`<path transform="translate(${num(x + i * GLYPH_ADVANCE * u)},${num(y - 6 * u)}) scale(${num(u)})" d="${d}"/>`);
  });
  return `<g fill="none" stroke="black" stroke-width="${num(Math.max(1.2 / u, 0.9))}" stroke-linecap="round" stroke-linejoin="round">${parts.join('')}</g>`;
}

let probed: Promise<'text' | 'paths'> | null = null;
/** 'text' when librsvg renders SVG text here (a font is found), else 'paths' (the built-in stroke font). Probed once. */
export function labelMode(): Promise<'text' | 'paths'> {
  probed ??= sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32"><text x="4" y="26" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="24" fill="black">80</text></svg>'))
    .raw().toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => {
      let ink = 0;
      for (let i = info.channels - 1; i < data.length; i += info.channels) if (data[i] > 128) ink++;
      return ink >= 20 ? 'text' as const : 'paths' as const;
    }, () => 'paths' as const);
  return probed;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number): string => (Math.round(v * 100) / 100).toString();

/** SVG path data of a geometry mapped by (x, y) → ((x − x0)/s, (y − y0)/s); points become small circles. */
export function geometryPath(g: Geometry, x0: number, y0: number, s: number, pointRadius: number): string {
  const pt = ([x, y]: number[]) => `${num((x - x0) / s)},${num((y - y0) / s)}`;
  const ring = (r: number[][], close: boolean) => (r.length ? `M${r.map(pt).join('L')}${close ? 'Z' : ''}` : '');
  const circle = ([x, y]: number[]) => {
    const cx = (x - x0) / s, cy = (y - y0) / s, r = pointRadius;
    return `M${num(cx - r)},${num(cy)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
  };
  switch (g.type) {
    case 'Point': return circle(g.coordinates);
    case 'MultiPoint': return g.coordinates.map(circle).join('');
    case 'LineString': return ring(g.coordinates, false);
    case 'Polygon': return g.coordinates.map((r) => ring(r, true)).join('');
    case 'MultiPolygon': return g.coordinates.map((p) => p.map((r) => ring(r, true)).join('')).join('');
  }
}

export interface ScaleBarLayout {
  /** bar rectangle in output px (integers) */
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
  fontSize: number;
}

/** Where the bar goes: bottom-left, margins and sizes relative to the crop. */
export function scaleBarLayout(imgW: number, imgH: number, widthPx: number, label: string): ScaleBarLayout {
  const m = Math.max(4, Math.round(Math.min(imgW, imgH) * 0.03));
  const fontSize = Math.max(10, Math.min(40, Math.round(Math.min(imgW, imgH) * 0.04)));
  const height = Math.max(3, Math.round(fontSize * 0.35));
  return { x: m + Math.round(fontSize * 0.4), y: imgH - m - Math.round(fontSize * 0.4) - height, width: Math.round(widthPx), height, label, fontSize };
}

export function decorationSvg(
  width: number, height: number,
  outline: { d: string; color: Rgb; strokeWidth: number } | null,
  bar: ScaleBarLayout | null,
  label: 'text' | 'paths' = 'text',
): string {
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`];
  if (outline && outline.d) {
    const [r, g, b] = outline.color;
    parts.push(`<path d="${outline.d}" fill="none" stroke="rgb(${r},${g},${b})" stroke-width="${num(outline.strokeWidth)}" stroke-linejoin="round" fill-rule="evenodd"/>`);
  }
  if (bar) {
    const pad = Math.round(bar.fontSize * 0.4);
    const textW = Math.ceil(bar.label.length * bar.fontSize * (label === 'text' ? 0.62 : GLYPH_ADVANCE / 8.5));
    const plateW = Math.max(bar.width, textW) + 2 * pad;
    const plateH = bar.height + Math.round(bar.fontSize * 1.25) + 2 * pad;
    parts.push(
      `<rect x="${bar.x - pad}" y="${bar.y + bar.height + pad - plateH}" width="${plateW}" height="${plateH}" fill="white" fill-opacity="0.8" shape-rendering="crispEdges"/>`,
      `<rect x="${bar.x}" y="${bar.y}" width="${bar.width}" height="${bar.height}" fill="black" shape-rendering="crispEdges"/>`,
      label === 'text'
        ? `<text x="${bar.x}" y="${bar.y - Math.round(bar.fontSize * 0.3)}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${bar.fontSize}" fill="black">${esc(bar.label)}</text>`
        : strokeLabel(bar.label, bar.x, bar.y - Math.round(bar.fontSize * 0.45), bar.fontSize),
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

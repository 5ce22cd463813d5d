/**
 * Vector decorations of a crop, as one SVG that sharp (librsvg) composites over the pixels: the region's outline
 * and the burned-in scale bar (a black bar of an exact whole number of pixels on a translucent white plate, its
 * label above it in DejaVu Sans / the system sans-serif).
 */
import type { Geometry, Rgb } from '../annotations/types.js';

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
): string {
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`];
  if (outline && outline.d) {
    const [r, g, b] = outline.color;
    parts.push(`<path d="${outline.d}" fill="none" stroke="rgb(${r},${g},${b})" stroke-width="${num(outline.strokeWidth)}" stroke-linejoin="round" fill-rule="evenodd"/>`);
  }
  if (bar) {
    const pad = Math.round(bar.fontSize * 0.4);
    const textW = Math.ceil(bar.label.length * bar.fontSize * 0.62);
    const plateW = Math.max(bar.width, textW) + 2 * pad;
    const plateH = bar.height + Math.round(bar.fontSize * 1.25) + 2 * pad;
    parts.push(
      `<rect x="${bar.x - pad}" y="${bar.y + bar.height + pad - plateH}" width="${plateW}" height="${plateH}" fill="white" fill-opacity="0.8" shape-rendering="crispEdges"/>`,
      `<rect x="${bar.x}" y="${bar.y}" width="${bar.width}" height="${bar.height}" fill="black" shape-rendering="crispEdges"/>`,
      `<text x="${bar.x}" y="${bar.y - Math.round(bar.fontSize * 0.3)}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${bar.fontSize}" fill="black">${esc(bar.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

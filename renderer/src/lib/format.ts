/** Small display formatters (pure). */
import { MPP_OVERRIDE_RANGE } from '../../../main/contract/slides.js';

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatDims(w: number, h: number): string {
  return `${formatInt(w)} × ${formatInt(h)}`;
}

export function formatDownsample(d: number): string {
  return Number.isInteger(d) ? `${d}` : d.toFixed(d < 10 ? 3 : 2);
}

/** A position in µm/mm with sensible precision; null mpp → only pixels. */
export function formatPosition(px: { x: number; y: number }, mpp: { x: number; y: number } | null): string {
  const p = `${formatInt(px.x)}, ${formatInt(px.y)} px`;
  if (!mpp) return p;
  const ux = px.x * mpp.x;
  const uy = px.y * mpp.y;
  const f = (v: number) => (Math.abs(v) >= 10000 ? `${(v / 1000).toFixed(2)} mm` : `${v.toFixed(1)} µm`);
  return `${f(ux)}, ${f(uy)}  (${p})`;
}

/** Parse a user's mpp entry ("0.25", "0,5", "0.25 µm") → a positive number in µm/px or an error message. */
export function parseMpp(text: string): { ok: true; value: number } | { ok: false; error: string } {
  const t = text.trim().replace(',', '.').replace(/\s*(µm|um|μm)(\/px)?$/i, '');
  if (t === '') return { ok: false, error: 'Enter the pixel size in µm per pixel, e.g. 0.25' };
  const v = Number(t);
  if (!Number.isFinite(v) || v <= 0) return { ok: false, error: `"${text}" is not a positive number of µm per pixel` };
  const { min, max } = MPP_OVERRIDE_RANGE;
  if (v < min || v > max) return { ok: false, error: `${v} µm/px is outside the range a microscope scan can have (${min}–${max} µm/px)` };
  return { ok: true, value: v };
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "812 B", "1.2 MB", "3.4 GB" (decimal units, as file browsers show sizes) */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * CSV of measurements: one row per annotation, RFC 4180 (comma separated, CRLF line ends, fields with a comma,
 * quote, CR or LF in double quotes, quotes doubled), units in the headers. Computed columns come first (area,
 * perimeter/length, centroid; with a heatmap its statistics), then every stored measurement (imported or frozen
 * at creation) under its own name. Numbers are written in full precision; an empty field = no value.
 */
import { heatmapStats, measureAnnotation } from './measurements.js';
import type { Annotation, HeatmapGrid, PixelSize } from './types.js';

export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvRow = (fields: ReadonlyArray<string | number | boolean | null | undefined>): string => fields.map(csvField).join(',');

export interface CsvOptions {
  mpp: PixelSize;
  /** a loaded heatmap: adds its statistics inside each annotation */
  grid?: HeatmapGrid;
  /** the display threshold for "fraction ≥ T" */
  threshold?: number;
}

export function measurementsCsv(list: readonly Annotation[], opts: CsvOptions): string {
  const u = opts.mpp ? 'µm' : 'px';
  const head = ['id', 'name', 'class', 'shape', 'geometry', 'locked', `area (${u}²)`, `perimeter or length (${u})`, 'centroid x (px)', 'centroid y (px)'];
  const classes = opts.grid?.classNames ?? [];
  if (opts.grid) {
    head.push(`heatmap mean (${opts.grid.file})`, 'heatmap max', 'heatmap p90');
    if (opts.threshold !== undefined) head.push(`fraction ≥ ${opts.threshold}`);
    head.push('unanalysed fraction', ...classes.map((c) => `probability ${c}`));
  }
  const stored: string[] = [];
  const seen = new Set<string>();
  for (const a of list) for (const k of Object.keys(a.measurements)) if (!seen.has(k)) { seen.add(k); stored.push(k); }
  head.push(...stored);
  const lines = [csvRow(head)];
  for (const a of list) {
    const m = measureAnnotation(a, opts.mpp);
    const row: Array<string | number | boolean | null> = [
      a.id, a.name, a.classification?.name ?? '', a.shape.kind, a.geometry.type, a.isLocked, m.area, m.perimeter, m.centroid[0], m.centroid[1],
    ];
    if (opts.grid) {
      const s = heatmapStats(a.geometry, opts.grid, opts.threshold);
      row.push(s.mean, s.max, s.p90);
      if (opts.threshold !== undefined) row.push(s.fractionAbove);
      row.push(s.nanFraction, ...classes.map((c) => s.classProbabilities[c] ?? null));
    }
    row.push(...stored.map((k) => a.measurements[k] ?? null));
    lines.push(csvRow(row));
  }
  return lines.join('\r\n') + '\r\n';
}

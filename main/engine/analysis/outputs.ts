/**
 * The files of an analysis result (the heatmap sidecar format the README documents):
 *   heatmap.npy            float32 (rows, cols) raw values for the class, NaN where no tissue was analysed
 *                          (with several classes: heatmap-<class>.npy + heatmap-<class>.json for each)
 *   heatmap.json           geometry, provenance and the resolution report; cell [r, c] covers level-0 pixels
 *                          origin_px[0] + c·cell_size_px[0] … + (c+1)·cell_size_px[0], likewise for rows
 *   probabilities.npy      float32 (rows, cols, classes): per-cell softmax of the covering patches' logits
 *   patches.csv            one row per analysed patch: x, y, w, h (level-0 px), tissue fraction, probabilities
 */
import { encodeNpy } from '../explain/npy.js';
import { absQuantile, valueRange } from './stitch.js';
import type { AnalysisResult } from './types.js';

export const FORMAT_VERSION = 1;

export interface Provenance {
  slide: { path: string; sha256: string; width: number; height: number };
  model: { name: string; path: string; sha256: string; spacing_um_px: number; patch_size_pixels: number };
  settings: { overlap: number; min_tissue: number; region: [number, number, number, number] | null; batch: number };
  version: string;
}

/** a class name as a file-name part: letters, digits, '-', '_' */
export function classFileName(name: string, index: number): string {
  const s = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return s || `class${index}`;
}

export function heatmapFileNames(result: Pick<AnalysisResult, 'classes' | 'classNames'>): Map<number, string> {
  const single = result.classes.length === 1;
  return new Map(result.classes.map((k) => [k, single ? 'heatmap' : `heatmap-${classFileName(result.classNames[k] ?? String(k), k)}`]));
}

export function sidecar(result: AnalysisResult, k: number, prov: Provenance): Record<string, unknown> {
  const g = result.geometry;
  const map = result.heatmaps.get(k)!;
  const rs = result.resolution;
  return {
    format: 'glassbox-heatmap',
    format_version: FORMAT_VERSION,
    complete: result.complete,
    slide: { ...prov.slide, mpp: [rs.slide_mpp.x, rs.slide_mpp.y], mpp_source: rs.slide_mpp.source },
    model: prov.model,
    class: result.classNames[k] ?? String(k),
    class_index: k,
    classes: result.classNames,
    method: result.method,
    layer: result.layer,
    stride: rs.stride,
    signed: result.signed,
    origin_px: g.origin,
    cell_size_px: g.cellSize,
    cell_size_um: rs.cell_size_um,
    shape: g.shape,
    value_range: valueRange(map),
    /** slide-global display scale: the 99th percentile of |value| (never per patch) */
    display_scale: absQuantile(map, 0.99),
    nan: 'no patch analysed (glass, or tissue fraction below min_tissue)',
    patch: {
      size_px: g.patchSize, cells: g.cellsPerPatch, step_cells: g.stepCells, grid: g.patchGrid,
      analysed: result.patches.length, with_tissue: result.tissuePatches, in_grid: result.gridPatches,
    },
    settings: prov.settings,
    provider: result.provider,
    ...(result.fallbackReason ? { provider_fallback: result.fallbackReason } : {}),
    resolution: rs,
    warnings: result.warnings,
    glassbox: prov.version,
  };
}

export function patchesCsv(result: AnalysisResult): string {
  const names = result.classNames.map((n, i) => `p_${classFileName(n, i)}`);
  const lines = [['x', 'y', 'w', 'h', 'row', 'col', 'tissue', ...names].join(',')];
  for (const p of result.patches) {
    lines.push([p.x, p.y, p.w, p.h, p.row, p.col, p.tissue.toFixed(4), ...p.probabilities.map((v) => v.toPrecision(6))].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Every output file by name. */
export function resultFiles(result: AnalysisResult, prov: Provenance): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const [rows, cols] = result.geometry.shape;
  const enc = new TextEncoder();
  for (const [k, base] of heatmapFileNames(result)) {
    files.set(`${base}.npy`, encodeNpy({ data: result.heatmaps.get(k)!, dims: [rows, cols] }));
    files.set(`${base}.json`, enc.encode(JSON.stringify(sidecar(result, k, prov), null, 2) + '\n'));
  }
  files.set('probabilities.npy', encodeNpy({ data: result.probabilities, dims: [rows, cols, result.classNames.length] }));
  files.set('patches.csv', enc.encode(patchesCsv(result)));
  return files;
}

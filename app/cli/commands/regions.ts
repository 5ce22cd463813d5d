/**
 * `glassbox regions --heatmap DIR --threshold T [--percentile] [--min-area-um2 A] [--smooth S] [--simplify C]
 *  [--class NAME] [--diagonal] --out FILE.geojson`
 * Heatmap → regions: the cells of a `glassbox analyze` heatmap at or above a threshold, as QuPath GeoJSON polygons
 * (with holes) in level-0 px lying exactly on the cell boundaries, each with its measurements and provenance.
 */
import { resolve } from 'node:path';
import type { CliIO } from '../main.js';
import { parseFlags, UsageError } from './layers.js';
import { checkOutDir, helpRequested, joinNegatives } from '../args.js';
import {
  atomicWriteFile, formatArea, heatmapRegions, loadHeatmap, measureAnnotation, stringifyGeoJSON,
} from '../../../main/engine/annotations/index.js';

export const summary = 'heatmap → regions: cells ≥ a threshold as QuPath GeoJSON polygons (level-0 px, on the cell edges)';

const USAGE = 'glassbox regions --heatmap DIR --threshold T [--percentile] [--min-area-um2 A] [--smooth SIGMA] '
  + '[--simplify CELLS] [--class NAME] [--diagonal] --out FILE.geojson';

const OPTIONS = {
  heatmap: { type: 'string' }, threshold: { type: 'string' }, percentile: { type: 'boolean' },
  'min-area-um2': { type: 'string' }, smooth: { type: 'string' }, simplify: { type: 'string' }, class: { type: 'string' },
  diagonal: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

function num(flag: string, v: string | undefined, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} must be ${what} (got '${v}')`);
  return n;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (helpRequested(argv)) {
    io.out(`usage: ${USAGE}\n`
      + '  DIR: a folder written by glassbox analyze (heatmap[-<class>].npy + .json sidecar, probabilities.npy)\n'
      + '  --threshold T: cells with a map value ≥ T are in a region; with --percentile, T is a percentile 0..100 of the\n'
      + '      finite map values (e.g. 95 = the top 5 % of the analysed cells)\n'
      + '  --min-area-um2 A: drop regions smaller than A µm² (needs the slide\'s µm/px in the sidecar)\n'
      + '  --smooth SIGMA: Gaussian smoothing of the map (σ in cells, NaN-aware) before thresholding (default 0)\n'
      + '  --simplify C: Douglas–Peucker tolerance in cells, at most 0.5 (default 0: polygons exactly on the cell edges)\n'
      + '  --class NAME: which map, when DIR holds one per class\n'
      + '  --diagonal: diagonal neighbours join one region (default: edge neighbours only, as QuPath/ImageJ)\n'
      + '  --out FILE.geojson: QuPath GeoJSON FeatureCollection (level-0 px, origin top-left); its folder must exist');
    return 0;
  }
  const f = parseFlags(joinNegatives(argv, new Set(['--threshold', '--min-area-um2', '--smooth', '--simplify'])), OPTIONS, USAGE);
  if (!f.heatmap) throw new UsageError(`--heatmap DIR is required (usage: ${USAGE})`);
  if (f.threshold === undefined) throw new UsageError(`--threshold T is required (usage: ${USAGE})`);
  if (!f.out) throw new UsageError(`--out FILE.geojson is required (usage: ${USAGE})`);
  const threshold = num('threshold', f.threshold, (n) => !f.percentile || (n >= 0 && n <= 100), f.percentile ? 'a percentile 0..100' : 'a number')!;
  const minAreaUm2 = num('min-area-um2', f['min-area-um2'], (n) => n >= 0, 'an area ≥ 0 in µm²');
  const smoothCells = num('smooth', f.smooth, (n) => n >= 0 && n <= 20, 'a σ in cells, 0..20');
  const simplifyCells = num('simplify', f.simplify, (n) => n >= 0 && n <= 0.5, 'a tolerance in cells, 0..0.5 (at most half a cell)');
  const out = resolve(f.out);
  checkOutDir('--out', out);

  const grid = await loadHeatmap(resolve(f.heatmap), f.class);
  const { annotations, threshold: t } = heatmapRegions(grid, {
    threshold, percentile: !!f.percentile, minAreaUm2, smoothCells, simplifyCells, diagonal: !!f.diagonal,
  });
  await atomicWriteFile(out, stringifyGeoJSON(annotations));
  const tText = f.percentile ? `${t.toPrecision(4)} (the ${threshold}th percentile)` : String(t);
  const area = annotations.reduce((s, a) => s + measureAnnotation(a, grid.mpp).area, 0);
  io.out(`map: ${grid.file} (class '${grid.className}', ${grid.shape[0]}×${grid.shape[1]} cells of ${grid.cellSize.map((v) => v.toPrecision(4)).join('×')} px)`
    + `${grid.mpp ? '' : '; µm/px unknown: areas in px²'}`);
  io.out(`${annotations.length} region${annotations.length === 1 ? '' : 's'} ≥ ${tText}${minAreaUm2 ? `, each ≥ ${minAreaUm2} µm²` : ''}: `
    + `${formatArea({ unit: grid.mpp ? 'um' : 'px', area })} in all`);
  io.out(`wrote ${out}`);
  return 0;
}

/**
 * `glassbox analyze SLIDE --model M --out OUTDIR [--class NAME|all] [--method …] [--signed] [--layer TENSOR]
 *  [--batch N] [--overlap F] [--mpp X] [--region X,Y,W,H] [--min-tissue F] [--ep …] [--no-cache] [--force]`
 * Whole-slide Grad-CAM: see main/engine/analysis/outputs.ts for the files written. A progress bar with ETA on a
 * TTY, one line per stage otherwise. Ctrl-C saves what is done; the same command resumes it.
 */
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { CliIO } from '../main.js';
import { parseArgs } from 'node:util';
import { resolveModel, UsageError } from './layers.js';
import { joinNegatives } from '../args.js';
import { openSlide } from '../../../main/engine/slide/index.js';
import { resolveClass } from '../../../main/engine/model/index.js';
import { CAM_METHODS } from '../../../main/engine/explain/types.js';
import {
  analyzeSlide, heatmapFileNames, ResultCache, defaultCacheDir, type AnalysisJob, type AnalysisSettings, type Progress, type Rect,
} from '../../../main/engine/analysis/index.js';
import { VERSION } from '../version.js';

export const summary = 'whole-slide Grad-CAM: stitched raw heatmap (.npy + .json sidecar), probabilities, patches.csv';

const METHODS = CAM_METHODS.filter((m) => m !== 'saliency');
const EPS = ['cpu', 'webgpu', 'cuda', 'auto'] as const;
const USAGE = 'glassbox analyze SLIDE --model M --out OUTDIR [--class NAME|all] '
  + `[--method ${METHODS.join('|')}] [--signed] [--layer TENSOR] [--batch N] [--overlap F] [--mpp X] `
  + '[--region X,Y,W,H] [--min-tissue F] [--ep cpu|webgpu|cuda|auto] [--cache-dir DIR | --no-cache] [--force]';

const OPTIONS = {
  model: { type: 'string' }, out: { type: 'string' }, class: { type: 'string' }, method: { type: 'string' },
  signed: { type: 'boolean' }, layer: { type: 'string' }, batch: { type: 'string' }, overlap: { type: 'string' },
  mpp: { type: 'string' }, region: { type: 'string' }, 'min-tissue': { type: 'string' }, ep: { type: 'string' },
  'cache-dir': { type: 'string' }, 'no-cache': { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

const parse = (argv: string[]) => parseArgs({
  args: joinNegatives(argv, new Set(['--region', '--mpp', '--overlap', '--batch', '--min-tissue'])), options: OPTIONS, strict: true, allowPositionals: true,
});

function num(flag: string, v: string | undefined, def: number, ok: (n: number) => boolean, what: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} must be ${what} (got '${v}')`);
  return n;
}

function parseRegion(v: string | undefined): Rect | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length !== 4 || !parts.every((p) => /^-?\d+$/.test(p))) throw new UsageError(`--region must be X,Y,W,H in level-0 pixels (integers), got '${v}'`);
  const [x, y, w, h] = parts.map(Number);
  if (w <= 0 || h <= 0) throw new UsageError(`--region ${v}: width and height must be positive`);
  return { x, y, w, h };
}

const clock = (s: number | null) => {
  if (s === null || !Number.isFinite(s)) return '--:--';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(r).padStart(2, '0')}`;
};

export function progressLine(p: Progress, width = 24): string {
  const f = p.total ? p.done / p.total : 0;
  const bar = '█'.repeat(Math.round(f * width)).padEnd(width, '·');
  return `${bar} ${(f * 100).toFixed(0).padStart(3)}% ${p.done}/${p.total} patches · ${p.rate.toFixed(1)} patches/s · ETA ${clock(p.eta)}`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let f: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values: f, positionals } = parse(argv));
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')} (usage: ${USAGE})`);
  }
  if (f.help) {
    io.out(`usage: ${USAGE}\n`
      + '  SLIDE: a whole-slide image; M: a model package folder (config.json + model.onnx) or a shipped model id\n'
      + '  --class: a class name or index, or all (default: all, one heatmap per class)\n'
      + '  --overlap F: patch overlap 0 ≤ F < 1 (default 0: non-overlapping patches, the WSInfer convention)\n'
      + '  --mpp X: the slide\'s µm/px when its own is missing or wrong; --region: analyse only that level-0 rectangle\n'
      + '  --min-tissue F: minimum tissue fraction of a patch (default 0.1)\n'
      + `  results are cached in ${defaultCacheDir()} (--cache-dir, --no-cache); Ctrl-C keeps what is done, and the same command resumes`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one SLIDE, got ${positionals.length}: ${positionals.join(' ')}` : `SLIDE is required (usage: ${USAGE})`);
  if (!f.out) throw new UsageError('--out is required (OUTDIR)');
  const method = (f.method ?? 'gradcam') as AnalysisSettings['method'];
  if (!(METHODS as readonly string[]).includes(method)) throw new UsageError(`--method '${f.method}' is not one of ${METHODS.join(', ')}${f.method === 'saliency' ? ' (saliency is per input pixel: use glassbox explain on a patch)' : ''}`);
  if (f.signed && method !== 'gradcam') throw new UsageError(`--signed is only valid with --method gradcam (got --method ${method})`);
  const ep = (f.ep ?? 'auto') as (typeof EPS)[number];
  if (!EPS.includes(ep)) throw new UsageError(`--ep '${f.ep}' is not one of ${EPS.join(', ')}`);
  const batch = num('batch', f.batch, 16, (n) => Number.isInteger(n) && n >= 1 && n <= 1024, 'an integer 1..1024');
  const overlap = num('overlap', f.overlap, 0, (n) => n >= 0 && n < 1, 'a fraction 0 ≤ F < 1');
  const minTissue = num('min-tissue', f['min-tissue'], 0.1, (n) => n >= 0 && n <= 1, 'a fraction 0..1');
  const mpp = f.mpp === undefined ? undefined : num('mpp', f.mpp, 0, (n) => n > 0 && n < 100, 'a resolution in µm/px (0 < X < 100)');
  const region = parseRegion(f.region);
  if (f['no-cache'] && f['cache-dir']) throw new UsageError('--no-cache and --cache-dir are mutually exclusive');
  const outDir = resolve(f.out);

  const pkg = await resolveModel(f.model);
  if (!pkg.config) throw new UsageError(`--model: ${pkg.modelPath} is a bare .onnx file: whole-slide analysis needs a model package (config.json with patch_size_pixels and spacing_um_px; see models/tools/)`);
  const cfg = pkg.config;
  let classes: number[];
  if (f.class === undefined || f.class.trim().toLowerCase() === 'all') classes = cfg.class_names.map((_, i) => i);
  else {
    try {
      classes = [resolveClass(f.class, cfg.num_classes, cfg.class_names)];
    } catch (e) {
      throw new UsageError(`--class: ${(e as Error).message}`);
    }
  }
  // refuse to overwrite an earlier result unless asked (before any work)
  const names = [...heatmapFileNames({ classes, classNames: cfg.class_names }).values()].flatMap((b) => [`${b}.npy`, `${b}.json`]).concat('probabilities.npy', 'patches.csv');
  let existing: string[] = [];
  try {
    existing = (await readdir(outDir)).filter((n) => names.includes(n));
  } catch { /* a new folder */ }
  if (existing.length && !f.force) throw new UsageError(`${outDir} already holds ${existing.join(', ')} (an earlier analysis?): pass --force to replace them`);

  const slide = await openSlide(resolve(positionals[0]));
  const tty = process.stderr.isTTY === true;
  let job: AnalysisJob | null = null;
  let lastStage = '';
  let lastDraw = 0;
  const onSigint = () => {
    if (job) {
      io.err('\ncancelling: saving what is done…');
      job.cancel();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    const p = slide.properties;
    const mppText = mpp !== undefined ? `${mpp} µm/px (--mpp)` : p.mpp ? `${p.mpp.x.toPrecision(4)} µm/px (${p.mpp.source})` : 'µm/px unknown';
    io.out(`slide: ${basename(slide.path)} ${p.width}×${p.height} px, ${mppText}, ${p.levels.length} level${p.levels.length > 1 ? 's' : ''}`);
    io.out(`model: ${pkg.id}: ${cfg.num_classes} classes, ${cfg.patch_size_pixels} px patches at ${cfg.spacing_um_px} µm/px; ${classes.length === cfg.num_classes ? 'every class' : `class '${cfg.class_names[classes[0]]}'`}, ${method}${f.signed ? ' (signed)' : ''}`);
    const t0 = performance.now();
    const outcome = await analyzeSlide({
      slide, model: pkg, version: VERSION,
      settings: { classes, method, signed: !!f.signed, layer: f.layer, batch, overlap, mpp, region, minTissue, ep },
      cache: f['no-cache'] ? null : new ResultCache(f['cache-dir'] ? resolve(f['cache-dir']) : undefined),
      onJob: (j) => { job = j; },
      onProgress: (pr) => {
        if (pr.stage !== lastStage) {
          if (tty && lastStage === 'analysing') process.stderr.write('\n');
          lastStage = pr.stage;
          if (pr.stage === 'tissue') io.out('tissue: computing the tissue mask…');
          if (pr.stage === 'analysing') io.out(`analysing: ${pr.total} patches with tissue${pr.done ? ` (${pr.done} done in an earlier, interrupted run)` : ''}`);
        }
        if (pr.stage === 'analysing' && tty) {
          const now = performance.now();
          if (now - lastDraw > 150 || pr.done === pr.total) { lastDraw = now; process.stderr.write(`\r${progressLine(pr)}`); }
        }
      },
    });
    if (tty && lastStage === 'analysing') process.stderr.write('\n');
    const r = outcome.result;
    if (r && !r.complete) {
      io.err(`cancelled after ${r.patches.length} of ${r.tissuePatches} patches; ${outcome.key ? 'run the same command again to resume' : ''}`.trim());
      return 130;
    }
    if (outcome.source === 'cache') io.out(`cached: an identical analysis (slide and model content, settings) was found in the result cache`);
    else if (r) {
      for (const w of r.warnings) io.err(`warning: ${w}`);
      const rs = r.resolution;
      io.out(`layer: ${r.layer} (stride ${rs.stride}): cell ${rs.cell_size_um.map((v) => v.toPrecision(3)).join('×')} µm, smallest resolvable structure ${rs.smallest_resolvable_um.toPrecision(3)} µm; read from level ${rs.read_level} (downsample ${rs.read_downsample.toPrecision(4)})`);
      io.out(`done: ${r.patches.length} patches${outcome.resumed ? ` (${outcome.resumed} resumed)` : ''} of ${r.gridPatches} in the grid in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${r.timing.patchesPerSecond.toFixed(1)} patches/s on ${r.provider}${r.fallbackReason ? ` (fell back: ${r.fallbackReason})` : ''}`);
    }
    await mkdir(outDir, { recursive: true });
    for (const [name, bytes] of outcome.files) {
      const tmp = join(outDir, `.${name}.tmp-${process.pid}`);
      await writeFile(tmp, bytes);
      await rename(tmp, join(outDir, name));
    }
    const hm = JSON.parse(new TextDecoder().decode(outcome.files.get([...outcome.files.keys()].find((n) => n.endsWith('.json'))!)!)) as { shape: number[]; cell_size_um: number[] };
    io.out(`wrote ${outDir}: ${[...outcome.files.keys()].sort().join(', ')} (grid ${hm.shape.join('×')} cells of ${hm.cell_size_um.map((v) => v.toPrecision(3)).join('×')} µm)`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await slide.close();
  }
}

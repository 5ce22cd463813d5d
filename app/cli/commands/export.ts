/**
 * `glassbox export SLIDE [--annotations FILE.geojson] [crops] [--csv FILE] [--asap FILE] [heatmap images]`
 *
 * Takes annotated regions (QuPath GeoJSON, read by the annotations engine) elsewhere: image crops at a chosen
 * µm/px (with the heatmap overlay, the outline and a scale bar), a measurements CSV, ASAP XML; and the heatmap
 * itself as a float32 pyramidal TIFF (+ JSON sidecar) and a slide-aligned coloured RGBA pyramidal TIFF.
 * Everything is checked before anything is written; existing outputs are kept unless --force. Progress on stderr.
 */
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CliIO } from '../main.js';
import { parseArgs } from 'node:util';
import { UsageError } from './layers.js';
import { joinNegatives } from '../args.js';
import { openSlide } from '../../../main/engine/slide/index.js';
import type { Slide } from '../../../main/engine/slide/types.js';
import {
  fromGeoJSON, loadHeatmap, measurementsCsv, toAsapXml, atomicWriteFile, classesOf, csvRow,
  type Annotation, type HeatmapGrid, type Rgb,
} from '../../../main/engine/annotations/index.js';
import {
  renderCrop, planCrop, readSidecar, writeHeatmapFloatTiff, writeHeatmapRgbaTiff, sidecarPath, ExportError, type HeatmapPaint, type CropFormat,
} from '../../../main/engine/export/index.js';
import { COLORMAPS, overlayPaint, type ColormapName, type DisplayMode } from '../../../main/contract/colormap.js';
import { chooseScaleBar } from '../../../main/contract/scalebar.js';
import { VERSION } from '../version.js';

export const summary = 'annotated regions to crops (PNG/TIFF, heatmap overlay, scale bar), CSV, ASAP XML; the heatmap as float32 / RGBA pyramidal TIFF';

const USAGE = 'glassbox export SLIDE [--annotations FILE.geojson] [--crops DIR (--mpp R | --downsample D) [--format png|tiff] [--overlay DIR]] '
  + '[--csv FILE] [--asap FILE] [--heatmap DIR --heatmap-tiff OUT.tif] [--heatmap DIR --rgba OUT.tif] [--force]';

const HELP = `usage: ${USAGE}

  SLIDE                    the whole-slide image the annotations and the heatmap belong to
  --annotations FILE       QuPath GeoJSON (level-0 px), e.g. from the viewer's export; needed for crops, CSV, ASAP
  --only LIST              only these annotations: comma-separated ids, names or class names (default: all)

crops (one image per annotation: its bounding box)
  --crops DIR              write them into DIR (created if missing; its parent must exist), with DIR/crops.csv
  --mpp R                  output resolution in µm/px (e.g. 0.5, 2); or
  --downsample D           level-0 px per output px (slides without µm/px)
  --format png|tiff        default png; the resolution is written into the file (PNG pHYs, TIFF X/YResolution)
  --margin PX              context around each box, in output px (default 0)
  --overlay DIR            blend this heatmap (a 'glassbox analyze' output folder) over the crops
  --no-outline             do not draw the region's outline (class colour)
  --no-scale-bar           no burned-in scale bar (default: one, 1-2-5 length, µm/mm; level-0 px when µm/px is unknown)

tables
  --csv FILE               measurements (area, perimeter, centroid; with --overlay or --heatmap: map statistics)
  --asap FILE              ASAP XML annotations

heatmap images (DIR: what 'glassbox analyze' wrote)
  --heatmap DIR            the map to write (default: the --overlay map)
  --heatmap-tiff OUT.tif   float32 pyramidal TIFF of the RAW values (NaN = not analysed), one pixel per cell,
                           + OUT.json sidecar (geometry: origin, cell size in px and µm, stride, model, class, layer)
  --rgba OUT.tif           coloured RGBA pyramidal TIFF, slide-aligned: it covers the whole slide at a power-of-two
                           downsample (resolution tags set), transparent where there is no map; overlay by scaling
  --rgba-downsample D      that downsample (default: the largest power of two ≤ the cell size)

colours (overlay and --rgba; defaults as the viewer's)
  --class NAME             which map of a multi-class folder
  --colormap NAME          ${COLORMAPS.filter((c) => c !== 'diverging').join('|')} (default viridis; signed maps use diverging)
  --mode MODE              for|against|signed|probability (default for; signed for a signed map; probability: the
                           class's probability from probabilities.npy, range 0…1)
  --range HI               value at the top of the colormap (default: the map's display scale, 99th pct of |value|)
  --threshold T            hide values below T (default 5% of HI)
  --opacity A              0..1 (default 0.6)
  --no-smooth              blocky cells in crops (default: values interpolated between cell centres, as the viewer)

  --slide-mpp R            the slide's µm/px when its own is missing or wrong
  --force                  replace existing output files`;

const OPTIONS = {
  annotations: { type: 'string' }, only: { type: 'string' }, crops: { type: 'string' }, mpp: { type: 'string' },
  downsample: { type: 'string' }, format: { type: 'string' }, margin: { type: 'string' }, overlay: { type: 'string' },
  'no-outline': { type: 'boolean' }, 'no-scale-bar': { type: 'boolean' }, csv: { type: 'string' }, asap: { type: 'string' },
  heatmap: { type: 'string' }, 'heatmap-tiff': { type: 'string' }, rgba: { type: 'string' }, 'rgba-downsample': { type: 'string' },
  class: { type: 'string' }, colormap: { type: 'string' }, mode: { type: 'string' }, range: { type: 'string' },
  threshold: { type: 'string' }, opacity: { type: 'string' }, 'no-smooth': { type: 'boolean' }, 'slide-mpp': { type: 'string' },
  force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

const NUMERIC = new Set(['--mpp', '--downsample', '--margin', '--range', '--threshold', '--opacity', '--slide-mpp', '--rgba-downsample']);
const parse = (argv: string[]) => parseArgs({ args: joinNegatives(argv, NUMERIC), options: OPTIONS, strict: true, allowPositionals: true });
type Flags = ReturnType<typeof parse>['values'];

function num(flags: Flags, name: keyof Flags, ok: (n: number) => boolean, what: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} must be ${what} (got '${v}')`);
  return n;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

/** An output file's folder must exist; the file itself only with --force. */
async function checkOutFile(flag: string, p: string, force: boolean): Promise<string> {
  const abs = resolve(p);
  const dir = dirname(abs);
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new UsageError(`--${flag} ${p}: folder ${dir} does not exist`);
  if (!force && (await exists(abs))) throw new UsageError(`--${flag} ${p} already exists: pass --force to replace it`);
  return abs;
}

async function checkInDir(flag: string, p: string): Promise<string> {
  const abs = resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new UsageError(`--${flag} ${p}: no such folder`);
  if (!st.isDirectory()) throw new UsageError(`--${flag} ${p} is not a folder (expected what 'glassbox analyze' wrote)`);
  return abs;
}

/**
 * The viewer's paint (main/contract/colormap.ts overlayPaint) with the viewer's defaults: range 0…the map's display
 * scale (probabilities: 0…1), threshold 5% of the top, opacity 0.6, smoothing on. Mode 'probability' colours the
 * class's probability plane instead of the map (the returned grid).
 */
function paintFor(grid: HeatmapGrid, flags: Flags): { grid: HeatmapGrid; paint: HeatmapPaint; threshold: number; describe: string } {
  const signed = grid.meta?.signed === true;
  const mode = (flags.mode ?? (signed ? 'signed' : 'for')) as DisplayMode;
  if (!['for', 'against', 'signed', 'probability'].includes(mode)) throw new UsageError(`--mode must be for, against, signed or probability (got '${flags.mode}')`);
  const cm = (flags.colormap ?? 'viridis') as ColormapName;
  if (!COLORMAPS.includes(cm)) throw new UsageError(`--colormap must be one of ${COLORMAPS.join(', ')} (got '${flags.colormap}')`);
  let shown = grid;
  if (mode === 'probability') {
    const K = grid.classNames?.length ?? 0, k = grid.classNames?.indexOf(grid.className) ?? -1, n = grid.shape[0] * grid.shape[1];
    if (!grid.probabilities || k < 0 || grid.probabilities.length !== n * K) throw new UsageError(`--mode probability: ${grid.meta?.dir ?? 'the heatmap folder'} has no probabilities.npy for class '${grid.className}'`);
    const plane = new Float32Array(n);
    for (let i = 0; i < n; i++) plane[i] = grid.probabilities[i * K + k];
    shown = { ...grid, values: plane };
  }
  let hi = num(flags, 'range', (n) => n > 0, 'a positive number');
  if (hi === undefined && mode === 'probability') hi = 1;
  if (hi === undefined) {
    hi = grid.meta?.displayScale && grid.meta.displayScale > 0 ? grid.meta.displayScale : 0;
    if (!(hi > 0)) for (const v of grid.values) if (Number.isFinite(v)) hi = Math.max(hi, Math.abs(v));
    if (!(hi > 0)) hi = 1;
  }
  const threshold = num(flags, 'threshold', (n) => n >= 0, 'a number ≥ 0') ?? 0.05 * hi;
  const opacity = num(flags, 'opacity', (n) => n >= 0 && n <= 1, 'between 0 and 1') ?? 0.6;
  const paint = overlayPaint({ mode, colormap: cm, range: { lo: 0, hi, threshold }, opacity, smooth: !flags['no-smooth'] });
  return {
    grid: shown, paint, threshold,
    describe: `${mode === 'signed' ? 'diverging' : cm}, mode ${mode}, range 0…${hi.toPrecision(3)}, threshold ${threshold.toPrecision(3)}, opacity ${opacity}`,
  };
}

/** The map of DIR, refused when its sidecar says it was made on a slide of another size. */
async function loadHeatmapFor(slide: Slide, dir: string, className: string | undefined): Promise<HeatmapGrid> {
  const grid = await loadHeatmap(dir, className);
  const made = (await readSidecar(grid))?.slide as { width?: unknown; height?: unknown; path?: unknown } | undefined;
  const { width, height } = slide.properties;
  if (made && typeof made.width === 'number' && typeof made.height === 'number' && (made.width !== width || made.height !== height)) {
    throw new UsageError(`the heatmap in ${dir} was made on a ${made.width}×${made.height} px slide${typeof made.path === 'string' ? ` (${basename(made.path)})` : ''}, but ${basename(slide.path)} is ${width}×${height} px`);
  }
  return grid;
}

/** Annotations picked by --only (ids, names or class names). */
function select(list: Annotation[], only: string | undefined): Annotation[] {
  if (only === undefined) return list;
  const want = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = want.filter((w) => !list.some((a) => a.id === w || a.name === w || a.classification?.name === w));
  if (unknown.length) throw new UsageError(`--only: no annotation has the id, name or class ${unknown.map((u) => `'${u}'`).join(', ')}`);
  return list.filter((a) => want.some((w) => a.id === w || a.name === w || a.classification?.name === w));
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
const label = (a: Annotation, i: number) => `annotation ${i + 1}${a.name ? ` '${a.name}'` : ''}${a.classification ? ` (${a.classification.name})` : ''}`;
const fileStem = (a: Annotation, i: number, n: number) => {
  const part = (a.name || a.classification?.name || 'region').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'region';
  return `${String(i + 1).padStart(Math.max(3, String(n).length), '0')}_${part}_${a.id.slice(0, 8)}`;
};

function progress(io: CliIO, what: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = Math.floor((done / total) * 10) * 10;
    if (pct !== last && (pct % 50 === 0 || done === total)) { last = pct; io.err(`${what}: ${pct}% (${done}/${total} tiles)`); }
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let flags: Flags, positionals: string[];
  try {
    ({ values: flags, positionals } = parse(argv));
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')} (usage: ${USAGE})`);
  }
  if (flags.help) { io.out(HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one SLIDE, got ${positionals.length}: ${positionals.join(' ')}` : `SLIDE is required (usage: ${USAGE})`);
  const force = flags.force === true;

  // ---- check everything before writing anything
  const wantsAnnotations = flags.crops !== undefined || flags.csv !== undefined || flags.asap !== undefined;
  const wantsHeatmapFiles = flags['heatmap-tiff'] !== undefined || flags.rgba !== undefined;
  if (!wantsAnnotations && !wantsHeatmapFiles) throw new UsageError(`nothing to export: give --crops, --csv, --asap, --heatmap-tiff or --rgba (usage: ${USAGE})`);
  if (wantsAnnotations && !flags.annotations) throw new UsageError('--annotations FILE.geojson is required for --crops, --csv and --asap');
  if (flags.crops === undefined) for (const k of ['mpp', 'downsample', 'format', 'margin', 'overlay', 'no-outline', 'no-scale-bar', 'no-smooth'] as const) {
    if (flags[k] !== undefined && !(k === 'overlay' && flags.csv !== undefined)) throw new UsageError(`--${k} only applies to --crops`);
  }
  const mppOut = num(flags, 'mpp', (n) => n > 0 && n <= 1000, 'an output resolution in µm/px (0 < R ≤ 1000)');
  const ds = num(flags, 'downsample', (n) => n > 0 && n <= 100_000, 'a downsample > 0 (level-0 px per output px)');
  if (flags.crops !== undefined && (mppOut === undefined) === (ds === undefined)) throw new UsageError('--crops needs --mpp R (µm/px) or --downsample D (exactly one)');
  const format = (flags.format ?? 'png') as CropFormat;
  if (format !== 'png' && format !== 'tiff') throw new UsageError(`--format must be png or tiff (got '${flags.format}')`);
  const margin = num(flags, 'margin', (n) => Number.isInteger(n) && n >= 0 && n <= 10_000, 'an integer number of output px ≥ 0') ?? 0;
  const slideMpp = num(flags, 'slide-mpp', (n) => n > 0 && n < 100, 'a resolution in µm/px (0 < R < 100)');
  const rgbaDs = num(flags, 'rgba-downsample', (n) => n >= 1 && Number.isInteger(Math.log2(n)), 'a power of two ≥ 1');
  if (wantsHeatmapFiles && !flags.heatmap && !flags.overlay) throw new UsageError('--heatmap-tiff and --rgba need --heatmap DIR (what \'glassbox analyze\' wrote)');
  if (flags['rgba-downsample'] !== undefined && !flags.rgba) throw new UsageError('--rgba-downsample only applies to --rgba');
  const heatmapTiff = flags['heatmap-tiff'] ? await checkOutFile('heatmap-tiff', flags['heatmap-tiff'], force) : null;
  if (heatmapTiff && !force && (await exists(sidecarPath(heatmapTiff)))) throw new UsageError(`${sidecarPath(heatmapTiff)} (the --heatmap-tiff sidecar) already exists: pass --force to replace it`);
  const rgba = flags.rgba ? await checkOutFile('rgba', flags.rgba, force) : null;
  if (heatmapTiff && rgba && heatmapTiff === rgba) throw new UsageError('--heatmap-tiff and --rgba name the same file');
  const csv = flags.csv ? await checkOutFile('csv', flags.csv, force) : null;
  const asap = flags.asap ? await checkOutFile('asap', flags.asap, force) : null;
  let cropsDir: string | null = null;
  if (flags.crops !== undefined) {
    cropsDir = resolve(flags.crops);
    const st = await stat(cropsDir).catch(() => null);
    if (st && !st.isDirectory()) throw new UsageError(`--crops ${flags.crops} is a file, not a folder`);
    if (!st && !(await stat(dirname(cropsDir)).catch(() => null))?.isDirectory()) throw new UsageError(`--crops ${flags.crops}: folder ${dirname(cropsDir)} does not exist`);
  }
  const overlayDir = flags.overlay ? await checkInDir('overlay', flags.overlay) : null;
  const heatmapDir = flags.heatmap ? await checkInDir('heatmap', flags.heatmap) : overlayDir;

  let list: Annotation[] = [];
  if (wantsAnnotations) {
    const file = resolve(flags.annotations!);
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`--annotations ${flags.annotations}: ${e.code === 'ENOENT' ? 'file not found' : e.code === 'EISDIR' ? 'is a folder' : e.message}`);
    });
    const imported = fromGeoJSON(text, { file: basename(file) });
    for (const w of imported.warnings) io.err(`warning: ${w}`);
    list = select(imported.annotations, flags.only);
    if (list.length === 0) throw new UsageError(`--annotations ${flags.annotations} holds no annotations`);
  }

  const slide = await openSlide(resolve(positionals[0]), slideMpp ? { mppOverride: { x: slideMpp, y: slideMpp } } : {});
  // Ctrl-C: stop between tiles / crops; files already written stay, the one in progress is removed
  const ac = new AbortController();
  const signal = ac.signal;
  const onSigint = () => {
    if (signal.aborted) process.exit(130);
    io.err('cancelling: the files written so far are kept, the one in progress is removed');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const p = slide.properties;
    io.err(`slide: ${basename(slide.path)} ${p.width}×${p.height} px, ${p.mpp ? `${Number(p.mpp.x.toPrecision(4))} µm/px (${p.mpp.source})` : 'µm/px unknown'}${wantsAnnotations ? `; ${plural(list.length, 'annotation')}` : ''}`);
    // every crop is planned (inside the slide, sane resolution and size) before anything is written
    if (cropsDir) {
      if (mppOut !== undefined && !p.mpp) throw new UsageError('the slide\'s µm/px is unknown: use --downsample D instead of --mpp, or give --slide-mpp');
      list.forEach((a, i) => {
        try {
          planCrop(slide, a.geometry, { mpp: mppOut, downsample: ds, margin });
        } catch (e) {
          if (e instanceof ExportError && e.code === 'BAD_INPUT' && i === 0) throw e; // the resolution itself
          throw new Error(`${label(a, i)}${e instanceof ExportError && e.code === 'OUT_OF_SLIDE' ? ' lies outside the slide:' : ':'} ${(e as Error).message.replace(/^the region /, '').replace(/ lies outside the slide \(/, ' vs the slide (')}${e instanceof ExportError && e.code === 'OUT_OF_SLIDE' ? ' (is it from another slide?)' : ''}`);
        }
      });
    }
    const grid = heatmapDir ? await loadHeatmapFor(slide, heatmapDir, flags.class) : null;
    const overlayGrid = overlayDir ? (overlayDir === heatmapDir ? grid : await loadHeatmapFor(slide, overlayDir, flags.class)) : null;
    if (cropsDir) await writeCrops(slide, list, cropsDir, { mppOut, ds, format, margin, overlayGrid, flags, force, signal }, io);
    if (csv) {
      const g = overlayGrid ?? grid;
      await atomicWriteFile(csv, measurementsCsv(list, { mpp: p.mpp ? { x: p.mpp.x, y: p.mpp.y } : null, ...(g ? { grid: g, threshold: flags.mode === 'probability' ? undefined : paintFor(g, flags).threshold } : {}) }));
      io.err(`wrote ${csv} (${plural(list.length, 'row')}${g ? `, map statistics of ${g.className}` : ''}${p.mpp ? '' : '; µm/px unknown: areas in px²'})`);
    }
    if (asap) {
      await atomicWriteFile(asap, toAsapXml(list, classesOf(list)));
      io.err(`wrote ${asap} (ASAP XML, ${plural(list.length, 'annotation')})`);
    }
    if (heatmapTiff && grid) {
      const r = await writeHeatmapFloatTiff(grid, heatmapTiff, { software: `glassbox ${VERSION}`, onProgress: progress(io, 'heatmap TIFF'), signal });
      io.err(`wrote ${heatmapTiff}: float32 ${grid.shape[1]}×${grid.shape[0]} cells, ${plural(r.levels.length, 'level')}, ${(r.bytes / 1024).toFixed(0)} KiB; sidecar ${r.sidecar}`);
    }
    if (rgba && grid) {
      const { grid: shown, paint, describe } = paintFor(grid, flags);
      const r = await writeHeatmapRgbaTiff(shown, rgba, paint, { width: p.width, height: p.height, mpp: p.mpp }, {
        downsample: rgbaDs, software: `glassbox ${VERSION}`, onProgress: progress(io, 'RGBA TIFF'), signal,
        description: `glassbox heatmap overlay of ${grid.className} (${describe}); covers the whole slide at downsample ${rgbaDs ?? 'auto'} from level-0 (0, 0)`,
      });
      io.err(`wrote ${rgba}: ${r.width}×${r.height} px RGBA (the slide at downsample ${r.downsample}${r.mpp ? `, ${Number(r.mpp[0].toPrecision(4))} µm/px` : ''}), ${plural(r.levels, 'level')}; ${describe}`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await slide.close();
  }
}

interface CropJob {
  mppOut?: number;
  ds?: number;
  format: CropFormat;
  margin: number;
  overlayGrid: HeatmapGrid | null;
  flags: Flags;
  force: boolean;
  signal: AbortSignal;
}

async function writeCrops(slide: Slide, list: Annotation[], dir: string, job: CropJob, io: CliIO): Promise<void> {
  const ext = job.format === 'png' ? 'png' : 'tif';
  const names = list.map((a, i) => join(dir, `${fileStem(a, i, list.length)}.${ext}`));
  const index = join(dir, 'crops.csv');
  if (!job.force) {
    const taken = [];
    for (const n of [...names, index]) if (await exists(n)) taken.push(basename(n));
    if (taken.length) throw new UsageError(`--crops ${dir} already holds ${taken.slice(0, 3).join(', ')}${taken.length > 3 ? ` and ${taken.length - 3} more` : ''}: pass --force to replace them`);
  }
  await mkdir(dir, { recursive: false }).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
  const painted = job.overlayGrid ? paintFor(job.overlayGrid, job.flags) : null;
  const overlay = painted ? { grid: painted.grid, paint: painted.paint } : null;
  if (painted) io.err(`overlay: ${painted.grid.className} (${painted.describe})`);
  if (!slide.properties.mpp && !job.flags['no-scale-bar']) io.err('note: the slide\'s µm/px is unknown: scale bars are in level-0 px');
  const rows = [csvRow(['file', 'id', 'name', 'class', 'x', 'y', 'width_px0', 'height_px0', 'um_per_px', 'downsample', 'width', 'height', 'scale_bar', 'clipped'])];
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    const color: Rgb = a.classification?.color ?? a.color ?? [255, 200, 0];
    const r = await renderCrop(slide, a.geometry, {
      mpp: job.mppOut, downsample: job.ds, format: job.format, margin: job.margin, overlay,
      outline: job.flags['no-outline'] ? null : { color }, scaleBar: job.flags['no-scale-bar'] ? null : chooseScaleBar, signal: job.signal,
    }).catch((e: unknown) => { throw new Error(`${label(a, i)}: ${(e as Error).message}`); });
    await atomicWriteFile(names[i], r.bytes);
    const res = r.mpp ? `${Number(r.mpp.toPrecision(4))} µm/px` : `downsample ${Number(r.downsample.toPrecision(4))}`;
    io.err(`crop ${i + 1}/${list.length} ${label(a, i)} → ${basename(names[i])} (${r.width}×${r.height} px at ${res}${r.clipped ? ', cut to the slide' : ''}${r.scaleBar ? `, bar ${r.scaleBar.label}` : ''})`);
    rows.push(csvRow([basename(names[i]), a.id, a.name, a.classification?.name, r.region.x, r.region.y, r.region.w, r.region.h, r.mpp, r.downsample, r.width, r.height, r.scaleBar?.label, r.clipped]));
  }
  await atomicWriteFile(index, rows.join('\n') + '\n');
  io.err(`wrote ${plural(list.length, 'crop')} and crops.csv to ${dir}`);
}

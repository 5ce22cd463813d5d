/**
 * Writes a synthetic pyramidal JPEG TIFF (test/fixtures/synthetic-slide.ts) for tests and benchmarks.
 *
 *   node --import tsx scripts/make-synthetic-slide.ts OUT.tif --width W --height H --mpp M
 *        [--tile 256] [--quality 90] [--levels 1,4,16] [--format generic|aperio] [--seed N]
 *        [--background R,G,B] [--bigtiff|--no-bigtiff] [--share-tiles]
 *        [--regions JSON | --regions @file.json | --preset he-demo|probe]
 *
 * --regions: a JSON array of { x, y, w, h, shape: 'rect'|'ellipse', fill: [r,g,b]|'he-cellular'|'he-stroma' }
 * in level-0 pixels. --preset scales a built-in set to the slide (default: he-demo). Prints what it wrote.
 */
import { readFileSync } from 'node:fs';
import { PRESETS, presetRegions, writeSyntheticSlide, type PresetName, type Rgb, type SyntheticRegion, type SyntheticSpec } from '../test/fixtures/synthetic-slide.js';

const USAGE = `usage: node --import tsx scripts/make-synthetic-slide.ts OUT.tif --width W --height H --mpp M
  [--tile 256] [--quality 90] [--levels 1,4,16,...] [--format generic|aperio] [--seed N]
  [--background R,G,B] [--bigtiff | --no-bigtiff] [--share-tiles]
  [--regions JSON | --regions @file.json | --preset ${PRESETS.join('|')}]`;

function fail(msg: string): never {
  console.error(`make-synthetic-slide: ${msg}\n${USAGE}`);
  process.exit(2);
}

function parse(argv: string[]): { out: string; spec: SyntheticSpec; preset: string | null } {
  let out: string | null = null;
  const opt = new Map<string, string>();
  const flags = new Set<string>();
  const valued = new Set(['--width', '--height', '--mpp', '--tile', '--quality', '--levels', '--format', '--seed', '--background', '--regions', '--preset']);
  const bare = new Set(['--bigtiff', '--no-bigtiff', '--share-tiles', '--help', '-h']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (valued.has(a)) {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      opt.set(a, argv[++i]);
    } else if (bare.has(a)) flags.add(a);
    else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else if (out === null) out = a;
    else fail(`unexpected argument ${a}`);
  }
  if (flags.has('--help') || flags.has('-h')) { console.log(USAGE); process.exit(0); }
  if (!out) fail('missing OUT path');
  const int = (k: string, def?: number): number => {
    const v = opt.get(k);
    if (v === undefined) { if (def === undefined) fail(`missing ${k}`); return def; }
    const n = Number(v);
    if (!Number.isInteger(n)) fail(`${k} must be an integer, got '${v}'`);
    return n;
  };
  const width = int('--width'), height = int('--height');
  const mppText = opt.get('--mpp') ?? fail('missing --mpp');
  const mpp = Number(mppText);
  if (!(mpp > 0)) fail(`--mpp must be a positive number, got '${mppText}'`);
  let regions: SyntheticRegion[];
  let preset: string | null = null;
  if (opt.has('--regions') && opt.has('--preset')) fail('give --regions or --preset, not both');
  if (opt.has('--regions')) {
    const v = opt.get('--regions')!;
    try {
      regions = JSON.parse(v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v);
    } catch (e) { fail(`--regions: ${(e as Error).message}`); }
    if (!Array.isArray(regions)) fail('--regions must be a JSON array');
  } else {
    preset = opt.get('--preset') ?? 'he-demo';
    if (!(PRESETS as readonly string[]).includes(preset)) fail(`unknown preset '${preset}' (known: ${PRESETS.join(', ')})`);
    regions = presetRegions(preset as PresetName, width, height);
  }
  const format = opt.get('--format') ?? 'generic';
  if (format !== 'generic' && format !== 'aperio') fail(`--format must be generic or aperio, got '${format}'`);
  const spec: SyntheticSpec = { width, height, mpp, regions, format, tileSize: int('--tile', 256), quality: int('--quality', 90), seed: int('--seed', 1) };
  if (opt.has('--levels')) spec.levels = opt.get('--levels')!.split(',').map(Number);
  if (opt.has('--background')) spec.background = opt.get('--background')!.split(',').map(Number) as Rgb;
  if (flags.has('--bigtiff')) spec.bigTiff = true;
  if (flags.has('--no-bigtiff')) spec.bigTiff = false;
  if (flags.has('--share-tiles')) spec.shareIdenticalTiles = true;
  return { out, spec, preset };
}

const { out, spec, preset } = parse(process.argv.slice(2));
try {
  const info = await writeSyntheticSlide(out, spec);
  const mib = (info.bytes / 2 ** 20).toFixed(1);
  console.log(`wrote ${info.path}: ${info.width}×${info.height} px, ${info.mpp} µm/px, ${info.format}${info.bigTiff ? ' BigTIFF' : ' TIFF'}, ` +
    `JPEG q${info.quality} ${info.tileSize}×${info.tileSize} tiles, ${mib} MiB`);
  console.log(`levels: ${info.levels.map((l) => `${l.width}×${l.height} (/${l.downsample})`).join(', ')}${info.thumbnail ? `; thumbnail ${info.thumbnail.width}×${info.thumbnail.height}` : ''}`);
  console.log(`regions: ${spec.regions.length}${preset ? ` (preset ${preset})` : ''}: ${spec.regions.map((r) => `${r.shape} ${r.x},${r.y} ${r.w}×${r.h} ${Array.isArray(r.fill) ? `rgb(${r.fill.join(',')})` : r.fill}`).join('; ')}`);
  console.log(`tiles: ${info.tiles} written, ${info.tilesEncoded} encoded; ${info.seconds.toFixed(1)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} catch (e) {
  console.error(`make-synthetic-slide: ${(e as Error).message}`);
  process.exit(1);
}

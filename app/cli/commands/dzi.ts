/** glassbox dzi SLIDE OUTDIR [--tile-size N] [--overlap N] [--quality Q] [--name NAME] [--force] */
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename, resolve } from 'node:path';
import type { CliIO } from '../main.js';
import { DzSaveExistsError, MAX_DZSAVE_TILE_SIZE } from '../../../main/engine/tiles/dzsave.js';
import { withSlide } from '../slides.js';
import { helpRequested, joinNegatives } from '../args.js';

export const summary = 'export a complete Deep Zoom pyramid (OUTDIR/<name>.dzi + <name>_files/), like vips dzsave';

const USAGE = 'usage: glassbox dzi SLIDE OUTDIR [--tile-size N] [--overlap N] [--quality Q] [--name NAME] [--force] [--quiet]';
const HELP = `${USAGE}
  writes OUTDIR/NAME.dzi and OUTDIR/NAME_files/<level>/<col>_<row>.jpeg (OUTDIR is created if missing)
  --tile-size N: Deep Zoom tile side, 1..${MAX_DZSAVE_TILE_SIZE} (default 254); --overlap N: pixels shared with each neighbour (default 1)
  --quality Q: JPEG quality 1..100 (default 85); --name NAME: default the slide's file name without extension
  --force: replace an earlier export's NAME.dzi and NAME_files/ (only those); --quiet: no progress on stderr`;

const NUMERIC = new Set(['--tile-size', '--overlap', '--quality']);


function int(name: string, v: string, min: number, max: number): number {
  const what = min === 1 ? 'a positive integer' : `an integer in ${min}..${max}`;
  if (!/^\d+$/.test(v.trim())) throw new Error(`--${name} must be ${what} (got '${v}')`);
  const n = Number(v);
  if (n < min || n > max) throw new Error(`--${name} must be ${what}${min === 1 ? ` ≤ ${max}` : ''} (got ${n})`);
  return n;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (helpRequested(argv)) {
    io.out(HELP);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegatives(argv, NUMERIC),
      allowPositionals: true,
      options: {
        'tile-size': { type: 'string', default: '254' },
        overlap: { type: 'string', default: '1' },
        quality: { type: 'string', default: '85' },
        name: { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false },
        force: { type: 'boolean', short: 'f', default: false },
      },
    });
  } catch (e) {
    throw new Error(`${(e as Error).message} (${USAGE})`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 2) throw new Error(`expected SLIDE and OUTDIR (${USAGE})`);
  const tileSize = int('tile-size', values['tile-size'], 1, MAX_DZSAVE_TILE_SIZE);
  const overlap = int('overlap', values.overlap, 0, tileSize - 1);
  const quality = int('quality', values.quality, 1, 100);
  const slidePath = resolve(positionals[0]);
  const outDir = resolve(positionals[1]);
  const name = values.name ?? basename(slidePath).replace(/(\.ome)?\.[^.]+$/i, '');
  if (!/^[^/\\\0]+$/.test(name) || name === '.' || name === '..') throw new Error(`bad --name '${name}'`);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`OUTDIR '${positionals[1]}' is a file, not a folder`);
  const t0 = performance.now();
  let last = 0;
  const tty = process.stderr.isTTY;
  try {
    const res = await withSlide(slidePath, ({ service, id }) => service.exportDeepZoom(id, outDir, name, {
      tileSize,
      overlap,
      quality,
      existing: values.force ? 'replace' : 'error',
      onProgress: values.quiet
        ? undefined
        : (done, total) => {
            const now = performance.now();
            if (done !== total && now - last < (tty ? 200 : 2000)) return;
            last = now;
            const line = `dzi: ${done}/${total} tiles (${Math.floor((100 * done) / total)}%)`;
            if (tty) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
            else process.stderr.write(line + '\n');
          },
    }));
    const s = ((performance.now() - t0) / 1000).toFixed(2);
    io.out(`wrote ${res.tiles} tiles in ${res.levels} levels to ${res.dziPath} (${s} s)`);
    return 0;
  } catch (e) {
    if (e instanceof DzSaveExistsError) throw new Error(`${e.paths.join(' and ')} already exist${e.paths.length === 1 ? 's' : ''} (an earlier export?): pass --force to replace ${e.paths.length === 1 ? 'it' : 'them'} (only those; nothing else in ${outDir} is touched)`);
    throw e;
  }
}

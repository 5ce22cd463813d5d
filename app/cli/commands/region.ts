/** glassbox region SLIDE --x X --y Y --w W --h H [--level L] --out FILE.png (OpenSlide read_region convention) */
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO } from '../main.js';
import { withSlide } from '../slides.js';
import { checkOutDir, helpRequested, joinNegatives } from '../args.js';

export const summary = 'write a region as PNG: --x --y (level-0 px) --w --h (px at --level, default 0) --out FILE.png';

const NUMERIC = new Set(['--x', '--y', '--w', '--h', '--level']);

const USAGE = 'usage: glassbox region SLIDE --x X --y Y --w W --h H [--level L] --out FILE.png';
const HELP = `${USAGE}
  the OpenSlide read_region convention: --x, --y are the top-left corner in level-0 pixels (may be negative:
  pixels outside the slide are white); --w, --h the size in pixels of --level (default 0, the full resolution)
  at most 16384 px per side and 64 Mpx; written as 8-bit RGB PNG`;

function int(name: string, v: string | undefined, min: number): number {
  if (v === undefined) throw new Error(`missing --${name} (${USAGE})`);
  if (!/^-?\d+$/.test(v.trim())) throw new Error(`--${name} must be an integer (got '${v}')`);
  const n = Number(v);
  if (n < min || !Number.isSafeInteger(n)) throw new Error(`--${name} must be ${min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`} (got ${v})`);
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
      options: { x: { type: 'string' }, y: { type: 'string' }, w: { type: 'string' }, h: { type: 'string' }, level: { type: 'string', default: '0' }, out: { type: 'string', short: 'o' } },
    });
  } catch (e) {
    throw new Error(`${(e as Error).message} (${USAGE})`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new Error(`expected exactly one SLIDE path (${USAGE})`);
  const x = int('x', values.x, -(2 ** 31));
  const y = int('y', values.y, -(2 ** 31));
  const w = int('w', values.w, 1);
  const h = int('h', values.h, 1);
  const level = int('level', values.level, 0);
  if (!values.out) throw new Error(`missing --out FILE.png (${USAGE})`);
  if (!/\.png$/i.test(values.out)) throw new Error(`--out must end in .png (got '${values.out}')`);
  checkOutDir('--out', values.out);
  const out = resolve(values.out);
  return withSlide(positionals[0], async ({ service, id }) => {
    const png = await service.regionPng(id, { x, y, w, h, level });
    await writeFile(out, png);
    io.out(`wrote ${w}×${h} px of level ${level} at (${x}, ${y}) to ${out}`);
    return 0;
  });
}

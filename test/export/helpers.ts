/** Shared pieces of the export tests: hand-made heatmap grids, the viewer's paint, the python reference readers. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { overlayPaint, type ColormapName, type DisplayMode } from '../../main/contract/colormap.js';
import type { HeatmapGrid } from '../../main/engine/annotations/types.js';
import type { HeatmapPaint } from '../../main/engine/export/index.js';
import { PYTHON, REPO_ROOT } from '../helpers/paths.js';

const SCRIPT = join(REPO_ROOT, 'test', 'export', 'tiff_ref.py');

/** A grid whose value at (row, col) is f(row, col) (NaN allowed). */
export function makeGrid(rows: number, cols: number, origin: [number, number], cellSize: [number, number], f: (r: number, c: number) => number, mpp = 0.5): HeatmapGrid {
  const values = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = f(r, c);
  return { origin, cellSize, shape: [rows, cols], values, file: 'heatmap.npy', className: 'tumor', mpp: { x: mpp, y: mpp } };
}

/** The viewer's paint for a range (mode 'for' unless given). */
export function viewerPaint(hi: number, threshold: number, opts: { colormap?: ColormapName; mode?: DisplayMode; opacity?: number; smooth?: boolean } = {}): HeatmapPaint {
  return overlayPaint({ mode: opts.mode ?? 'for', colormap: opts.colormap ?? 'viridis', range: { lo: 0, hi, threshold }, opacity: opts.opacity ?? 0.6, smooth: opts.smooth ?? false });
}

let pyOk: string | false | undefined;
/** false when the python reference readers work here, else a skip message. */
export function skipNoPython(): string | false {
  if (pyOk !== undefined) return pyOk;
  if (!existsSync(PYTHON)) return (pyOk = `${PYTHON} not found: PIL/OpenSlide cross-checks skipped`);
  const r = spawnSync(PYTHON, [SCRIPT, 'check'], { encoding: 'utf8', timeout: 30_000 });
  return (pyOk = r.status === 0 ? false : `PIL/numpy/openslide not importable by ${PYTHON}: cross-checks skipped (${(r.stderr || '').trim().split('\n').pop()})`);
}

export function pyRef<T>(...args: string[]): T {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`tiff_ref.py ${args[0]} failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

export function hasVips(): boolean {
  return !spawnSync('vips', ['--version'], { encoding: 'utf8' }).error;
}

/** `vips` CLI output, or null when vips is not installed. */
export function vips(args: string[]): string | null {
  const r = spawnSync('vips', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`vips ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export function vipsheader(path: string): Record<string, string> | null {
  const r = spawnSync('vipsheader', ['-a', path], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) return null;
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^([\w-]+): (.*)$/);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Bitwise equality of float32 arrays, NaN equal to NaN; returns the first mismatch index or −1. */
export function firstFloatMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

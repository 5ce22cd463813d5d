/**
 * Test helper: OpenSlide reference regions through /usr/bin/python3 + openslide-python
 * (test/slides/openslide_ref.py), cached as raw RGB under CACHE_DIR/openslide-ref, plus pixel statistics.
 * Not a test file itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CACHE_DIR, PYTHON, REPO_ROOT } from '../helpers/paths.js';

const SCRIPT = join(REPO_ROOT, 'test', 'slides', 'openslide_ref.py');
const REF_DIR = join(CACHE_DIR, 'openslide-ref');

export interface RegionCase {
  slide: string;
  /** level-0 coordinates, as OpenSlide read_region */
  x: number;
  y: number;
  level: number;
  w: number;
  h: number;
}

let availability: string | false | undefined;
/** false when OpenSlide reference pixels can be made here, else a skip message. */
export function skipNoOpenSlide(): string | false {
  if (availability !== undefined) return availability;
  if (!existsSync(PYTHON)) return (availability = `${PYTHON} not found: OpenSlide cross-check skipped`);
  const r = spawnSync(PYTHON, [SCRIPT, 'check'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) {
    return (availability = `openslide-python not usable with ${PYTHON} (${(r.stdout || r.stderr || String(r.error)).trim()}): OpenSlide cross-check skipped`);
  }
  return (availability = false);
}

/** OpenSlide's level dimensions/downsamples for a slide, or null if OpenSlide cannot open it. */
export function openslideInfo(slide: string): { levels: Array<[number, number]>; downsamples: number[] } | null {
  const r = spawnSync(PYTHON, [SCRIPT, 'info', slide], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 3) return null;
  if (r.status !== 0) throw new Error(`openslide_ref.py info ${slide} failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

function cachePath(c: RegionCase): string {
  const st = statSync(c.slide);
  const key = createHash('sha1').update(JSON.stringify([c.slide, st.size, Math.round(st.mtimeMs), c.x, c.y, c.level, c.w, c.h])).digest('hex').slice(0, 12);
  const name = basename(c.slide).replace(/[^A-Za-z0-9._-]/g, '_');
  return join(REF_DIR, `${name}__L${c.level}_${c.x}_${c.y}_${c.w}x${c.h}_${key}.rgb`);
}

/**
 * Raw RGB (w*h*3) from OpenSlide for each case, composited on white. Missing references are generated
 * in one python run and cached; cached ones are reused (the key includes the slide's size and mtime).
 */
export function openslideRegions(cases: RegionCase[]): Uint8Array[] {
  mkdirSync(REF_DIR, { recursive: true });
  const paths = cases.map(cachePath);
  const missing = cases.map((c, i) => ({ ...c, out: paths[i] })).filter((c) => !existsSync(c.out));
  if (missing.length > 0) {
    const list = join(REF_DIR, `cases-${process.pid}-${Date.now()}.json`);
    writeFileSync(list, JSON.stringify(missing));
    const r = spawnSync(PYTHON, [SCRIPT, 'regions', list], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`openslide_ref.py regions failed (exit ${r.status}): ${r.stdout}${r.stderr}`);
  }
  return paths.map((p, i) => {
    const buf = new Uint8Array(readFileSync(p));
    const c = cases[i];
    if (buf.length !== c.w * c.h * 3) throw new Error(`reference ${p} has ${buf.length} bytes, expected ${c.w * c.h * 3}`);
    return buf;
  });
}

/** Mean |a-b| per channel (in 0..255 units) over a w×h interleaved RGB image pair. */
export function meanAbsDiffRgb(a: Uint8Array, b: Uint8Array, w: number, h: number): [number, number, number] {
  if (a.length < w * h * 3 || b.length < w * h * 3) throw new Error(`image too short: ${a.length}/${b.length} bytes for ${w}×${h}×3`);
  const s = [0, 0, 0];
  for (let i = 0, n = w * h * 3; i < n; i += 3) {
    s[0] += Math.abs(a[i] - b[i]);
    s[1] += Math.abs(a[i + 1] - b[i + 1]);
    s[2] += Math.abs(a[i + 2] - b[i + 2]);
  }
  const n = w * h;
  return [s[0] / n, s[1] / n, s[2] / n];
}

/** Crop an interleaved image (stride srcW, `channels` per pixel) to the top-left w×h as RGB. */
export function cropRgb(src: Uint8Array, srcW: number, channels: number, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const si = ((y + r) * srcW + (x + c)) * channels, di = (r * w + c) * 3;
      out[di] = src[si];
      out[di + 1] = src[si + 1];
      out[di + 2] = src[si + 2];
    }
  }
  return out;
}

export const fmtMad = (m: number[]) => m.map((v) => v.toFixed(3)).join('/');

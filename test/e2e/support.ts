/** e2e helpers: renderer build freshness, pixel statistics of screenshots, generated fixtures. */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CACHE_DIR, REPO_ROOT } from '../helpers/paths.js';

export const CHROMIUM = process.env.GLASSBOX_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const RENDERER_SRC = join(REPO_ROOT, 'renderer');
export const RENDERER_DIST = join(REPO_ROOT, 'dist', 'renderer');

function newestMtime(dir: string): number {
  let t = 0;
  for (const n of readdirSync(dir)) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

function rendererFresh(): boolean {
  const index = join(RENDERER_DIST, 'index.html');
  const src = Math.max(newestMtime(RENDERER_SRC), newestMtime(join(REPO_ROOT, 'main', 'contract')));
  return existsSync(index) && statSync(index).mtimeMs >= src;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * vite build when dist/renderer is missing or older than renderer/ (or the contract it imports).
 * A lock file keeps test files that run in parallel from building (and emptying) it at the same time.
 */
export function ensureRendererBuilt(): 'fresh' | 'built' {
  if (rendererFresh()) return 'fresh';
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  const lock = join(REPO_ROOT, 'dist', '.renderer-build.lock');
  const t0 = Date.now();
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) unlinkSync(lock); // stale lock
      } catch {
        /* gone already */
      }
      if (Date.now() - t0 > 180_000) throw new Error(`renderer build lock ${lock} held for over 3 minutes`);
      sleep(200);
    }
  }
  try {
    if (rendererFresh()) return 'fresh';
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    return 'built';
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      /* ignore */
    }
  }
}

export interface PixelStats {
  width: number;
  height: number;
  /** mean over channels of the per-channel standard deviation (0–255) */
  stdev: number;
  /** fraction of pixels that are neither near-white nor near-black nor the viewer background */
  contentFraction: number;
}

const BG = [0x15, 0x17, 0x1b];

export async function pixelStats(png: Buffer): Promise<PixelStats> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  let content = 0;
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const r = data[i * 3], g = data[i * 3 + 1], b = data[i * 3 + 2];
    sum[0] += r; sum[1] += g; sum[2] += b;
    sq[0] += r * r; sq[1] += g * g; sq[2] += b * b;
    const white = r > 235 && g > 235 && b > 235;
    const black = r < 20 && g < 20 && b < 20;
    const bg = Math.abs(r - BG[0]) < 8 && Math.abs(g - BG[1]) < 8 && Math.abs(b - BG[2]) < 8;
    if (!white && !black && !bg) content++;
  }
  const sd = [0, 1, 2].map((c) => Math.sqrt(Math.max(0, sq[c] / n - (sum[c] / n) ** 2)));
  return { width: info.width, height: info.height, stdev: (sd[0] + sd[1] + sd[2]) / 3, contentFraction: content / n };
}

/** A 3-level JPEG pyramidal TIFF (sharp/libvips) with a known resolution (0.5 µm/px), cached. */
export async function pyramidalTiffFixture(): Promise<string> {
  const dir = join(CACHE_DIR, 'e2e');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'pyramid-3000x2000-0.5um.tif');
  if (existsSync(out)) return out;
  const w = 3000, h = 2000;
  // smooth colour blobs over noise: structure that survives JPEG and is visible at every level
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#f4eef2"/>` +
    Array.from({ length: 60 }, (_, i) => `<circle cx="${(i * 977) % w}" cy="${(i * 613) % h}" r="${60 + ((i * 37) % 140)}" fill="hsl(${(i * 47) % 360},55%,55%)" fill-opacity="0.8"/>`).join('') +
    '</svg>';
  await sharp(Buffer.from(svg))
    .tiff({ tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: 'jpeg', quality: 85, xres: 2000, yres: 2000, resolutionUnit: 'cm' })
    .toFile(out);
  return out;
}

export function writeGarbageSlide(dir: string): string {
  const p = join(dir, 'garbage.svs');
  const junk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
  writeFileSync(p, junk);
  return p;
}

/**
 * Generated pyramidal JPEG TIFF (vips tiffsave --pyramid) for contract / CLI tests, cached under CACHE_DIR.
 * 1500×1100 synthetic pattern, 256×256 JPEG tiles, levels 1500, 750, 375, …; resolution 2000 px/mm (0.5 µm/px).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CACHE_DIR } from '../helpers/paths.js';
import { pattern } from '../tiles/fake-slide.js';

export const FIXTURE = { width: 1500, height: 1100, tile: 256, mpp: 0.5 };

export async function pyramidTiff(): Promise<string> {
  const dir = join(CACHE_DIR, 'fixtures');
  const out = join(dir, `pyramid-${FIXTURE.width}x${FIXTURE.height}-t${FIXTURE.tile}-q90.tif`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const png = join(dir, `src-${tag}.png`);
  const tmp = join(dir, `tmp-${tag}.tif`);
  const img = pattern(FIXTURE.width, FIXTURE.height);
  await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(png);
  try {
    execFileSync('vips', [
      'tiffsave', png, tmp, '--tile', '--tile-width', String(FIXTURE.tile), '--tile-height', String(FIXTURE.tile),
      '--pyramid', '--compression', 'jpeg', '--Q', '90', '--xres', String(1000 / FIXTURE.mpp), '--yres', String(1000 / FIXTURE.mpp),
    ], { stdio: 'pipe' });
    renameSync(tmp, out); // atomic: parallel test files never see a half-written fixture
  } finally {
    rmSync(png, { force: true });
    rmSync(tmp, { force: true });
  }
  return out;
}

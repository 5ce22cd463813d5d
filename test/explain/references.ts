/**
 * The PyTorch references of the explanations tests (test/explain/py/make_reference.py): generated once per script
 * version (and per availability of the shared H&E patches, which the calibrated 224-px families need) into
 * CACHE_DIR/conformance-<hash>, shared by conformance.test.ts and layers.test.ts. Whichever test file asks first
 * generates them; a concurrent asker waits on a lock directory instead of generating a second copy.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, HAVE_SHARED_PATCHES, PYTHON, REPO_ROOT, SHARED_PATCHES } from '../helpers/paths.js';

export const SCRIPT = join(REPO_ROOT, 'test', 'explain', 'py', 'make_reference.py');
const HASH = createHash('sha256').update(readFileSync(SCRIPT)).update(HAVE_SHARED_PATCHES ? 'patches' : 'no-patches').digest('hex').slice(0, 12);
/** the references' directory (exists once ensureReferences() returned false) */
export const REF_DIR = join(CACHE_DIR, `conformance-${HASH}`);
/** whether the calibrated 224-px families (real H&E crops) are part of the references */
export const HAVE_CALIBRATED = HAVE_SHARED_PATCHES;

export interface LayerInfo { module: string; tensor: string; dims: number[]; stride: number }
export interface ModelInfo {
  name: string; note: string; opset: number; input_size: number; batch: number; num_classes: number;
  ops: string[]; layers: LayerInfo[]; seeds: string[];
  term_scale: Record<string, number>;
  /** PyTorch float32's own errors (max abs, relative RMS): plain draws (torch32_*), dithered draws (dither_*) */
  torch32_error: Record<string, number>; torch32_rms: Record<string, number>;
  dither_error: Record<string, number>; dither_rms: Record<string, number>;
}
export interface Manifest { torch: string; models: ModelInfo[] }

const LOCK = `${REF_DIR}.lock`;
const WAIT_MS = 30 * 60_000;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** take the generation lock; false when another live process holds it */
function tryLock(): boolean {
  mkdirSync(CACHE_DIR, { recursive: true });
  try {
    mkdirSync(LOCK);
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch {
    let pid = NaN;
    try { pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8')); } catch { /* being written */ }
    if (Number.isFinite(pid) && !alive(pid)) { rmSync(LOCK, { recursive: true, force: true }); return tryLock(); }
    return false;
  }
}

/**
 * Make sure the references exist: false when they do (REF_DIR/manifest.json), else the reason they cannot be made
 * (a skip reason for node:test). A failing generation throws.
 */
export function ensureReferences(): string | false {
  if (existsSync(join(REF_DIR, 'manifest.json'))) return false;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx, PIL'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return `PyTorch reference generation needs ${PYTHON} with torch, torchvision, onnx and PIL (${(probe.stderr?.trim() || probe.error?.message || `exit ${probe.status}`).split('\n').pop()}): skipped`;
  }
  const t0 = Date.now();
  while (!tryLock()) {
    if (existsSync(join(REF_DIR, 'manifest.json'))) return false;
    if (Date.now() - t0 > WAIT_MS) throw new Error(`waited ${WAIT_MS / 60_000} min for another process generating ${REF_DIR} (lock ${LOCK})`);
    sleep(2000);
  }
  try {
    if (existsSync(join(REF_DIR, 'manifest.json'))) return false; // generated while we waited for the lock
    const tmp = `${REF_DIR}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const args = ['-W', 'ignore', SCRIPT, tmp, ...(HAVE_SHARED_PATCHES ? ['--patches', SHARED_PATCHES] : [])];
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`make_reference.py failed (exit ${r.status}):\n${r.stderr}`);
    rmSync(REF_DIR, { recursive: true, force: true });
    renameSync(tmp, REF_DIR);
    // references of older script versions (~100 MB each) are dropped
    for (const old of readdirSync(CACHE_DIR)) {
      if (/^conformance-[0-9a-f]{12}$/.test(old) && join(CACHE_DIR, old) !== REF_DIR) rmSync(join(CACHE_DIR, old), { recursive: true, force: true });
    }
    console.log(`# PyTorch references generated in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${REF_DIR}:\n${r.stdout.trim().split('\n').map((l) => `#   ${l}`).join('\n')}`);
    return false;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(join(REF_DIR, 'manifest.json'), 'utf8')) as Manifest;
}

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared beside the checkout (read-only, never copied into the repo) */
export const SHARED_DIR = process.env.GLASSBOX_SHARED ?? resolve(REPO_ROOT, '..', 'shared');
export const SHARED_SLIDES = join(SHARED_DIR, 'slides');
export const SHARED_PATCHES = join(SHARED_DIR, 'patches');
export const HAVE_SHARED_SLIDES = existsSync(SHARED_SLIDES);
export const HAVE_SHARED_PATCHES = existsSync(SHARED_PATCHES);
/** pass as `{ skip: SKIP_NO_SLIDES }` to node:test */
export const SKIP_NO_SLIDES = HAVE_SHARED_SLIDES ? false : `../shared/slides not found at ${SHARED_SLIDES}: real-scanner slide tests skipped`;
export const SKIP_NO_PATCHES = HAVE_SHARED_PATCHES ? false : `../shared/patches not found at ${SHARED_PATCHES}: patch tests skipped`;
/** Debian's python with torch/onnx/openslide */
export const PYTHON = process.env.GLASSBOX_PYTHON ?? '/usr/bin/python3';
/** cache for generated fixtures/references, outside the repo */
export const CACHE_DIR = process.env.GLASSBOX_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'glassbox-test');

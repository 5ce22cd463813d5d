/**
 * The repository (or installed package) root, for files the CLI reads beside its code: package.json, models/,
 * dist/renderer/. Two folders above this module both as source (app/cli/paths.ts) and compiled (every chunk of
 * dist/cli/ lies directly in it: scripts/build-cli.mjs).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** the shipped model packages (models/<id>/) */
export const SHIPPED_MODELS = join(PACKAGE_ROOT, 'models');

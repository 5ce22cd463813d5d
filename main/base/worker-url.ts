/**
 * Where a plain-JavaScript worker module is at run time: beside the module that starts it (the source tree under
 * tsx, or beside the Electron bundle, which build-electron.mjs copies it next to), else at its place in the source
 * tree seen from a bundle two folders below the repository (dist/cli/).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `name` beside `from` (an import.meta.url), else `main/<dir>/<name>` from the repository root two levels up */
export function workerUrl(from: string, name: string, dir: string): URL {
  const here = new URL(`./${name}`, from);
  if (existsSync(fileURLToPath(here))) return here;
  const src = new URL(`../../main/${dir}/${name}`, from);
  return existsSync(fileURLToPath(src)) ? src : here;
}

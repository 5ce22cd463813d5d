/**
 * The Electron host's allow-list of slide paths the USER chose: the native open dialog, drag-and-drop,
 * command-line arguments / macOS open-file, and the recent list. The glassbox://app/api/slides handler
 * opens only these (SlideServiceDeps.authorizeOpen), so a compromised renderer cannot read arbitrary files.
 */
import { isAbsolute, resolve } from 'node:path';

const MAX_PATH = 4096;

/** an absolute path without NUL, not absurdly long (Windows drive / UNC paths too) */
export function isPlausibleAbsolutePath(p: unknown): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATH || p.includes('\0')) return false;
  return isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

export class GrantedPaths {
  private readonly paths = new Set<string>();

  /** grant one path (normalised with path.resolve); returns false (and grants nothing) for a non-absolute path */
  add(path: string): boolean {
    if (!isPlausibleAbsolutePath(path)) return false;
    this.paths.add(resolve(path));
    return true;
  }

  addAll(paths: Iterable<string>): void {
    for (const p of paths) this.add(p);
  }

  has(path: string): boolean {
    return isPlausibleAbsolutePath(path) && this.paths.has(resolve(path));
  }

  get size(): number {
    return this.paths.size;
  }
}

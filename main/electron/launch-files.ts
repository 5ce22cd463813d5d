/**
 * Slide paths the desktop app was asked to open by the OS: command-line arguments (first and second instance)
 * and macOS `open-file`. Only existing regular files count; flags and Chromium switches are ignored.
 * They are handed to the renderer as `open-recent:<path>` menu commands, so opening (and any error) goes through
 * the same path as File ▸ Open Recent.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export function slidePathsFromArgv(argv: readonly string[], opts: { isPackaged: boolean; cwd: string }): string[] {
  // packaged: [app, ...args]; development (`electron .`): [electron, '.', ...args]
  const args = argv.slice(opts.isPackaged ? 1 : 2);
  const out: string[] = [];
  for (const a of args) {
    if (!a || a.startsWith('-')) continue;
    const p = isAbsolute(a) ? a : resolve(opts.cwd, a);
    try {
      if (statSync(p).isFile() && !out.includes(p)) out.push(p);
    } catch {
      /* not a file: ignore */
    }
  }
  return out;
}

/** Queues paths until the renderer has loaded, then delivers them through `deliver` (in order, once). */
export class LaunchQueue {
  private pending: string[] = [];
  private ready = false;
  /** `grant` is told every path as it arrives (the OS / command line handed it over: the user chose it) */
  constructor(
    private readonly deliver: (command: string) => boolean,
    private readonly grant: (path: string) => void = () => undefined,
  ) {}

  add(paths: readonly string[]): void {
    for (const p of paths) this.grant(p);
    this.deliver_(paths);
  }

  private deliver_(paths: readonly string[]): void {
    for (const p of paths) {
      if (this.ready && this.deliver(`open-recent:${p}`)) continue;
      this.pending.push(p);
    }
  }

  /** the renderer finished loading: flush */
  rendererReady(): void {
    this.ready = true;
    const todo = this.pending;
    this.pending = [];
    this.deliver_(todo);
  }

  /** the window went away: queue again until the next one is ready */
  rendererGone(): void {
    this.ready = false;
  }
}

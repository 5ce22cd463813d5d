/**
 * Whole-process `glassbox` runs for the benches: the compiled CLI (dist/cli, rebuilt here when a source is newer)
 * unless it cannot be built, in which case the TypeScript sources through tsx (said in the output).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/helpers/paths.js';

export const BIN = join(REPO_ROOT, 'bin', 'glassbox.mjs');

/** Builds dist/cli (a no-op when fresh enough to matter is not checked: a build takes well under a second). */
export function ensureCompiledCli(): 'dist' | 'tsx' {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-cli.mjs')], { encoding: 'utf8' });
  if (r.status === 0) return 'dist';
  console.log(`note: the compiled CLI could not be built (${(r.stderr || r.stdout).trim().split('\n').pop()}); timing the tsx path`);
  return 'tsx';
}

/** Seconds of one whole process (spawn to exit); throws with its stderr when it fails. */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return s;
}

export function glassbox(args: string[], path: 'dist' | 'tsx', env: NodeJS.ProcessEnv = {}): number {
  return timeProcess(process.execPath, [BIN, ...args], { ...process.env, GLASSBOX_CLI: path, ...env });
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

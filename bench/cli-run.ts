/**
 * Whole-process `glassbox` runs for the benches: the compiled CLI (dist/cli, rebuilt here when a source is newer)
 * unless it cannot be built, in which case the TypeScript sources through tsx (said in the output).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/**
 * One whole process (spawn to exit): wall seconds and CPU seconds (user + system, all its threads; GNU time, NaN
 * without it). CPU time is what other load on a shared machine disturbs least. Throws with its stderr on failure.
 */
export function timeCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { wall: number; cpu: number } {
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env, maxBuffer: 1 << 24 })
    : spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  const [user, sys] = gnuTime ? r.stderr.trim().split('\n').pop()!.split(' ').map(Number) : [NaN, NaN];
  return { wall, cpu: user + sys };
}

/** Wall seconds of one whole process. */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  return timeCmd(cmd, args, env).wall;
}

export function glassboxRun(args: string[], path: 'dist' | 'tsx', env: NodeJS.ProcessEnv = {}): { wall: number; cpu: number } {
  return timeCmd(process.execPath, [BIN, ...args], { ...process.env, GLASSBOX_CLI: path, ...env });
}

export function glassbox(args: string[], path: 'dist' | 'tsx', env: NodeJS.ProcessEnv = {}): number {
  return glassboxRun(args, path, env).wall;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

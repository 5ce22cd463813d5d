/**
 * Runs `bin/glassbox.mjs` as a child process with a throw-away HOME and XDG_CONFIG_HOME, so no test ever
 * writes the user's real ~/.config/glassbox (recent.json).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams, type SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

export const BIN = join(REPO_ROOT, 'bin', 'glassbox.mjs');

/** this test process's fake home (removed at exit) */
export const CHILD_HOME = mkdtempSync(join(tmpdir(), 'gbx-home-'));
export const CHILD_CONFIG = join(CHILD_HOME, 'config');
mkdirSync(CHILD_CONFIG, { recursive: true });
process.on('exit', () => rmSync(CHILD_HOME, { recursive: true, force: true }));

export function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, HOME: CHILD_HOME, USERPROFILE: CHILD_HOME, XDG_CONFIG_HOME: CHILD_CONFIG };
}

/** `env`: extra variables, e.g. GLASSBOX_CLI: 'tsx' to force the TypeScript sources */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...childEnv(), ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export function spawnCli(args: string[], opts: SpawnOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as ChildProcessWithoutNullStreams;
}

/** a failed command printed exactly one line, "glassbox <cmd>: …", matching `re` */
export function oneLineError(r: { code: number; stderr: string }, cmd: string, re: RegExp): void {
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], new RegExp(`^glassbox ${cmd}: `));
  assert.match(lines[0], re);
}

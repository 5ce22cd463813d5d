/**
 * Bench (never a test): start-up of the `glassbox` command as a user runs it (node bin/glassbox.mjs, no npx), median
 * of ROUNDS runs interleaved (hyperfine-style, after one warm-up each):
 *   `glassbox --version` (goal < 150 ms) and `glassbox info SLIDE --json` (goal < 300 ms) on the compiled CLI
 *   (dist/cli), against the same on the TypeScript sources through tsx (the development path, and what every start
 *   cost before the compiled CLI) and against `node -e 0` (node's own start on this machine, the floor).
 * SLIDE: ../shared/slides/CMU-1-Small-Region.svs, else the generated 1500×1100 test pyramid.
 * Env: GLASSBOX_BENCH_ROUNDS (default 15 here).
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { SHARED_SLIDES } from '../test/helpers/paths.js';
import { pyramidTiff } from '../test/contract/fixture.js';
import { ensureCompiledCli, glassboxRun, median, timeCmd } from './cli-run.js';

const ROUNDS = Number(process.env.GLASSBOX_BENCH_ROUNDS_CLI ?? 15);
const cmu = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');
const slide = existsSync(cmu) ? cmu : await pyramidTiff();
const path = ensureCompiledCli();

const runs: Record<string, () => { wall: number; cpu: number }> = {
  'node -e 0': () => timeCmd(process.execPath, ['-e', '0']),
  [`--version (${path})`]: () => glassboxRun(['--version'], path),
  '--version (tsx)': () => glassboxRun(['--version'], 'tsx'),
  [`info --json (${path})`]: () => glassboxRun(['info', slide, '--json'], path),
  'info --json (tsx)': () => glassboxRun(['info', slide, '--json'], 'tsx'),
};
const times: Record<string, Array<{ wall: number; cpu: number }>> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
for (const f of Object.values(runs)) f(); // warm-up: page cache, compiled-code caches
for (let i = 0; i < ROUNDS; i++) for (const [k, f] of Object.entries(runs)) times[k].push(f());
const ms = (k: string) => 1000 * median(times[k].map((t) => t.wall));
const cpuMs = (k: string) => 1000 * median(times[k].map((t) => t.cpu));
const node = ms('node -e 0');
console.log(`CLI start-up, whole processes, median of ${ROUNDS} interleaved runs; ${availableParallelism()} cores, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
console.log(`slide: ${slide}`);
for (const k of Object.keys(runs)) {
  console.log(`  ${k.padEnd(22)} ${ms(k).toFixed(0).padStart(6)} ms wall (${(ms(k) - node).toFixed(0).padStart(5)} ms above node's own start), CPU ${cpuMs(k).toFixed(0).padStart(5)} ms (${(cpuMs(k) / cpuMs('node -e 0')).toFixed(2)}× node's)`);
}
const v = ms(`--version (${path})`), info = ms(`info --json (${path})`);
console.log(`--version: ${v.toFixed(0)} ms (goal < 150 ms: ${v < 150 ? 'met' : 'NOT met'}); ${(ms('--version (tsx)') / v).toFixed(2)}× faster than through tsx`);
console.log(`info: ${info.toFixed(0)} ms (goal < 300 ms: ${info < 300 ? 'met' : 'NOT met'}); ${(ms('info --json (tsx)') / info).toFixed(2)}× faster than through tsx`);

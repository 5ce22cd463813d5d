#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (TypeScript through tsx) in name order; each prints its own
// ratios measured in the same run. Args: optional name filters (substring), and --skip-slow to skip the slow parts
// (sets GLASSBOX_BENCH_SKIP_SLOW=1, GLASSBOX_BENCH_SKIP_DZI=1 and GLASSBOX_BENCH_SKIP_100K=1; each bench documents its
// own GLASSBOX_BENCH_* variables). Exit code: non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'bench');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const unknown = args.filter((a) => a.startsWith('--') && a !== '--skip-slow');
if (unknown.length) {
  console.error(`unknown option ${unknown.join(' ')} (usage: npm run bench [-- [--skip-slow] [NAME...]])`);
  process.exit(2);
}
const env = args.includes('--skip-slow')
  ? { ...process.env, GLASSBOX_BENCH_SKIP_SLOW: '1', GLASSBOX_BENCH_SKIP_DZI: '1', GLASSBOX_BENCH_SKIP_100K: '1' }
  : process.env;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no bench/*.bench.ts matched');
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { cwd: root, stdio: 'inherit', env });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.log(`=== bench/${f} FAILED (exit ${r.status ?? r.signal}) after ${s} s ===`);
  } else console.log(`=== bench/${f} done in ${s} s ===`);
}
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (TypeScript through tsx) in name order; each prints its own
// ratios measured in the same run. Args: optional name filters (substring). Exit code: non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'bench');
const filters = process.argv.slice(2);
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
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { cwd: root, stdio: 'inherit', env: process.env });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.log(`=== bench/${f} FAILED (exit ${r.status ?? r.signal}) after ${s} s ===`);
  } else console.log(`=== bench/${f} done in ${s} s ===`);
}
process.exit(failed ? 1 : 0);

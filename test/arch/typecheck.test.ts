/**
 * The whole tree type-checks: main/, app/, test/ with tsc (tsconfig.json) and the Svelte renderer with
 * svelte-check (renderer/tsconfig.json, which sees main/contract but nothing else of main/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);

test('tsc --noEmit over main/, app/ and test/ reports no errors', () => {
  const r = spawnSync(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit', '--pretty', 'false'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `tsc failed:\n${(r.stdout + r.stderr).split('\n').slice(0, 30).join('\n')}`);
});

test('svelte-check over the renderer reports no errors or warnings', () => {
  const r = spawnSync(bin('svelte-check'), ['--tsconfig', 'renderer/tsconfig.json', '--output', 'machine', '--fail-on-warnings'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  const done = /COMPLETED (\d+) FILES (\d+) ERRORS (\d+) WARNINGS/.exec(r.stdout);
  assert.ok(done, `svelte-check did not complete:\n${r.stdout}\n${r.stderr}`);
  assert.ok(Number(done[1]) > 10, `svelte-check saw only ${done[1]} files`);
  assert.equal(`${done[2]} errors, ${done[3]} warnings`, '0 errors, 0 warnings', r.stdout.split('\n').slice(0, 30).join('\n'));
  assert.equal(r.status, 0);
});

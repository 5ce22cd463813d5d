/**
 * The whole tree type-checks, per runtime environment:
 *  - tsconfig.contract.json  main/contract: no Node types, no electron (shared with the renderer);
 *  - tsconfig.node.json      base, engine, services, transport, HTTP host, CLI: Node without the DOM or electron;
 *  - tsconfig.electron.json  main/electron + app/electron;
 *  - tsconfig.json           everything incl. tests (Node + DOM);
 *  - renderer/tsconfig.json  the Svelte renderer (svelte-check), which sees main/contract but nothing else of main/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);
const tsc = (project: string) =>
  spawnSync(bin('tsc'), ['-p', project, '--noEmit', '--pretty', 'false'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });

for (const project of ['tsconfig.contract.json', 'tsconfig.node.json', 'tsconfig.electron.json', 'tsconfig.json']) {
  test(`tsc -p ${project} reports no errors`, () => {
    const r = tsc(project);
    assert.equal(r.status, 0, `tsc failed:\n${(r.stdout + r.stderr).split('\n').slice(0, 30).join('\n')}`);
  });
}

test('the contract environment rejects a Node import (the per-environment configs enforce something)', () => {
  const dir = mkdtempSync(join(REPO_ROOT, 'main', 'contract', '.tmp-env-'));
  try {
    writeFileSync(join(dir, 'bad.ts'), "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n");
    const cfg = join(dir, 'tsconfig.json');
    writeFileSync(cfg, JSON.stringify({ extends: relative(dir, join(REPO_ROOT, 'tsconfig.contract.json')), include: ['bad.ts'] }));
    const r = tsc(cfg);
    assert.notEqual(r.status, 0, 'a node: import in the contract environment must not type-check');
    assert.match(r.stdout + r.stderr, /node:fs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

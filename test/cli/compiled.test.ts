/**
 * The compiled CLI (scripts/build-cli.mjs → dist/<name>/): built into a private folder under dist/, it runs, lists
 * its commands, loads each command lazily, and answers exactly as the TypeScript sources through tsx do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { pyramidTiff } from '../contract/fixture.js';
import { childEnv, cli } from './run-cli.js';

const NAME = `cli-test-${process.pid}`;
const OUT = join(REPO_ROOT, 'dist', NAME);
process.on('exit', () => rmSync(OUT, { recursive: true, force: true }));
execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-cli.mjs'), '--outdir', `dist/${NAME}`], { cwd: REPO_ROOT, stdio: 'pipe' });

const RUNNER = join(OUT, 'run.mjs');
writeFileSync(RUNNER, "const { main } = await import('./main.js');\nprocess.exitCode = await main(process.argv.slice(2));\n");

/** the compiled main() in a plain node process (no tsx loader anywhere) */
function compiled(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUNNER, ...args], { cwd: REPO_ROOT, env: childEnv(), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const tsx = (args: string[]) => cli(args, { GLASSBOX_CLI: 'tsx' });

test('the bundle: main.js plus one lazily loaded chunk per command, and the list of its sources', () => {
  const stamp = JSON.parse(readFileSync(join(OUT, 'build.json'), 'utf8')) as { builtAt: number; inputs: string[] };
  assert.ok(stamp.inputs.includes('app/cli/main.ts') && stamp.inputs.includes('app/cli/commands/info.ts'));
  assert.ok(stamp.inputs.every((f) => existsSync(join(REPO_ROOT, f))), 'every listed source exists');
  const main = readFileSync(join(OUT, 'main.js'), 'utf8');
  // --version must not load the engines: main.js imports no native or heavy package
  for (const heavy of ['onnxruntime-node', 'sharp', 'zod']) assert.ok(!main.includes(`from "${heavy}"`), `main.js does not import ${heavy}`);
  const chunks = readdirSync(OUT).filter((f) => f.endsWith('.js'));
  for (const cmd of ['info', 'region', 'dzi', 'serve', 'layers', 'explain', 'analyze']) assert.ok(chunks.some((f) => f.startsWith(`${cmd}-`)), `a chunk for ${cmd}`);
  // sharp is loaded on first use (app/cli/lazy-sharp.ts), never imported by a chunk
  for (const f of chunks) assert.ok(!readFileSync(join(OUT, f), 'utf8').includes('from "sharp"'), `${f} does not import sharp eagerly`);
});

test('compiled --version and help', async () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = await compiled(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), `glassbox ${pkg.version}`);
  const h = await compiled(['help']);
  assert.equal(h.code, 0, h.stderr);
  for (const cmd of ['info', 'region', 'dzi', 'serve', 'layers', 'explain', 'analyze']) assert.match(h.stdout, new RegExp(`^  ${cmd} +\\S`, 'm'));
});

test('compiled info --json agrees with the tsx path (one DTO: the hosts\' SlideInfoDTO without id and URL)', async () => {
  const f = await pyramidTiff();
  const [a, b] = await Promise.all([compiled(['info', f, '--json']), tsx(['info', f, '--json'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
  const j = JSON.parse(a.stdout) as Record<string, unknown>;
  assert.equal(j.name, 'pyramid-1500x1100-t256-q90.tif');
  assert.ok(!('id' in j) && !('dziUrl' in j), 'no per-host id or URL');
});

test('compiled layers finds the shipped models (package root from the bundle\'s folder)', async () => {
  const [a, b] = await Promise.all([compiled(['layers', '--model', 'tiny-crc-demo', '--json']), tsx(['layers', '--model', 'tiny-crc-demo', '--json'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
});

test('compiled region decodes pixels (sharp loaded on first use) like the tsx path', async () => {
  const f = await pyramidTiff();
  const dir = join(OUT, 'out');
  mkdirSync(dir, { recursive: true });
  const args = (o: string) => ['region', f, '--x', '100', '--y', '50', '--w', '64', '--h', '32', '--level', '1', '--out', join(dir, o)];
  const [a, b] = await Promise.all([compiled(args('a.png')), tsx(args('b.png'))]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(readFileSync(join(dir, 'a.png')), readFileSync(join(dir, 'b.png')));
});

test('compiled dzi finds the codec worker from the bundle and writes the same pyramid as the tsx path', async () => {
  const f = await pyramidTiff();
  const dir = join(OUT, 'dzi');
  const [a, b] = await Promise.all([compiled(['dzi', f, join(dir, 'a'), '--name', 's', '--quiet']), tsx(['dzi', f, join(dir, 'b'), '--name', 's', '--quiet'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(readFileSync(join(dir, 'a', 's.dzi')), readFileSync(join(dir, 'b', 's.dzi')));
  const levels = readdirSync(join(dir, 'a', 's_files'));
  assert.ok(levels.length > 5);
  for (const l of levels) {
    const tiles = readdirSync(join(dir, 'a', 's_files', l)).sort();
    assert.deepEqual(tiles, readdirSync(join(dir, 'b', 's_files', l)).sort());
    for (const t of tiles) assert.deepEqual(readFileSync(join(dir, 'a', 's_files', l, t)), readFileSync(join(dir, 'b', 's_files', l, t)), `${l}/${t}`);
  }
});

/**
 * Import-boundary rules from ../shared/docs/architecture.md, enforced on every source file:
 * renderer -> main/contract only; main/contract pure TS; main/engine no electron/contract/services;
 * geotiff only in main/engine/tiff; electron only in main/electron and app/electron; nothing imports app/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

interface Src { file: string; specs: string[] }

function walk(dir: string, out: string[] = []): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|cts|svelte|js|mjs)$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(top: string): Src[] {
  return walk(join(REPO_ROOT, top)).map((file) => {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2] ?? m[3]);
    return { file: relative(REPO_ROOT, file), specs };
  });
}

function target(src: Src, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(REPO_ROOT, resolve(REPO_ROOT, dirname(src.file), spec));
}

function violations(files: Src[], bad: (spec: string, resolved: string | null, file: string) => string | false): string[] {
  const out: string[] = [];
  for (const f of files) for (const s of f.specs) {
    const why = bad(s, target(f, s), f.file);
    if (why) out.push(`${f.file}: imports '${s}' (${why})`);
  }
  return out;
}

const isNodeBuiltin = (s: string) => s.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'http', 'url', 'stream', 'zlib', 'util', 'events', 'buffer'].includes(s);
const under = (p: string | null, dir: string) => p !== null && (p === dir || p.startsWith(dir + '/'));

test('renderer imports only main/contract (and its own files / browser packages)', () => {
  const v = violations(sources('renderer'), (s, r) => {
    if (r === null) return isNodeBuiltin(s) ? 'Node built-in in the renderer' : s === 'electron' ? 'electron in the renderer' : false;
    if (under(r, 'renderer')) return false;
    return under(r, 'main/contract') ? false : 'renderer may import main/contract only';
  });
  assert.deepEqual(v, []);
});

test('main/contract is pure TypeScript', () => {
  const v = violations(sources('main/contract'), (s, r) => {
    if (r === null) return 'no packages or Node built-ins in the contract';
    return under(r, 'main/contract') ? false : 'contract imports only itself';
  });
  assert.deepEqual(v, []);
});

test('main/engine is plain Node: no electron, contract, services, transport or app', () => {
  const v = violations(sources('main/engine'), (s, r) => {
    if (s === 'electron') return 'electron in the engine';
    if (s === 'geotiff' || s.startsWith('geotiff/')) return false; // checked below
    if (r && !(under(r, 'main/engine') || under(r, 'main/base'))) return 'engine imports only engine and base';
    return false;
  });
  assert.deepEqual(v, []);
});

test('only main/engine/tiff imports geotiff', () => {
  const all = ['main', 'app', 'renderer', 'test'].flatMap(sources);
  const v = violations(all, (s, _r, file) =>
    (s === 'geotiff' || s.startsWith('geotiff/')) && !file.startsWith('main/engine/tiff/') && !file.startsWith('test/') ? 'geotiff outside main/engine/tiff' : false);
  assert.deepEqual(v, []);
});

test('only main/electron and app/electron import electron; tests never do', () => {
  const all = ['main', 'app', 'renderer', 'test'].flatMap(sources);
  const v = violations(all, (s, _r, file) => {
    if (s !== 'electron' && !s.startsWith('electron/')) return false;
    if (file.startsWith('main/electron/') || file.startsWith('app/electron/')) return false;
    return 'electron outside main/electron and app/electron';
  });
  // a type-only import is erased at run time, but keep even those out of tests
  assert.deepEqual(v, []);
});

test('main/services and main/transport do not reach into app/ or electron', () => {
  const v = violations([...sources('main/services'), ...sources('main/transport')], (s, r) => {
    if (s === 'electron') return 'electron';
    if (under(r, 'app') || under(r, 'renderer') || under(r, 'main/electron')) return 'wrong direction';
    return false;
  });
  assert.deepEqual(v, []);
});

test('nothing imports app/ except app/ itself', () => {
  const all = ['main', 'renderer', 'test'].flatMap(sources).filter((f) => !f.file.startsWith('test/'));
  const v = violations(all, (_s, r) => (under(r, 'app') ? 'nothing imports app/' : false));
  assert.deepEqual(v, []);
});

test('the boundary checker itself catches a violation', () => {
  const fake: Src = { file: 'renderer/src/x.ts', specs: ['../../main/engine/slide/index.js', 'node:fs'] };
  const v = violations([fake], (s, r) => (r && !under(r, 'renderer') && !under(r, 'main/contract') ? 'bad' : isNodeBuiltin(s) ? 'builtin' : false));
  assert.equal(v.length, 2);
});

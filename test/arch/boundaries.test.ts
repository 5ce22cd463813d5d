/**
 * Import-boundary rules (the README's architecture), enforced on every source file:
 * renderer -> main/contract only; main/contract pure TS; main/engine no electron/contract/services;
 * geotiff only in main/engine/tiff; electron only in main/electron and app/electron; nothing imports app/.
 * Within main/, LAYERS says which folder may import which; it is acyclic, so no folder cycle can come back.
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

/**
 * Folder -> folders it may import, within main/. A folder is main/<x> (base, contract, services, …) or, inside
 * main/engine, engine/<x> (a sub-folder, or a top-level file such as engine/errors.ts). A folder always
 * imports itself. The table must stay acyclic: a new edge that closes a loop fails below, so code that two
 * folders need goes into a folder below both (as SlideError went from slide/ into engine/errors.ts).
 */
export const LAYERS: Record<string, readonly string[]> = {
  base: [],
  contract: [],
  'engine/errors': [],
  'engine/tiff': ['base', 'engine/errors'],
  'engine/dicom': ['base', 'engine/errors', 'engine/tiff'],
  'engine/slide': ['base', 'engine/errors', 'engine/tiff', 'engine/dicom'],
  'engine/tiles': ['base', 'engine/errors', 'engine/slide', 'engine/tiff'],
  'engine/explain': ['base', 'engine/errors'],
  'engine/model': ['base', 'engine/errors', 'engine/explain'],
  'engine/analysis': ['base', 'engine/errors', 'engine/slide', 'engine/tiles', 'engine/model', 'engine/explain'],
  'engine/annotations': ['base', 'engine/errors', 'engine/tiff', 'engine/slide', 'engine/explain'],
  'engine/trust': ['base', 'engine/errors', 'engine/explain'],
  'engine/export': ['base', 'engine/errors', 'engine/slide', 'engine/tiles', 'engine/analysis', 'engine/annotations'],
  services: ['base', 'contract', 'engine/errors', 'engine/tiff', 'engine/dicom', 'engine/slide', 'engine/tiles', 'engine/explain', 'engine/model', 'engine/analysis', 'engine/annotations', 'engine/trust', 'engine/export'],
  transport: ['base', 'contract', 'services'],
  electron: ['base', 'contract', 'services', 'transport', 'engine/analysis'],
};

/** the LAYERS key of a repo-relative path under main/, or null outside main/ */
export function layerOf(path: string): string | null {
  const parts = path.split('/');
  if (parts[0] !== 'main' || parts.length < 3) return null;
  if (parts[1] !== 'engine') return parts[1];
  if (parts.length === 3) return `engine/${parts[2].replace(/\.[^.]+$/, '')}`;
  return `engine/${parts[2]}`;
}

/** import edges between different folders of main/ that LAYERS does not allow */
export function layerViolations(files: Src[], layers: Record<string, readonly string[]>): string[] {
  return violations(files, (_s, r, file) => {
    const from = layerOf(file);
    const to = r === null ? null : layerOf(r);
    if (from === null || to === null || from === to) return false;
    const allowed = layers[from];
    if (!allowed) return `folder ${from} is not in LAYERS (test/arch/boundaries.test.ts): add it with the folders it may import`;
    return allowed.includes(to) ? false : `${from} may not import ${to} (allowed: ${allowed.join(', ') || 'nothing'})`;
  });
}

/** a cycle in the folder graph, as [a, b, …, a], or null */
export function findCycle(graph: Record<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph[n] ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of Object.keys(graph)) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

test('LAYERS is acyclic and names only folders it defines', () => {
  assert.equal(findCycle(LAYERS), null);
  for (const [from, tos] of Object.entries(LAYERS)) for (const to of tos) assert.ok(to in LAYERS, `${from} -> ${to}: ${to} is not in LAYERS`);
});

test('every import between folders of main/ is an edge LAYERS allows', () => {
  assert.deepEqual(layerViolations(sources('main'), LAYERS), []);
});

test('the folder imports actually made form no cycle', () => {
  const graph: Record<string, string[]> = {};
  for (const f of sources('main')) {
    const from = layerOf(f.file);
    if (!from) continue;
    for (const s of f.specs) {
      const r = target(f, s);
      const to = r === null ? null : layerOf(r);
      if (to && to !== from) (graph[from] ??= []).includes(to) || graph[from].push(to);
    }
  }
  assert.equal(findCycle(graph), null);
});

test('the layer check catches a back edge, an unknown folder and a cycle', () => {
  const back: Src = { file: 'main/engine/tiff/jpeg.ts', specs: ['../slide/types.js', '../errors.js', '../../base/abort.js'] };
  assert.deepEqual(layerViolations([back], LAYERS), [
    "main/engine/tiff/jpeg.ts: imports '../slide/types.js' (engine/tiff may not import engine/slide (allowed: base, engine/errors))",
  ]);
  const rules: Src = { file: 'main/engine/explain/rules/conv.ts', specs: ['../backward.js', './types.js'] };
  assert.deepEqual(layerViolations([rules], LAYERS), [], 'a sub-folder belongs to its engine folder');
  const unknown: Src = { file: 'main/engine/newthing/a.ts', specs: ['../slide/types.js'] };
  assert.match(layerViolations([unknown], LAYERS)[0], /engine\/newthing is not in LAYERS/);
  assert.deepEqual(findCycle({ ...LAYERS, 'engine/tiff': [...LAYERS['engine/tiff'], 'engine/slide'] }), ['engine/tiff', 'engine/slide', 'engine/tiff']);
  assert.equal(layerOf('main/engine/errors.ts'), 'engine/errors');
  assert.equal(layerOf('app/cli/main.ts'), null);
});

test('the boundary checker itself catches a violation', () => {
  const fake: Src = { file: 'renderer/src/x.ts', specs: ['../../main/engine/slide/index.js', 'node:fs'] };
  const v = violations([fake], (s, r) => (r && !under(r, 'renderer') && !under(r, 'main/contract') ? 'bad' : isNodeBuiltin(s) ? 'builtin' : false));
  assert.equal(v.length, 2);
});

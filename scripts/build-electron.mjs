#!/usr/bin/env node
// Bundles the Electron main process (ESM) to dist/electron/main.js and the preload (ONE CJS file, imports
// only 'electron') to dist/electron/preload.cjs. Every node_modules package stays external (native
// modules such as onnxruntime-node and sharp must be loaded from node_modules / app.asar.unpacked).
import { build } from 'esbuild';
import { copyFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
const external = [...new Set(['electron', 'onnxruntime-node', 'sharp', 'geotiff', '@cornerstonejs/codec-openjpeg', ...deps])];
// Electron 45 ships Node 22
const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: true, logLevel: 'warning', absWorkingDir: root };

const t0 = Date.now();
await Promise.all([
  build({
    ...common,
    entryPoints: ['app/electron/main.ts'],
    outfile: 'dist/electron/main.js',
    format: 'esm',
    external,
    packages: 'external',
    // a bundled ESM file still gets require() for any CJS-only code path
    banner: { js: "import { createRequire as __glassboxCreateRequire } from 'node:module'; const require = __glassboxCreateRequire(import.meta.url);" },
  }),
  build({
    ...common,
    entryPoints: ['app/electron/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    format: 'cjs',
    // the sandboxed preload can require only 'electron' (and a few polyfilled built-ins): bundle the rest
    external: ['electron'],
  }),
]);
// the codec pool's worker (plain JS) is loaded at run time from beside main.js (main/engine/tiff/decode-pool.ts),
// with the codec registry and codecs it shares with the main thread
for (const f of ['codec-worker.mjs', 'codec-registry.mjs', 'raw-codecs.mjs', 'openjpeg.mjs', 'image-codec.mjs']) copyFileSync(join(root, 'main/engine/tiff', f), join(root, 'dist/electron', f));
// the ONNX Runtime thread's worker (main/engine/explain/ort-thread.ts), likewise found beside main.js
copyFileSync(join(root, 'main/engine/explain/ort-worker.mjs'), join(root, 'dist/electron/ort-worker.mjs'));
console.log(`built dist/electron/main.js and dist/electron/preload.cjs in ${Date.now() - t0} ms`);

#!/usr/bin/env node
// Bundles the `glassbox` CLI (app/cli/main.ts) to dist/cli/ as plain ESM JavaScript, one lazily loaded chunk per
// command (main.ts's COMMANDS map of `() => import('./commands/x.js')` thunks), so `glassbox --version` loads
// nothing but main.js and `glassbox info` only the slide engine. Every node_modules package stays external
// (native onnxruntime-node and sharp load from node_modules). The chunks all lie flat in dist/cli/, two folders
// below the repository like their sources' import.meta.url assumptions (app/cli/paths.ts), and the codec worker is
// found in the source tree from there (main/engine/tiff/decode-pool.ts codecWorkerUrl).
//
// dist/cli/build.json lists the source files bundled and when: bin/glassbox.mjs runs the bundle only while no
// listed source is newer (otherwise it runs the sources through tsx, the development path).
//
// Run by `npm run build`, `npm run build:cli` and npm's `prepare` (npm install / npm ci). Without esbuild (an
// install without devDependencies) it says so and exits 0: the bin then runs the sources through tsx.
// Options: --outdir dist/NAME (default dist/cli; any folder directly inside dist/, for tests); --if-possible: a
// failed build is a warning, exit 0 (npm's prepare: an install must not fail on a source being edited).
// The new build is written beside the old one and swapped in whole, so a failed build never leaves half a bundle.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({ options: { outdir: { type: 'string', default: 'dist/cli' }, 'if-possible': { type: 'boolean', default: false } } });
const outdir = resolve(root, opts.outdir);
// the chunks' import.meta.url-relative paths (package.json, models/, the codec worker) assume <root>/dist/NAME/
if (dirname(outdir) !== join(root, 'dist')) {
  console.error(`build-cli: --outdir must be a folder directly inside ${join(root, 'dist')} (got ${outdir})`);
  process.exit(2);
}
const staging = join(root, 'dist', `.${basename(outdir)}-build-${process.pid}`);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('build-cli: esbuild is not installed (no devDependencies?): glassbox will run its TypeScript sources through tsx');
  process.exit(0);
}

/** `./commands/x.js` from main.ts whose source is missing (a command still being written): left out, not fatal. */
const missingCommands = {
  name: 'missing-commands',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) => {
      const ts = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (existsSync(ts)) return undefined;
      console.log(`build-cli: note: ${args.path.replace(/\.js$/, '.ts')} does not exist; that command is left out of this build`);
      // resolves at run time to dist/cli/commands/x.js, which does not exist: main.ts lists it as unavailable
      return { path: args.path, external: true };
    });
  },
};

/** `sharp` resolves to app/cli/lazy-sharp.ts (loaded on first use), except from that module itself. */
const lazySharp = {
  name: 'lazy-sharp',
  setup(build) {
    const shim = join(root, 'app', 'cli', 'lazy-sharp.ts');
    build.onResolve({ filter: /^sharp$/ }, (args) => (args.importer === shim ? undefined : { path: shim }));
  },
};

const t0 = Date.now();
const started = Date.now();
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
let result;
try {
  result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'app/cli/main.ts' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: opts['if-possible'] ? 'silent' : 'warning',
  plugins: [missingCommands, lazySharp],
  // a bundled ESM chunk may still reach require() in a CommonJS-only code path
  banner: { js: "import { createRequire as __glassboxCreateRequire } from 'node:module'; const require = __glassboxCreateRequire(import.meta.url);" },
  });
} catch (e) {
  rmSync(staging, { recursive: true, force: true });
  if (!opts['if-possible']) throw e;
  const first = e.errors?.[0];
  const why = first ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}` : String(e.message).split('\n')[0];
  console.log(`build-cli: warning: the CLI bundle could not be built (${why}); glassbox will run its sources through tsx`);
  process.exit(0);
}
const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/')).sort();
// the bin compares these sources' mtimes against the start of this build
writeFileSync(join(staging, 'build.json'), JSON.stringify({ builtAt: started, inputs }, null, 1) + '\n');
rmSync(outdir, { recursive: true, force: true });
renameSync(staging, outdir);
const chunks = readdirSync(outdir).filter((f) => f.endsWith('.js')).length;
console.log(`built dist/cli/main.js (${chunks} chunks from ${inputs.length} sources) in ${Date.now() - t0} ms`);

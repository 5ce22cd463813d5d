#!/usr/bin/env node
// `glassbox` command. Runs the compiled CLI in dist/cli/ (scripts/build-cli.mjs, built by npm install / npm ci /
// npm run build) while it is at least as new as every source it was built from; otherwise (a development tree
// with edited sources, or no build) the TypeScript sources through tsx. GLASSBOX_CLI=dist or GLASSBOX_CLI=tsx
// forces one path (dist fails when there is no build).
import { readFileSync, statSync } from 'node:fs';

// `glassbox info … | head -1`: the reader went away. Stop quietly (no stack trace), like other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const root = new URL('../', import.meta.url);

// `glassbox --version` answers from package.json before anything else loads (it is what scripts call most).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === 'version')) {
  process.stdout.write(`glassbox ${JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version}\n`);
  process.exit(0);
}

/** Is dist/cli/ built from the sources as they are now? (one stat per bundled source, ~1 ms) */
function compiledIsFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('dist/cli/build.json', root), 'utf8'));
  } catch {
    return false;
  }
  try {
    for (const f of stamp.inputs) if (statSync(new URL(f, root)).mtimeMs > stamp.builtAt) return false;
  } catch {
    return false; // a bundled source was removed or renamed
  }
  return true;
}

const mode = process.env.GLASSBOX_CLI;
if (mode !== undefined && mode !== '' && mode !== 'dist' && mode !== 'tsx') {
  process.stderr.write(`glassbox: GLASSBOX_CLI must be 'dist' or 'tsx' (got '${mode}')\n`);
  process.exit(2);
}
let main;
if (mode === 'dist' || (mode !== 'tsx' && compiledIsFresh())) {
  const compiled = new URL('dist/cli/main.js', root);
  try {
    statSync(compiled);
  } catch {
    process.stderr.write(`glassbox: GLASSBOX_CLI=dist but ${compiled.pathname} is not built (run 'npm run build:cli')\n`);
    process.exit(2);
  }
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../app/cli/main.ts'));
}
process.exitCode = await main(argv);

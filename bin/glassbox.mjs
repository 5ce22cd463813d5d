#!/usr/bin/env node
// `glassbox` command: runs the TypeScript CLI through tsx (no build step needed).
import { register } from 'tsx/esm/api';

// `glassbox info … | head -1`: the reader went away. Stop quietly (no stack trace), like other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register();
const { main } = await import('../app/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

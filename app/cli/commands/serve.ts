/** glassbox serve [--port P] [--host 127.0.0.1] [--root DIR]… [SLIDE…] — HTTP host with the renderer build; runs until SIGINT. */
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { helpRequested } from '../args.js';
import type { CliIO } from '../main.js';
import { SHIPPED_MODELS, startServer } from '../../server/index.js';

export const summary = 'serve the viewer and the slide API over HTTP on 127.0.0.1 (--port, --host) and open SLIDE…';

const USAGE = 'usage: glassbox serve [--port P] [--host 127.0.0.1] [--models DIR]… [--root DIR]… [SLIDE…]';
export const DEFAULT_PORT = 8642;

const HELP = `${USAGE}
  serves the viewer (dist/renderer, or --static DIR) and the slide API at http://HOST:PORT/ until Ctrl-C
  --port P: 0..65535 (default ${DEFAULT_PORT}; 0 picks a free one); --host: 127.0.0.1 (default) keeps it to this machine
  --models DIR: a model package folder (with config.json) or a folder of them, listed beside the shipped models
  --root DIR: a folder the viewer's Open dialog may browse (repeatable; nothing outside them)
  SLIDE…: slides opened at start`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (helpRequested(argv)) {
    io.out(HELP);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', short: 'p', default: String(DEFAULT_PORT) }, host: { type: 'string', default: '127.0.0.1' }, static: { type: 'string' },
        models: { type: 'string', multiple: true },
        root: { type: 'string', multiple: true },
      },
    });
  } catch (e) {
    throw new Error(`${(e as Error).message} (${USAGE})`);
  }
  const { values, positionals } = parsed;
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new Error(`--port must be 0..65535 (got '${values.port}')`);
  const staticDir = values.static ? resolve(values.static) : join(PACKAGE_ROOT, 'dist', 'renderer');
  const haveStatic = existsSync(join(staticDir, 'index.html'));
  if (!haveStatic) io.err(`note: no renderer build at ${staticDir} (run 'npm run build:renderer'); serving the API only`);
  if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
    io.err(`warning: listening on ${values.host}: the slide API can open any file this user can read; anyone who can reach this address can use it`);
  }
  const configDir = join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'glassbox');
  // --models DIR: a model package folder (with config.json) or a folder of package folders
  const userModels = (values.models ?? []).map((m) => resolve(m));
  for (const m of userModels) if (!existsSync(m)) throw new Error(`--models: '${m}' not found`);
  const isPackage = (m: string) => existsSync(join(m, 'config.json'));
  // --root DIR: folders the viewer's Open dialog browses (sub-folders and slide files, nothing outside them)
  const roots = (values.root ?? []).map((r) => resolve(r));
  for (const r of roots) {
    const st = statSync(r, { throwIfNoEntry: false });
    if (!st) throw new Error(`--root: '${r}' not found`);
    if (!st.isDirectory()) throw new Error(`--root: '${r}' is not a folder`);
  }
  const srv = await startServer({
    port: Number(values.port),
    host: values.host,
    staticDir: haveStatic ? staticDir : undefined,
    slides: positionals.map((p) => resolve(p)),
    roots,
    configDir,
    analysis: {
      modelRoots: [{ dir: SHIPPED_MODELS, source: 'shipped' }, ...userModels.filter((m) => !isPackage(m)).map((dir) => ({ dir, source: 'user' as const }))],
      modelFolders: userModels.filter(isPackage),
    },
    log: (l) => io.out(l),
  });
  for (const id of srv.opened) io.out(`opened ${(await srv.service.get(id)).name}: ${srv.url}/api/slides/${id}.dzi`);
  for (const r of roots) io.out(`browsable in the Open dialog: ${r}`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.out('glassbox: shutting down');
  await srv.close();
  return 0;
}

/** glassbox serve [--port P] [--host 127.0.0.1] [SLIDE…] — HTTP host with the renderer build; runs until SIGINT. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../main.js';
import { SHIPPED_MODELS, startServer } from '../../server/index.js';

export const summary = 'serve the viewer and the slide API over HTTP on 127.0.0.1 (--port, --host) and open SLIDE…';

const USAGE = 'usage: glassbox serve [--port P] [--host 127.0.0.1] [--models DIR]… [SLIDE…]';
export const DEFAULT_PORT = 8642;

export async function run(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', short: 'p', default: String(DEFAULT_PORT) }, host: { type: 'string', default: '127.0.0.1' }, static: { type: 'string' },
        models: { type: 'string', multiple: true },
      },
    });
  } catch (e) {
    throw new Error(`${(e as Error).message} (${USAGE})`);
  }
  const { values, positionals } = parsed;
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new Error(`--port must be 0..65535 (got '${values.port}')`);
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const staticDir = values.static ? resolve(values.static) : join(repo, 'dist', 'renderer');
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
  const srv = await startServer({
    port: Number(values.port),
    host: values.host,
    staticDir: haveStatic ? staticDir : undefined,
    slides: positionals.map((p) => resolve(p)),
    configDir,
    analysis: {
      modelRoots: [{ dir: SHIPPED_MODELS, source: 'shipped' }, ...userModels.filter((m) => !isPackage(m)).map((dir) => ({ dir, source: 'user' as const }))],
      modelFolders: userModels.filter(isPackage),
    },
    log: (l) => io.out(l),
  });
  for (const id of srv.opened) io.out(`opened ${(await srv.service.get(id)).name}: ${srv.url}/api/slides/${id}.dzi`);
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

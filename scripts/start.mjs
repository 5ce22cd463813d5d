#!/usr/bin/env node
// `npm start`: make sure the Electron binary is there (downloading it once, as the electron package does), build,
// then run the desktop app. When the binary cannot be had, say what happened and offer `npm run serve` instead of
// ending in a bare "fetch failed".
//
//   node scripts/start.mjs [--no-build] [-- ELECTRON ARGS…]
//   GLASSBOX_ELECTRON_DIR  the electron package folder (default: resolved from node_modules; tests point it elsewhere)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Electron 45's installer (@electron/get) and tooling require this Node.js */
export const ELECTRON_NODE = [22, 12];

const say = (line) => process.stderr.write(`glassbox: ${line}\n`);

function electronDir() {
  if (process.env.GLASSBOX_ELECTRON_DIR) return process.env.GLASSBOX_ELECTRON_DIR;
  try {
    return dirname(createRequire(join(REPO, 'package.json')).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/** The Electron executable as the electron package locates it (path.txt, ELECTRON_OVERRIDE_DIST_PATH), or null when missing. */
function electronBinary(dir) {
  const pathFile = join(dir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron');
  if (!rel) return null;
  const bin = join(dir, 'dist', rel);
  return existsSync(bin) ? bin : null;
}

function nodeTooOld() {
  const [maj, min] = process.versions.node.split('.').map(Number);
  return maj < ELECTRON_NODE[0] || (maj === ELECTRON_NODE[0] && min < ELECTRON_NODE[1]);
}

function cannotStart(what) {
  say(`npm start cannot run the desktop app: ${what}.`);
  if (nodeTooOld()) say(`Electron 45's installer needs Node.js ≥ ${ELECTRON_NODE.join('.')} (this is ${process.version}).`);
  say('The same viewer runs in a browser without Electron:');
  say('    npm run serve            then open http://127.0.0.1:8642/');
  say('To retry the desktop app later: check the network or proxy (HTTPS_PROXY, ELECTRON_MIRROR) and run npm start again.');
  return 1;
}

/** Exit code of `npm start`. */
export async function main(argv = process.argv.slice(2)) {
  const dir = electronDir();
  if (!dir || !existsSync(join(dir, 'package.json'))) return cannotStart("the 'electron' package is not installed (run npm install)");
  let bin = electronBinary(dir);
  if (!bin) {
    say('the Electron binary is not downloaded yet: fetching it once…');
    const r = spawnSync(process.execPath, [join(dir, 'install.js')], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    const why = `${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.status}`;
    if (r.error || r.status !== 0) return cannotStart(`the Electron binary could not be downloaded (${r.error?.message ?? why})`);
    bin = electronBinary(dir);
    if (!bin) return cannotStart(`the Electron download finished but left no binary under ${join(dir, 'dist')}`);
  }
  const sep = argv.indexOf('--');
  const own = sep < 0 ? argv : argv.slice(0, sep);
  const extra = sep < 0 ? [] : argv.slice(sep + 1);
  if (!own.includes('--no-build')) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const b = spawnSync(npm, ['run', 'build'], { cwd: REPO, stdio: 'inherit', shell: process.platform === 'win32' });
    if (b.status !== 0) {
      say(`the build failed (npm run build exited with ${b.status ?? b.signal}); not starting the app`);
      return b.status || 1;
    }
  }
  const child = spawn(bin, ['.', ...extra], { cwd: REPO, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => {
    child.on('error', (e) => resolve(cannotStart(`the Electron binary ${bin} did not start (${e.message})`)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();

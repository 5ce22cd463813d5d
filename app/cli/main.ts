/**
 * `glassbox` CLI composition root. Each sub-command lives in ./commands/<name>.ts and exports
 *   export const summary: string;            // one line for `glassbox help`
 *   export async function run(argv: string[], io: CliIO): Promise<number>;  // exit code
 * Errors: a command throws; main prints ONE line "glassbox <cmd>: <message>" to stderr and exits non-zero.
 */
import { VERSION } from './version.js';

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

/**
 * Each command's module, loaded only when that command runs (a literal import per command, so the bundler makes
 * one chunk of each: scripts/build-cli.mjs). A module that is missing (a command still being written in a
 * development tree) is left out of the help listing.
 */
const COMMANDS = {
  info: () => import('./commands/info.js'),
  region: () => import('./commands/region.js'),
  dzi: () => import('./commands/dzi.js'),
  serve: () => import('./commands/serve.js'),
  layers: () => import('./commands/layers.js'),
  explain: () => import('./commands/explain.js'),
  analyze: () => import('./commands/analyze.js'),
  regions: () => import('./commands/regions.js'),
  export: () => import('./commands/export.js'),
  sanity: () => import('./commands/sanity.js'),
  faithfulness: () => import('./commands/faithfulness.js'),
} satisfies Record<string, () => Promise<CommandModule>>;
type CommandName = keyof typeof COMMANDS;

interface CommandModule {
  summary: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

function load(name: CommandName): Promise<CommandModule> {
  return COMMANDS[name]();
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const lines = ['usage: glassbox <command> [options]', '', 'commands:'];
    const names = Object.keys(COMMANDS) as CommandName[];
    const width = Math.max(...names.map((n) => n.length));
    for (const name of names) {
      try {
        lines.push(`  ${name.padEnd(width)}  ${(await load(name)).summary}`);
      } catch {
        /* command not available in this build */
      }
    }
    io.out(lines.join('\n'));
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === 'version') {
    io.out(`glassbox ${VERSION}`);
    return 0;
  }
  if (!isCommand(cmd)) {
    io.err(`glassbox: unknown command '${cmd}' (try 'glassbox help')`);
    return 2;
  }
  try {
    return await (await load(cmd)).run(rest, io);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`glassbox ${cmd}: ${msg.split('\n')[0]}`);
    return 1;
  }
}

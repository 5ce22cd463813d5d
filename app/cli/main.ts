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

const COMMANDS = ['info', 'region', 'dzi', 'serve', 'layers', 'explain', 'analyze', 'regions', 'export', 'sanity', 'faithfulness'] as const;
type CommandName = (typeof COMMANDS)[number];

interface CommandModule {
  summary: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

async function load(name: CommandName): Promise<CommandModule> {
  return (await import(`./commands/${name}.ts`)) as CommandModule;
}

const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const lines = ['usage: glassbox <command> [options]', '', 'commands:'];
    for (const name of COMMANDS) {
      try {
        lines.push(`  ${name.padEnd(8)} ${(await load(name)).summary}`);
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
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    io.err(`glassbox: unknown command '${cmd}' (try 'glassbox help')`);
    return 2;
  }
  try {
    return await (await load(cmd as CommandName)).run(rest, io);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`glassbox ${cmd}: ${msg.split('\n')[0]}`);
    return 1;
  }
}

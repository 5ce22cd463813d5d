/** Small helpers shared by the CLI commands' flag parsing (node:util parseArgs). */

/**
 * `--w -5` -> `--w=-5` for the given numeric flags, so a negative value reaches our validation (with a clear
 * message) instead of parseArgs' "argument is ambiguous".
 */
export function joinNegatives(argv: readonly string[], numericFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (numericFlags.has(argv[i]) && i + 1 < argv.length && /^-[\d.]/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** Small helpers shared by the CLI commands' flag parsing (node:util parseArgs). */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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

/** `--help` / `-h` anywhere before a `--` (checked before parsing, so a command's help works with any other flags). */
export function helpRequested(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** An output file's folder must exist (checked before any work): a clear error naming the folder, not ENOENT. */
export function checkOutDir(flag: string, out: string): void {
  const dir = dirname(resolve(out));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`${flag} '${out}': folder '${dir}' does not exist (create it first)`);
  }
  if (!st.isDirectory()) throw new Error(`${flag} '${out}': '${dir}' is not a folder`);
}

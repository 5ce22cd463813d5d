/**
 * `sharp`, loaded on first use. The compiled CLI (scripts/build-cli.mjs) resolves every `import sharp from 'sharp'`
 * in the bundle to this module, so commands that never touch pixels (`info`, `--version`, `layers`) do not pay for
 * loading libvips and its colour tables (a third of `info`'s start-up). Calls of `sharp(...)` and reads of its
 * properties load the real module; the module-level configuration calls `sharp.cache(...)` / `sharp.concurrency(...)`
 * / `sharp.simd(...)` made before that are replayed on it in order (their return values are not used by the engine).
 */
import { createRequire } from 'node:module';
import type SharpModule from 'sharp';

type Sharp = typeof SharpModule;
const requireSharp = createRequire(import.meta.url);
const DEFERRED = new Set<PropertyKey>(['cache', 'concurrency', 'simd']);
const pending: Array<(s: Sharp) => void> = [];
let real: Sharp | null = null;

function load(): Sharp {
  if (!real) {
    real = requireSharp('sharp') as Sharp;
    for (const replay of pending.splice(0)) replay(real);
  }
  return real;
}

const lazySharp = new Proxy(function lazySharp() {} as unknown as Sharp, {
  apply: (_t, thisArg, args) => Reflect.apply(load(), thisArg, args),
  construct: (_t, args) => Reflect.construct(load(), args) as object,
  get: (_t, prop) => {
    if (!real && DEFERRED.has(prop)) {
      return (...args: unknown[]) => {
        pending.push((s) => (s[prop as 'cache'] as (...a: unknown[]) => unknown)(...args));
        return undefined;
      };
    }
    return Reflect.get(load(), prop) as unknown;
  },
  has: (_t, prop) => Reflect.has(load(), prop),
});

export default lazySharp;

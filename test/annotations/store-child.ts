/**
 * Crash-test child: opens a store and applies the deterministic operation sequence of store-ops.ts forever,
 * printing "<i>\n" after operation i is durable (its promise resolved). The parent kills it with SIGKILL.
 */
import { openAnnotationStore } from '../../main/engine/annotations/index.js';
import { applyOp } from './store-ops.js';

const [dir, key] = process.argv.slice(2);
const store = await openAnnotationStore(dir, key);
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  await applyOp(store, i);
  process.stdout.write(`${i}\n`);
}

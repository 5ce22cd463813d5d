/**
 * `glassbox faithfulness --model M --input X [--layer L] [--class C] [--method m[,m…]] [--steps N]
 *  [--baseline blur|mean] [--sigma PX] [--seed S] [--ep …] --out report.json [--html report.html]`:
 * deletion and insertion curves per patch and their AUCs, several methods on the same patches.
 */
import { writeFileSync } from 'node:fs';
import type { CliIO } from '../main.js';
import { parseFlags, UsageError } from './layers.js';
import { asUsage, COMMON_OPTIONS, intFlag, methodsFlag, outFlag, prepare, progress, spreadInputs } from './sanity.js';
import { TRUST_METHODS } from '../../../main/engine/trust/index.js';

export const summary = 'deletion / insertion curves (AUC) of one or more explanation methods on the same patches';

const USAGE = 'glassbox faithfulness --model M --input X [--layer L] [--class C] '
  + `[--method m[,m…] of ${TRUST_METHODS.join('|')}] [--steps N] [--baseline blur|mean] [--sigma PX] [--seed S] `
  + '[--ep cpu|webgpu|cuda|auto] --out report.json [--html report.html]';

const OPTIONS = { ...COMMON_OPTIONS, steps: { type: 'string' }, baseline: { type: 'string' }, sigma: { type: 'string' } } as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const f = parseFlags(spreadInputs(argv), OPTIONS, USAGE);
  if (f.help) {
    io.out(`usage: ${USAGE}\n`
      + '  Ranks the map\'s cells from most to least salient; deletion replaces them by the baseline step by step, insertion\n'
      + '  puts them back onto the baseline; both track the softmax probability of the explained class (AUC over the\n'
      + '  fraction 0…1: lower deletion and higher insertion = more faithful). A seeded random cell order is the reference.\n'
      + '  --method: comma-separated list (default gradcam); --steps N (default 20); --baseline blur (default; Gaussian,\n'
      + '  --sigma PX, default min(H, W)/40) or mean (each channel\'s mean over the patch); --class C (default: predicted);\n'
      + '  --seed S (random order; default 0); --out report.json (required), --html report.html; progress on stderr');
    return 0;
  }
  const methods = methodsFlag(f.method, true);
  const steps = intFlag('steps', f.steps, 2, 1000) ?? 20;
  const baseline = (f.baseline ?? 'blur') as 'blur' | 'mean';
  if (baseline !== 'blur' && baseline !== 'mean') throw new UsageError(`--baseline '${f.baseline}' is not one of blur, mean`);
  let sigma: number | undefined;
  if (f.sigma !== undefined) {
    sigma = Number(f.sigma);
    if (baseline !== 'blur') throw new UsageError('--sigma is only valid with --baseline blur');
    if (!(Number.isFinite(sigma) && sigma > 0)) throw new UsageError(`--sigma '${f.sigma}' must be a number > 0 (input px)`);
  }
  const seed = intFlag('seed', f.seed, 0, 2 ** 31 - 1) ?? 0;
  if (!f.out) throw new UsageError('--out is required (report.json)');
  outFlag('out', f.out, '.json');
  outFlag('html', f.html, '.html');
  const p = await prepare(f, methods, io);
  const { runFaithfulness, reportHtml } = await import('../../../main/engine/trust/index.js');
  const t0 = Date.now();
  const r = await runFaithfulness({
    model: p.pkg.modelPath, modelName: p.pkg.id, input: p.input, inputNames: p.names, methods, layer: p.layer, target: p.target,
    classNames: p.classNames, seed, steps, baseline, sigma, ep: p.ep, onProgress: progress(io),
  }).catch(asUsage);
  io.out(`model: ${r.model}; ${r.inputs.count} input(s); ${r.steps} steps; baseline: ${r.baseline.description}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  io.out(`${'method'.padEnd(12)} ${'cells'.padStart(9)} ${'deletion AUC'.padStart(13)} ${'insertion AUC'.padStart(14)}`);
  for (const m of r.methods) io.out(`${m.method.padEnd(12)} ${m.cells.join('×').padStart(9)} ${(m.deletion.auc.mean?.toFixed(3) ?? '–').padStart(13)} ${(m.insertion.auc.mean?.toFixed(3) ?? '–').padStart(14)}`);
  io.out(`verdict: ${r.verdict}`);
  writeFileSync(f.out, JSON.stringify(r, null, 1) + '\n');
  io.out(`wrote ${f.out}`);
  if (f.html) { writeFileSync(f.html, reportHtml({ faithfulness: r })); io.out(`wrote ${f.html}`); }
  return 0;
}

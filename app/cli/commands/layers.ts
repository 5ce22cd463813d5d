/**
 * `glassbox layers --model M [--json]`: the candidate Grad-CAM target tensors of a model.
 * Also exports the model-resolution and flag helpers shared with `explain`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_MODELS } from '../paths.js';
import type { CliIO } from '../main.js';
import { loadModelPackage, type ModelPackage } from '../../../main/engine/model/index.js';
import type { TargetLayer } from '../../../main/engine/explain/types.js';

export const summary = 'list a model\'s candidate Grad-CAM target layers (name, op, C×H×W, stride, default)';

/** the shipped packages (models/<id>/) */
export { SHIPPED_MODELS };

/** Thrown for bad command-line usage; the message names the flag. */
export class UsageError extends Error {}

/** node:util parseArgs whose errors name the flag and say what is expected. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  // a negative number after a string flag (`--class -1`) is its value, not an option: pass it as --class=-1
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && i + 1 < argv.length && /^-\d/.test(argv[i + 1])) {
      args.push(`${a}=${argv[++i]}`);
    } else args.push(a);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UsageError(`${msg.replace(/\. To specify a positional argument.*$/, '')} (usage: ${usage})`);
  }
}

/** --model: an .onnx file, a package folder or its config.json, or the id of a shipped package. */
export async function resolveModel(spec: string | undefined): Promise<ModelPackage> {
  if (!spec) throw new UsageError('--model is required (an .onnx file, a model folder / config.json, or a shipped model id)');
  if (!existsSync(spec) && /^[\w.-]+$/.test(spec) && existsSync(join(SHIPPED_MODELS, spec, 'config.json'))) {
    return loadModelPackage(join(SHIPPED_MODELS, spec));
  }
  try {
    return await loadModelPackage(spec);
  } catch (e) {
    throw new UsageError(`--model: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The layer the package asks for, else the engine's default. */
export function defaultLayerName(layers: TargetLayer[], pkg: ModelPackage): string | undefined {
  return pkg.config?.target_layer ?? layers.find((l) => l.isDefault)?.name;
}

const USAGE = 'glassbox layers --model M [--json]';

export async function run(argv: string[], io: CliIO): Promise<number> {
  const flags = parseFlags(argv, { model: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (flags.help) {
    io.out(`usage: ${USAGE}\n  M: an .onnx file, a model folder or its config.json (WSInfer zoo format), or a shipped model id`);
    return 0;
  }
  const pkg = await resolveModel(flags.model as string | undefined);
  const { listTargetLayers } = await import('../../../main/engine/explain/index.js');
  const layers: TargetLayer[] = await listTargetLayers(pkg.modelPath);
  const def = defaultLayerName(layers, pkg);
  if (pkg.config?.target_layer && !layers.some((l) => l.name === pkg.config?.target_layer)) {
    io.err(`warning: ${pkg.configPath}: target_layer '${pkg.config.target_layer}' is not among the candidate layers`);
  }
  if (flags.json) {
    io.out(JSON.stringify({
      model: pkg.modelPath,
      config: pkg.configPath,
      default: def ?? null,
      layers: layers.map((l) => ({ ...l, packageDefault: l.name === pkg.config?.target_layer })),
    }, null, 2));
    return 0;
  }
  const rows = layers.map((l) => [l.name === def ? '*' : '', l.name, l.opType, `${l.channels}×${l.height}×${l.width}`, String(l.stride)]);
  const head = ['', 'name', 'op', 'C×H×W', 'stride'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  io.out(`model: ${pkg.modelPath}${pkg.configPath ? ` (package ${pkg.id})` : ''}`);
  io.out(line(head));
  for (const r of rows) io.out(line(r));
  io.out(`${layers.length} candidate layer(s); * = default${pkg.config?.target_layer ? ' (config.json target_layer)' : ' (last before global pooling)'}`);
  return 0;
}

/**
 * Model package config: WSInfer zoo `config.json` (spec 1.0) accepted as is, with Glassbox's optional fields
 * beside it (`model_path`, `target_layer`, `stride`, `description`). Validated with zod; errors name the file
 * and the offending field.
 */
import { z } from 'zod';

const posInt = z.number().int().positive();

const resizeArgs = z.looseObject({
  size: z.union([posInt, z.tuple([posInt]), z.tuple([posInt, posInt])]),
  interpolation: z.union([z.literal('bilinear'), z.literal('BILINEAR'), z.literal(2)]).optional()
    .describe('only bilinear (torchvision InterpolationMode.BILINEAR, PIL value 2) is supported'),
  max_size: posInt.nullable().optional(),
  antialias: z.union([z.boolean(), z.null(), z.string()]).optional(),
});

const triple = z.tuple([z.number(), z.number(), z.number()]);
const normalizeArgs = z.looseObject({
  mean: triple,
  std: triple.refine((s) => s.every((v) => v !== 0), { message: 'std must not contain 0' }),
  inplace: z.boolean().optional(),
});

export const transformSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('Resize'), arguments: resizeArgs }),
  z.strictObject({ name: z.literal('ToTensor'), arguments: z.looseObject({}).optional() }),
  z.strictObject({ name: z.literal('Normalize'), arguments: normalizeArgs }),
]);
export type Transform = z.infer<typeof transformSchema>;

export const modelConfigSchema = z
  .looseObject({
    spec_version: z.literal('1.0'),
    architecture: z.string().min(1),
    num_classes: posInt,
    class_names: z.array(z.string().min(1)),
    patch_size_pixels: posInt,
    spacing_um_px: z.number().positive(),
    transform: z.array(transformSchema),
    // Glassbox's optional fields
    model_path: z.string().min(1).optional(),
    target_layer: z.string().min(1).optional(),
    stride: posInt.optional(),
    description: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.class_names.length !== c.num_classes) {
      ctx.addIssue({ code: 'custom', path: ['class_names'], message: `has ${c.class_names.length} names but num_classes is ${c.num_classes}` });
    }
    const dup = c.class_names.find((n, i) => c.class_names.indexOf(n) !== i);
    if (dup !== undefined) ctx.addIssue({ code: 'custom', path: ['class_names'], message: `duplicate class name '${dup}'` });
    // transform order: Resize* (on the image), ToTensor, Normalize* (on the tensor)
    let seenToTensor = false;
    c.transform.forEach((t, i) => {
      if (t.name === 'ToTensor') {
        if (seenToTensor) ctx.addIssue({ code: 'custom', path: ['transform', i], message: 'ToTensor appears twice' });
        seenToTensor = true;
      } else if (t.name === 'Resize' && seenToTensor) {
        ctx.addIssue({ code: 'custom', path: ['transform', i], message: 'Resize after ToTensor is not supported (resize the image before ToTensor)' });
      } else if (t.name === 'Normalize' && !seenToTensor) {
        ctx.addIssue({ code: 'custom', path: ['transform', i], message: 'Normalize before ToTensor is not supported' });
      }
    });
    if (!seenToTensor) ctx.addIssue({ code: 'custom', path: ['transform'], message: 'needs a ToTensor step' });
    if (c.model_path !== undefined && (c.model_path.includes('..') || c.model_path.startsWith('/'))) {
      ctx.addIssue({ code: 'custom', path: ['model_path'], message: `must be a path inside the package folder, got '${c.model_path}'` });
    }
  });
export type ModelConfig = z.infer<typeof modelConfigSchema>;

export class ModelPackageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelPackageError';
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(root)';
}

/** Validate a parsed config object; throws ModelPackageError naming the file and every bad field. */
export function parseModelConfig(raw: unknown, where = 'config.json'): ModelConfig {
  const r = modelConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 6).map((i) => {
    const detail = i.code === 'invalid_union' && i.path.length >= 1 && i.path[0] === 'transform'
      ? `${i.message} (each step is {name: Resize|ToTensor|Normalize, arguments})`
      : i.message;
    return `${fieldPath(i.path)}: ${detail}`;
  });
  const more = r.error.issues.length > 6 ? `; and ${r.error.issues.length - 6} more` : '';
  throw new ModelPackageError(`${where}: invalid model config: ${issues.join('; ')}${more}`);
}

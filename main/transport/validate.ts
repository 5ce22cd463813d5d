/** zod schemas for every input of the API. */
import { z } from 'zod';
import { MPP_OVERRIDE_RANGE, SLIDE_ID_RE } from '../contract/slides.js';
import { ANALYSIS_ID_RE, CAM_METHOD_DTOS, type CamMethodDTO } from '../contract/analysis.js';
import { HttpError } from './respond.js';
import { REGION_LIMITS } from '../services/host.js';

export const MAX_JSON_BYTES = 64 * 1024;
export const MAX_INT = 2 ** 31 - 1;

export const slideId = z.string().regex(SLIDE_ID_RE, 'invalid slide id (expected 8-64 characters of A-Z a-z 0-9 _ -)');
/** a path segment holding a non-negative integer */
export const index = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a non-negative integer')
  .transform(Number)
  .pipe(z.number().int().min(0).max(MAX_INT));
const intParam = z
  .string()
  .regex(/^-?\d{1,10}$/, 'must be an integer')
  .transform(Number)
  .pipe(z.number().int().min(-MAX_INT).max(MAX_INT));
export const associatedName = z.string().regex(/^[A-Za-z0-9 _.-]{1,64}$/, 'invalid associated image name');

const side = index.pipe(z.number().int().min(1, 'must be ≥ 1').max(REGION_LIMITS.maxSide, `must be ≤ ${REGION_LIMITS.maxSide}`));
export const regionQuery = z
  .object({ x: intParam, y: intParam, w: side, h: side, level: index })
  .refine((q) => q.w * q.h <= REGION_LIMITS.maxPixels, { message: `w × h must be ≤ ${REGION_LIMITS.maxPixels} pixels` });

export const openBody = z.object({ path: z.string().min(1, 'must not be empty').max(4096, 'is too long') });

/** GET /api/browse?path=ABSOLUTE (no path: the roots); the service checks that it lies inside a root */
export const browseQuery = z.strictObject({
  path: z
    .string()
    .min(1, 'must not be empty')
    .max(4096, 'is too long')
    .refine((p) => !p.includes('\0'), 'must not contain NUL')
    .refine((p) => !p.split(/[\\/]/).includes('..'), "must not contain '..'")
    .optional(),
});

const { min: MPP_MIN, max: MPP_MAX } = MPP_OVERRIDE_RANGE;
const mppValue = z.number().finite().min(MPP_MIN, `must be at least ${MPP_MIN} µm/px`).max(MPP_MAX, `must be at most ${MPP_MAX} µm/px`);
export const mppBody = z.object({ mpp: z.union([z.null(), z.object({ x: mppValue, y: mppValue })]) });

function describe(err: z.ZodError, what: string): string {
  return `${what}: ` + err.issues.map((i) => (i.path.length ? `${i.path.join('.')} ${i.message}` : i.message)).join('; ');
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError('BAD_REQUEST', describe(r.error, what));
  return r.data;
}

/** Reads a text body of at most `max` bytes (413 LIMIT beyond). */
export async function readText(req: Request, max: number = MAX_JSON_BYTES): Promise<string> {
  const len = Number(req.headers.get('content-length') ?? '0');
  if (len > max) throw new HttpError('LIMIT', `request body is too large (${len} bytes; at most ${max})`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw new HttpError('LIMIT', `request body is too large (more than ${max} bytes)`);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a JSON body with a size limit; malformed JSON is a 400. */
export async function readJson(req: Request, max: number = MAX_JSON_BYTES): Promise<unknown> {
  const textBody = await readText(req, max);
  if (textBody.trim() === '') throw new HttpError('BAD_REQUEST', 'request body is empty (expected JSON)');
  try {
    return JSON.parse(textBody);
  } catch (e) {
    throw new HttpError('BAD_REQUEST', `malformed JSON body: ${(e as Error).message}`);
  }
}

// ---- analyses (main/contract/analysis.ts)
export const analysisId = z.string().regex(ANALYSIS_ID_RE, 'invalid analysis id (expected 8-64 characters of A-Z a-z 0-9 _ -)');
export const modelId = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'invalid model id');
const rect = z.object({
  x: z.number().int().min(-MAX_INT).max(MAX_INT), y: z.number().int().min(-MAX_INT).max(MAX_INT),
  w: z.number().int().min(1, 'must be ≥ 1').max(MAX_INT), h: z.number().int().min(1, 'must be ≥ 1').max(MAX_INT),
}).strict();
export const startAnalysisBody = z.object({
  slideId,
  modelId,
  classes: z.union([z.literal('all'), z.array(z.string().min(1).max(200)).min(1, 'name at least one class').max(1000)]),
  method: z.enum(CAM_METHOD_DTOS as unknown as [CamMethodDTO, ...CamMethodDTO[]]),
  signed: z.boolean().optional(),
  layer: z.string().min(1).max(1000).optional(),
  overlap: z.number().min(0).lt(1, 'must be < 1').optional(),
  minTissue: z.number().min(0).max(1).optional(),
  region: rect.optional(),
  priority: rect.optional(),
  batch: z.number().int().min(1).max(1024).optional(),
}).strict().refine((b) => !b.signed || b.method === 'gradcam', { message: 'signed maps exist for method gradcam only', path: ['signed'] });
export const analysisActionBody = z.object({
  action: z.enum(['pause', 'resume', 'cancel', 'prioritize']),
  roi: rect.optional(),
}).strict().refine((b) => b.action !== 'prioritize' || b.roi !== undefined, { message: 'prioritize needs roi {x, y, w, h}', path: ['roi'] });
export const explainPatchBody = z.object({
  modelId,
  x: z.number().finite().min(-MAX_INT).max(MAX_INT),
  y: z.number().finite().min(-MAX_INT).max(MAX_INT),
  class: z.string().min(1).max(200).optional(),
  method: z.enum(CAM_METHOD_DTOS as unknown as [CamMethodDTO, ...CamMethodDTO[]]),
  signed: z.boolean().optional(),
  layer: z.string().min(1).max(1000).optional(),
}).strict().refine((b) => !b.signed || b.method === 'gradcam', { message: 'signed maps exist for method gradcam only', path: ['signed'] });

/** zod schemas of the /api/trust routes. */
import { z } from 'zod';
import { SLIDE_ID_RE } from '../contract/slides.js';
import { TRUST_ID_RE, TRUST_MAX_PATCHES, TRUST_METHOD_DTOS, type TrustMethodDTO } from '../contract/trust.js';
import { MAX_INT, modelId } from './validate.js';

export const trustId = z.string().regex(TRUST_ID_RE, 'invalid trust job id (expected 8-64 characters of A-Z a-z 0-9 _ -)');
const point = z.object({ x: z.number().finite().min(0).max(MAX_INT), y: z.number().finite().min(0).max(MAX_INT) }).strict();
export const trustRunBody = z.object({
  slideId: z.string().regex(SLIDE_ID_RE, 'invalid slide id'),
  modelId,
  points: z.array(point).min(1, 'give at least one patch centre').max(TRUST_MAX_PATCHES, `at most ${TRUST_MAX_PATCHES} patches`),
  method: z.enum(TRUST_METHOD_DTOS as unknown as [TrustMethodDTO, ...TrustMethodDTO[]]),
  layer: z.string().min(1).max(1000).optional(),
  class: z.string().min(1).max(200).optional(),
  mode: z.enum(['cascading', 'independent']).optional(),
  seed: z.number().int().min(0).max(MAX_INT).optional(),
  faithfulness: z.boolean().optional(),
  steps: z.number().int().min(2).max(200).optional(),
}).strict();

/** zod schemas of the /api/trust routes. */
import { z } from 'zod';
import { SLIDE_ID_RE } from '../contract/slides.js';
import { TRUST_ID_RE, TRUST_MAX_PATCHES, TRUST_METHOD_DTOS, TRUST_REGION_LIMITS, type TrustMethodDTO } from '../contract/trust.js';
import { MAX_INT, modelId } from './validate.js';

export const trustId = z.string().regex(TRUST_ID_RE, 'invalid trust job id (expected 8-64 characters of A-Z a-z 0-9 _ -)');
const point = z.object({ x: z.number().finite().min(0).max(MAX_INT), y: z.number().finite().min(0).max(MAX_INT) }).strict();
const V = TRUST_REGION_LIMITS.vertices;
const coord = z.number().finite('coordinates must be finite numbers').min(-MAX_INT).max(MAX_INT);
const ring = z.array(z.tuple([coord, coord]), 'a ring is a list of [x, y] positions').min(3, 'a ring needs at least 3 positions').max(V, `at most ${V} vertices`);
const rings = z.array(ring).min(1, 'a polygon needs an exterior ring').max(TRUST_REGION_LIMITS.rings, `at most ${TRUST_REGION_LIMITS.rings} rings`);
const regionGeometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: rings }).strict(),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(rings).min(1, 'give at least one polygon').max(TRUST_REGION_LIMITS.rings, `at most ${TRUST_REGION_LIMITS.rings} polygons`) }).strict(),
], 'a region is a Polygon or a MultiPolygon (an area annotation; points and lines have no patches inside)').superRefine((g, ctx) => {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let n = 0, r = 0;
  for (const p of polys) for (const ring of p) { n += ring.length; r++; }
  if (n > V) ctx.addIssue({ code: 'custom', message: `the region has ${n} vertices: at most ${V} (simplify the annotation)` });
  if (r > TRUST_REGION_LIMITS.rings) ctx.addIssue({ code: 'custom', message: `the region has ${r} rings: at most ${TRUST_REGION_LIMITS.rings}` });
});
const region = z.object({ name: z.string().max(500), geometry: regionGeometry }).strict();
export const trustRunBody = z.object({
  slideId: z.string().regex(SLIDE_ID_RE, 'invalid slide id'),
  modelId,
  points: z.array(point).min(1, 'give at least one patch centre').max(TRUST_MAX_PATCHES, `at most ${TRUST_MAX_PATCHES} patches`).optional(),
  region: region.optional(),
  method: z.enum(TRUST_METHOD_DTOS as unknown as [TrustMethodDTO, ...TrustMethodDTO[]]),
  layer: z.string().min(1).max(1000).optional(),
  class: z.string().min(1).max(200).optional(),
  mode: z.enum(['cascading', 'independent']).optional(),
  seed: z.number().int().min(0).max(MAX_INT).optional(),
  faithfulness: z.boolean().optional(),
  steps: z.number().int().min(2).max(200).optional(),
}).strict().refine((b) => (b.points === undefined) !== (b.region === undefined), 'give either points (patch centres) or region, not both');

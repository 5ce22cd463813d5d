/**
 * The annotation routes of the shared handler (main/contract/annotations.ts annotationUrls), each input checked
 * with zod: ids, coordinates finite and bounded, vertex and annotation counts, string lengths, body sizes.
 */
import { z } from 'zod';
import { ANNOTATION_LIMITS as L, ANNOTATION_FORMAT_FILES, type AnnotationFormatDTO, type AnnotationService } from '../contract/annotations.js';
import { COLORMAPS, type ColormapName, type DisplayMode } from '../contract/colormap.js';
import { HttpError, bytes, json, text } from './respond.js';
import { analysisId, parse, readJson, readText, slideId } from './validate.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Ctx { req: Request; url: URL; m: RegExpMatchArray; signal: AbortSignal }
interface Route { re: RegExp; methods: Partial<Record<Method, (c: Ctx) => Promise<Response>>> }

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const annotationId = z.string().regex(UUID_RE, 'must be a UUID (8-4-4-4-12 hex digits)');
const coord = z.number().finite().min(-L.maxCoordinate).max(L.maxCoordinate);
const position = z.tuple([coord, coord]);
const V = L.verticesPerAnnotation;
const ring = z.array(position).min(4, 'a ring needs at least 4 positions (closed)').max(V);
const geometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Point'), coordinates: position }).strict(),
  z.object({ type: z.literal('MultiPoint'), coordinates: z.array(position).min(1).max(V) }).strict(),
  z.object({ type: z.literal('LineString'), coordinates: z.array(position).min(2).max(V) }).strict(),
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1).max(10_000) }).strict(),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1).max(10_000)).min(1).max(10_000) }).strict(),
]).superRefine((g, ctx) => {
  const n = g.type === 'Point' ? 1 : g.type === 'Polygon' ? g.coordinates.reduce((s, r) => s + r.length, 0)
    : g.type === 'MultiPolygon' ? g.coordinates.reduce((s, p) => s + p.reduce((t, r) => t + r.length, 0), 0) : g.coordinates.length;
  if (n > V) ctx.addIssue({ code: 'custom', message: `has ${n} vertices (at most ${V})` });
});
const size = z.number().finite().positive('must be > 0').max(L.maxCoordinate);
const shape = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('rectangle'), x: coord, y: coord, width: size, height: size }).strict(),
  z.object({ kind: z.literal('ellipse'), cx: coord, cy: coord, rx: size, ry: size }).strict(),
  z.object({ kind: z.enum(['polygon', 'multipolygon', 'point', 'polyline', 'freehand']) }).strict(),
]);
const byte = z.number().int().min(0).max(255);
const annotationClass = z.object({ name: z.string().min(1, 'must not be empty').max(200), color: z.tuple([byte, byte, byte]) }).strict();
const str = (n: number) => z.string().max(n);
const provenance = z.discriminatedUnion('source', [
  z.object({ source: z.literal('drawn') }).strict(),
  z.object({ source: z.literal('import'), format: z.enum(['geojson', 'asap']), file: str(255).optional() }).strict(),
  z.object({
    source: z.literal('heatmap'),
    heatmap: z.object({
      dir: str(4096).optional(), file: str(255), class: str(200), method: str(40).optional(), layer: str(1000).optional(), model: str(255).optional(),
      modelSha256: str(64).optional(), slideSha256: str(64).optional(),
    }).strict(),
    threshold: z.number().finite(), percentile: z.number().finite().optional(), minAreaUm2: z.number().finite().optional(),
    smoothCells: z.number().finite().optional(), simplifyCells: z.number().finite().optional(),
  }).strict(),
]);
const annotationInput = z.object({
  id: annotationId,
  shape,
  geometry: geometry.optional(),
  name: z.string().max(L.nameChars).optional(),
  description: z.string().max(L.descriptionChars).optional(),
  classification: annotationClass.nullable().optional(),
  isLocked: z.boolean().optional(),
  provenance: provenance.optional(),
}).strict().refine((a) => a.geometry !== undefined || a.shape.kind === 'rectangle' || a.shape.kind === 'ellipse', {
  message: 'geometry is required for this shape kind', path: ['geometry'],
});
const ids = z.array(annotationId).min(1, 'name at least one id').max(L.annotationsPerRequest);
const heatmapRef = z.object({ analysisId, classIndex: z.number().int().min(0).max(100_000), threshold: z.number().finite().optional() }).strict();

export const putAnnotationsBody = z.object({ annotations: z.array(annotationInput).min(1).max(L.annotationsPerRequest) }).strict();
export const deleteAnnotationsBody = z.object({ ids }).strict();
export const setClassesBody = z.object({ classes: z.array(annotationClass).max(L.classes) }).strict();
export const measureBody = z.object({ ids: ids.optional(), heatmap: heatmapRef.optional() }).strict();
export const regionsBody = z.object({
  analysisId,
  classIndex: z.number().int().min(0).max(100_000),
  threshold: z.number().finite(),
  percentile: z.boolean().optional(),
  minAreaUm2: z.number().finite().min(0).max(1e12).optional(),
  smoothCells: z.number().finite().min(0).max(20, 'must be ≤ 20 cells').optional(),
  classification: annotationClass.nullable().optional(),
}).strict().refine((b) => !b.percentile || (b.threshold >= 0 && b.threshold <= 100), { message: 'a percentile must be 0..100', path: ['threshold'] });
const exportQuery = z.object({
  ids: z.string().max(L.annotationsPerRequest * 37).transform((s) => s.split(',')).pipe(ids).optional(),
  analysisId: analysisId.optional(),
  classIndex: z.string().regex(/^\d{1,6}$/, 'must be a non-negative integer').transform(Number).optional(),
  threshold: z.string().max(40).transform(Number).pipe(z.number().finite()).optional(),
}).strict().refine((q) => (q.analysisId === undefined) === (q.classIndex === undefined), { message: 'analysisId and classIndex go together' });
const importQuery = z.object({ name: z.string().max(255).optional() }).strict();
const qnum = (min: number, max: number) => z.string().max(40).transform(Number).pipe(z.number().finite().min(min).max(max));
const qbool = z.enum(['0', '1']).transform((v) => v === '1');
const OVERLAY_KEYS = ['analysisId', 'classIndex', 'colormap', 'mode', 'hi', 'threshold', 'opacity', 'smooth'] as const;
export const cropQuery = z.object({
  mpp: qnum(0.01, 1000).optional(),
  downsample: qnum(0.25, 1e6).optional(),
  margin: qnum(0, 10_000).optional(),
  outline: qbool.optional(),
  scaleBar: qbool.optional(),
  analysisId: analysisId.optional(),
  classIndex: z.string().regex(/^\d{1,6}$/, 'must be a non-negative integer').transform(Number).optional(),
  colormap: z.enum(COLORMAPS as unknown as [ColormapName, ...ColormapName[]]).optional(),
  mode: z.enum(['for', 'against', 'signed', 'probability'] as [DisplayMode, ...DisplayMode[]]).optional(),
  hi: qnum(1e-30, 1e30).optional(),
  threshold: qnum(-1e30, 1e30).optional(),
  opacity: qnum(0, 1).optional(),
  smooth: qbool.optional(),
}).strict()
  .refine((q) => (q.mpp === undefined) !== (q.downsample === undefined), { message: 'give one of mpp (µm/px) or downsample' })
  .refine((q) => OVERLAY_KEYS.every((k) => q[k] === undefined) || OVERLAY_KEYS.every((k) => q[k] !== undefined), { message: `an overlay needs all of ${OVERLAY_KEYS.join(', ')}` });

const SEG = '([^/]+)';
const FORMATS = Object.keys(ANNOTATION_FORMAT_FILES).join('|');

/** a Content-Disposition for a download, ASCII fallback plus the UTF-8 name */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function annotationRoutes(svc: AnnotationService | undefined): Route[] {
  if (!svc) return [];
  const sid = (c: Ctx) => parse(slideId, c.m[1], 'slide id');
  const body = (c: Ctx) => readJson(c.req, L.bodyBytes);
  const base = `^/api/slides/${SEG}/annotations`;
  return [
    {
      re: new RegExp(`${base}$`),
      methods: {
        GET: async (c) => json(await svc.get(sid(c))),
        POST: async (c) => {
          const id = sid(c);
          return json(await svc.put(id, parse(putAnnotationsBody, await body(c), 'annotations')));
        },
      },
    },
    {
      re: new RegExp(`${base}/delete$`),
      methods: { POST: async (c) => { const id = sid(c); return json(await svc.remove(id, parse(deleteAnnotationsBody, await body(c), 'delete'))); } },
    },
    {
      re: new RegExp(`${base}/classes$`),
      methods: { PUT: async (c) => { const id = sid(c); return json(await svc.setClasses(id, parse(setClassesBody, await body(c), 'classes'))); } },
    },
    {
      re: new RegExp(`${base}/measure$`),
      methods: { POST: async (c) => { const id = sid(c); return json(await svc.measure(id, parse(measureBody, await body(c), 'measure'))); } },
    },
    {
      re: new RegExp(`${base}/regions$`),
      methods: { POST: async (c) => { const id = sid(c); return json(await svc.regionsFromHeatmap(id, parse(regionsBody, await body(c), 'regions'))); } },
    },
    {
      re: new RegExp(`${base}/export\\.${SEG}$`),
      methods: {
        GET: async (c) => {
          const id = sid(c);
          const format = c.m[2] as AnnotationFormatDTO;
          if (!new RegExp(`^(${FORMATS})$`).test(format)) throw new HttpError('NOT_FOUND', `export format '${format.slice(0, 20)}' is not one of ${FORMATS.replaceAll('|', ', ')}`);
          const q = parse(exportQuery, Object.fromEntries(c.url.searchParams), 'export');
          const heat = q.analysisId !== undefined ? { analysisId: q.analysisId, classIndex: q.classIndex!, threshold: q.threshold } : undefined;
          const f = await svc.exportText(id, format, q.ids, heat);
          return text(f.text, `${f.mime}; charset=utf-8`, 'no-store', { 'Content-Disposition': attachment(f.filename) });
        },
      },
    },
    {
      re: new RegExp(`${base}/${SEG}/crop\\.(png|tiff)$`),
      methods: {
        GET: async (c) => {
          const id = sid(c);
          const ann = parse(annotationId, c.m[2], 'annotation id');
          const q = parse(cropQuery, Object.fromEntries(c.url.searchParams), 'crop');
          const overlay = q.analysisId !== undefined ? {
            analysisId: q.analysisId, classIndex: q.classIndex!, colormap: q.colormap!, mode: q.mode!, hi: q.hi!, threshold: q.threshold!, opacity: q.opacity!, smooth: q.smooth!,
          } : undefined;
          const f = await svc.crop(id, ann, c.m[3] as 'png' | 'tiff', { mpp: q.mpp, downsample: q.downsample, margin: q.margin, outline: q.outline, scaleBar: q.scaleBar, overlay });
          return bytes(f.bytes, f.mime, 'no-store', { 'Content-Disposition': attachment(f.filename) });
        },
      },
    },
    {
      re: new RegExp(`${base}/import\\.${SEG}$`),
      methods: {
        POST: async (c) => {
          const id = sid(c);
          const format = c.m[2];
          if (format !== 'geojson' && format !== 'asap') throw new HttpError('NOT_FOUND', `import format '${format.slice(0, 20)}' is not one of geojson, asap`);
          const q = parse(importQuery, Object.fromEntries(c.url.searchParams), 'import');
          const t = await readText(c.req, L.importBytes);
          if (t.trim() === '') throw new HttpError('BAD_REQUEST', 'import: the file is empty');
          return json(await svc.importText(id, format, t, q.name));
        },
      },
    },
  ];
}

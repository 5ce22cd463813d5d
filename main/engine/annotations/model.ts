/**
 * Building and validating annotations. Everything that enters the store or comes out of an import passes through
 * validateAnnotation / validateGeometry: finite coordinates, closed rings of ≥ 4 positions, bounded vertex counts,
 * and the shape kind consistent with the geometry type. Errors are AnnotationError with a path to the problem.
 */
import { randomUUID } from 'node:crypto';
import { isClosed, orientRing } from './geom.js';
import {
  AnnotationError, type Annotation, type AnnotationClass, type Geometry, type ImportLimits, type Position, type Provenance,
  type Rgb, type Shape, type ShapeKind,
} from './types.js';

export const ELLIPSE_VERTICES = 72;

export const DEFAULT_LIMITS: ImportLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxAnnotations: 200_000,
  maxVerticesTotal: 10_000_000,
  maxVerticesPerAnnotation: 2_000_000,
  maxCoordinate: 1e9,
};

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** rectangle/ellipse → their Polygon; null for kinds whose geometry is the source of truth */
export function shapeGeometry(shape: Shape): Geometry | null {
  if (shape.kind === 'rectangle') {
    const { x, y, width: w, height: h } = shape;
    return { type: 'Polygon', coordinates: [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]] };
  }
  if (shape.kind === 'ellipse') {
    const ring: Position[] = [];
    for (let k = 0; k < ELLIPSE_VERTICES; k++) {
      const t = (2 * Math.PI * k) / ELLIPSE_VERTICES;
      ring.push([shape.cx + shape.rx * Math.cos(t), shape.cy + shape.ry * Math.sin(t)]);
    }
    ring.push([ring[0][0], ring[0][1]]);
    return { type: 'Polygon', coordinates: [ring] };
  }
  return null;
}

/** the geometry types each shape kind may have */
const KIND_TYPES: Record<ShapeKind, Geometry['type'][]> = {
  rectangle: ['Polygon'], ellipse: ['Polygon'], polygon: ['Polygon'], freehand: ['Polygon'],
  multipolygon: ['MultiPolygon', 'Polygon'], point: ['Point', 'MultiPoint'], polyline: ['LineString'],
};

/** the natural shape kind of a geometry */
export function kindOf(g: Geometry): Shape {
  switch (g.type) {
    case 'Point': case 'MultiPoint': return { kind: 'point' };
    case 'LineString': return { kind: 'polyline' };
    case 'Polygon': return { kind: 'polygon' };
    case 'MultiPolygon': return { kind: 'multipolygon' };
  }
}

export interface NewAnnotation {
  shape: Shape;
  geometry?: Geometry;
  name?: string;
  description?: string;
  classification?: AnnotationClass | null;
  isLocked?: boolean;
  measurements?: Record<string, number>;
  provenance?: Provenance;
  color?: Rgb;
  metadata?: Record<string, string>;
  id?: string;
  now?: Date;
}

/** a new, validated annotation; rectangle/ellipse geometry is derived from the shape */
export function newAnnotation(init: NewAnnotation): Annotation {
  const geometry = shapeGeometry(init.shape) ?? init.geometry;
  if (!geometry) throw new AnnotationError('BAD_INPUT', `a ${init.shape.kind} needs a geometry`);
  const t = (init.now ?? new Date()).toISOString();
  const a: Annotation = {
    id: init.id ?? randomUUID(),
    shape: init.shape,
    geometry,
    name: init.name ?? '',
    description: init.description ?? '',
    classification: init.classification ?? null,
    isLocked: init.isLocked ?? false,
    measurements: init.measurements ?? {},
    provenance: init.provenance ?? { source: 'drawn' },
    createdAt: t,
    updatedAt: t,
  };
  if (init.color) a.color = init.color;
  if (init.metadata) a.metadata = init.metadata;
  return validateAnnotation(a);
}

const fail = (path: string, what: string): never => {
  throw new AnnotationError('BAD_INPUT', `${path}: ${what}`);
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** counts positions without trusting the structure (bounded work before the real validation) */
export function countPositions(coords: unknown, depth: number, limit: number, path: string): number {
  if (!Array.isArray(coords)) fail(path, 'coordinates must be an array');
  if (depth === 0) return 1;
  let n = 0;
  for (const c of coords as unknown[]) {
    n += countPositions(c, depth - 1, limit - n, path);
    if (n > limit) {
      throw new AnnotationError('TOO_LARGE', `${path}: more than ${limit.toLocaleString('en-US')} vertices (the import limit)`);
    }
  }
  return n;
}

const DEPTH: Record<Geometry['type'], number> = { Point: 0, MultiPoint: 1, LineString: 1, Polygon: 2, MultiPolygon: 3 };

function position(v: unknown, path: string, max: number): Position {
  if (!Array.isArray(v) || v.length < 2 || v.length > 3) fail(path, 'a position must be [x, y] (or [x, y, z])');
  const [x, y] = v as unknown[];
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) fail(path, 'coordinates must be finite numbers');
  if (Math.abs(x as number) > max || Math.abs(y as number) > max) fail(path, `coordinate beyond ±${max} px`);
  return [x as number, y as number];
}

function ring(v: unknown, path: string, max: number, exterior: boolean, warn?: (w: string) => void): Position[] {
  if (!Array.isArray(v)) fail(path, 'a ring must be an array of positions');
  const pts = (v as unknown[]).map((p, i) => position(p, `${path}[${i}]`, max));
  if (pts.length > 0 && !isClosed(pts)) {
    warn?.(`${path}: ring was not closed; closed it`);
    pts.push([pts[0][0], pts[0][1]]);
  }
  if (pts.length < 4) fail(path, 'a polygon ring needs at least 3 distinct vertices');
  const out = orientRing(pts, exterior);
  const changed = out.some((p, i) => p[0] !== pts[i][0] || p[1] !== pts[i][1]);
  if (changed) warn?.(`${path}: ring orientation reversed to the ${exterior ? 'exterior' : 'hole'} convention`);
  return out;
}

/**
 * Validates and normalises a GeoJSON-style geometry (rings closed and oriented; a third coordinate dropped).
 * Unknown types are UNKNOWN_GEOMETRY; over-limit vertex counts TOO_LARGE; anything else BAD_INPUT.
 */
export function validateGeometry(g: unknown, path: string, limits: ImportLimits = DEFAULT_LIMITS, warn?: (w: string) => void): { geometry: Geometry; vertices: number } {
  if (!isObj(g)) fail(path, 'geometry must be an object');
  const o = g as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !(type in DEPTH)) {
    throw new AnnotationError('UNKNOWN_GEOMETRY', `${path}: unsupported geometry type ${JSON.stringify(type)} (supported: Point, MultiPoint, LineString, Polygon, MultiPolygon)`);
  }
  const t = type as Geometry['type'];
  const vertices = countPositions(o.coordinates, DEPTH[t], limits.maxVerticesPerAnnotation, `${path}.coordinates`);
  const max = limits.maxCoordinate;
  const c = o.coordinates as unknown[];
  const p = `${path}.coordinates`;
  let geometry: Geometry;
  switch (t) {
    case 'Point': geometry = { type: t, coordinates: position(c, p, max) }; break;
    case 'MultiPoint':
      if (c.length === 0) fail(p, 'a MultiPoint needs at least one point');
      geometry = { type: t, coordinates: c.map((q, i) => position(q, `${p}[${i}]`, max)) }; break;
    case 'LineString':
      if (c.length < 2) fail(p, 'a LineString needs at least 2 positions');
      geometry = { type: t, coordinates: c.map((q, i) => position(q, `${p}[${i}]`, max)) }; break;
    case 'Polygon':
      if (c.length === 0) fail(p, 'a Polygon needs an exterior ring');
      geometry = { type: t, coordinates: c.map((r, i) => ring(r, `${p}[${i}]`, max, i === 0, warn)) }; break;
    case 'MultiPolygon':
      if (c.length === 0) fail(p, 'a MultiPolygon needs at least one polygon');
      geometry = {
        type: t,
        coordinates: c.map((poly, j) => {
          if (!Array.isArray(poly) || poly.length === 0) fail(`${p}[${j}]`, 'a polygon needs an exterior ring');
          return (poly as unknown[]).map((r, i) => ring(r, `${p}[${j}][${i}]`, max, i === 0, warn));
        }),
      };
      break;
  }
  return { geometry, vertices };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function validateShape(s: unknown, path: string): Shape {
  if (!isObj(s) || typeof s.kind !== 'string' || !(s.kind in KIND_TYPES)) return fail(path, `unknown shape kind ${JSON.stringify(isObj(s) ? s.kind : s)}`);
  if (s.kind === 'rectangle') {
    if (![s.x, s.y, s.width, s.height].every(finite) || (s.width as number) < 0 || (s.height as number) < 0) fail(path, 'a rectangle needs finite x, y and width, height ≥ 0');
    return { kind: 'rectangle', x: s.x as number, y: s.y as number, width: s.width as number, height: s.height as number };
  }
  if (s.kind === 'ellipse') {
    if (![s.cx, s.cy, s.rx, s.ry].every(finite) || (s.rx as number) < 0 || (s.ry as number) < 0) fail(path, 'an ellipse needs finite cx, cy and rx, ry ≥ 0');
    return { kind: 'ellipse', cx: s.cx as number, cy: s.cy as number, rx: s.rx as number, ry: s.ry as number };
  }
  return { kind: s.kind as Exclude<ShapeKind, 'rectangle' | 'ellipse'> };
}

export function validateRgb(v: unknown, path: string): Rgb {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
    fail(path, 'a colour must be [r, g, b] with integers 0..255');
  }
  const c = v as number[];
  return [c[0], c[1], c[2]];
}

export function validateClass(v: unknown, path: string): AnnotationClass {
  if (!isObj(v) || typeof v.name !== 'string' || v.name.trim() === '') fail(path, 'a class needs a non-empty name');
  const o = v as Record<string, unknown>;
  return { name: o.name as string, color: validateRgb(o.color, `${path}.color`) };
}

const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** a stored or incoming annotation, checked field by field (geometry normalised); throws AnnotationError */
export function validateAnnotation(v: unknown, limits: ImportLimits = DEFAULT_LIMITS, path = 'annotation'): Annotation {
  if (!isObj(v)) fail(path, 'must be an object');
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string' || !UUID_RE.test(o.id)) fail(`${path}.id`, 'must be a UUID');
  const shape = validateShape(o.shape, `${path}.shape`);
  // a rectangle's or ellipse's parameters are the truth: its polygon is always re-derived from them
  const geometry = shapeGeometry(shape) ?? validateGeometry(o.geometry, `${path}.geometry`, limits).geometry;
  if (!KIND_TYPES[shape.kind].includes(geometry.type)) fail(`${path}.shape`, `a ${shape.kind} cannot have a ${geometry.type} geometry`);
  for (const k of ['name', 'description'] as const) if (typeof o[k] !== 'string') fail(`${path}.${k}`, 'must be a string');
  const classification = o.classification === null ? null : validateClass(o.classification, `${path}.classification`);
  if (typeof o.isLocked !== 'boolean') fail(`${path}.isLocked`, 'must be true or false');
  if (!isObj(o.measurements)) fail(`${path}.measurements`, 'must be an object of name → number');
  for (const [k, m] of Object.entries(o.measurements as object)) if (!finite(m)) fail(`${path}.measurements.${k}`, 'must be a finite number');
  if (!isObj(o.provenance) || !['drawn', 'import', 'heatmap'].includes(o.provenance.source as string)) fail(`${path}.provenance`, 'must say its source (drawn, import or heatmap)');
  for (const k of ['createdAt', 'updatedAt'] as const) if (typeof o[k] !== 'string' || !ISO_RE.test(o[k] as string)) fail(`${path}.${k}`, 'must be an ISO 8601 UTC time');
  const a: Annotation = {
    id: (o.id as string).toLowerCase(), shape, geometry,
    name: o.name as string, description: o.description as string, classification, isLocked: o.isLocked as boolean,
    measurements: { ...(o.measurements as Record<string, number>) }, provenance: o.provenance as Provenance,
    createdAt: o.createdAt as string, updatedAt: o.updatedAt as string,
  };
  if (o.color !== undefined) a.color = validateRgb(o.color, `${path}.color`);
  if (o.metadata !== undefined) {
    if (!isObj(o.metadata) || !Object.values(o.metadata).every((s) => typeof s === 'string')) fail(`${path}.metadata`, 'must be an object of name → string');
    a.metadata = { ...(o.metadata as Record<string, string>) };
  }
  return a;
}

/** the classes used by a list of annotations, first colour seen wins, in first-seen order */
export function classesOf(list: readonly Annotation[]): AnnotationClass[] {
  const seen = new Map<string, AnnotationClass>();
  for (const a of list) if (a.classification && !seen.has(a.classification.name)) seen.set(a.classification.name, a.classification);
  return [...seen.values()];
}

/** #rrggbb of an RGB colour */
export const rgbHex = (c: Rgb): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`.toUpperCase();

/** RGB of #rgb / #rrggbb (null when not a colour) */
export function hexRgb(s: string): Rgb | null {
  const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(s.trim());
  if (!m) return null;
  const h = m[1].length === 3 ? m[1].split('').map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
}

const PALETTE: Rgb[] = [[230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [128, 128, 0]];

/** a stable colour for a class name that came without one */
export function defaultClassColor(name: string): Rgb {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return [...PALETTE[h % PALETTE.length]];
}

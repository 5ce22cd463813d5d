/**
 * QuPath-dialect GeoJSON: import and export. Level-0 px, origin top-left (QuPath's ROI coordinates).
 *
 * Fields, checked against QuPath's source (qupath/qupath, qupath-core/src/main/java/qupath/lib/io/, read at commit
 * 0a77ded42fca9cf3c48263cb1e756ba3f98fa9a1) and docs (qupath-docs docs/advanced/exporting_annotations.rst):
 *   PathObjectTypeAdapters.PathObjectCollectionTypeAdapter — {"type": "FeatureCollection", "features": [...]}; on read
 *     only `features` is looked at. PathIO.GeoJsonExportOptions: without FEATURE_COLLECTION QuPath writes a bare
 *     Feature, or an array of Features — all three forms are accepted here.
 *   PathObjectTypeAdapter.write — "type": "Feature"; "id": the object's UUID (since v0.4; in v0.2 the id was the
 *     class name, e.g. "PathAnnotationObject", read as the object type); "geometry"; "properties" with
 *     "objectType" ("annotation", "detection", "cell", "tile", "tmaCore", "root"; read also from "object_type" or
 *     "type"), "name" (only when set), "color" (object colour, [r, g, b]; an int on read), "classification",
 *     "isLocked" (QuPath writes it only when true; absent = false), "measurements", "metadata" (string map).
 *   MeasurementListTypeAdapter — measurements as an object {name: value} since v0.4; before v0.4 a list
 *     [{"name", "value"}]; both read. GsonTools' builder has serializeSpecialFloatingPointValues(), so QuPath
 *     writes NaN / Infinity bare: read (parseQuPathJson) as missing values, skipped with a warning.
 *   GsonTools.PathClassTypeAdapter — classification {"name": "Tumor", "color": [r, g, b]} ("names": [...] for a
 *     derived class, shown as "A: B"; a 4th colour element is alpha); before v0.4 {"name", "colorRGB": packed ARGB
 *     int} (+ "parentClass"); a plain string; null. All read.
 *   ROITypeAdapters — geometry types Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon,
 *     GeometryCollection; an ellipse is a Polygon with the foreign member "isEllipse": true (read back as the
 *     ellipse of the polygon's bounding box); "plane" {c, z, t} only when not the default plane. QuPath writes
 *     2 decimals; here full precision (exact round trips). MultiLineString and GeometryCollection are refused with
 *     a clear error (no annotation kind here holds them).
 * What QuPath has no field for (shape kind, description, provenance, times) travels in properties.glassbox, which
 * QuPath ignores on import (it reads only the keys above).
 */
import { randomUUID } from 'node:crypto';
import { bounds, openRing } from './geom.js';
import {
  DEFAULT_LIMITS, UUID_RE, countPositions, defaultClassColor, kindOf, validateAnnotation, validateGeometry, validateRgb,
} from './model.js';
import { AnnotationError, type Annotation, type AnnotationClass, type Geometry, type ImportLimits, type ImportResult, type Rgb, type Shape } from './types.js';

export interface ImportOptions { limits?: Partial<ImportLimits>; file?: string; now?: Date }

function featureOf(a: Annotation): Record<string, unknown> {
  const geometry: Record<string, unknown> = { ...a.geometry };
  if (a.shape.kind === 'ellipse') geometry.isEllipse = true;
  const props: Record<string, unknown> = { objectType: 'annotation' };
  if (a.name) props.name = a.name;
  if (a.color) props.color = a.color;
  if (a.classification) props.classification = { name: a.classification.name, color: a.classification.color };
  props.isLocked = a.isLocked;
  if (Object.keys(a.measurements).length) props.measurements = a.measurements;
  if (a.metadata && Object.keys(a.metadata).length) props.metadata = a.metadata;
  props.glassbox = { shape: a.shape, description: a.description, provenance: a.provenance, createdAt: a.createdAt, updatedAt: a.updatedAt };
  return { type: 'Feature', id: a.id, geometry, properties: props };
}

/** a QuPath FeatureCollection of the annotations */
export function toGeoJSON(list: readonly Annotation[]): { type: 'FeatureCollection'; features: Array<Record<string, unknown>> } {
  return { type: 'FeatureCollection', features: list.map(featureOf) };
}

export function stringifyGeoJSON(list: readonly Annotation[]): string {
  return JSON.stringify(toGeoJSON(list), null, 2) + '\n';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (msg: string): never => { throw new AnnotationError('BAD_IMPORT', msg); };

/** a QuPath colour: [r, g, b], [r, g, b, a], [packed] or a packed (A)RGB int */
function colourOf(v: unknown, where: string, warn: (w: string) => void): Rgb | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  if (Array.isArray(v) && v.length === 1) return colourOf(v[0], where, warn);
  if (Array.isArray(v) && v.length === 4) {
    warn(`${where}: colour alpha ignored`);
    return validateRgb(v.slice(0, 3), where);
  }
  if (v === undefined || v === null) return undefined;
  return validateRgb(v, where);
}

function classificationOf(v: unknown, where: string, warn: (w: string) => void): AnnotationClass | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() ? { name: v, color: defaultClassColor(v) } : null;
  if (!isObj(v)) return bad(`${where}: a classification must be an object, a string or null`);
  if (Object.keys(v).length === 0) return null;
  let name: string;
  if (typeof v.name === 'string') name = v.name;
  else if (Array.isArray(v.names) && v.names.every((n) => typeof n === 'string') && v.names.length) name = (v.names as string[]).join(': ');
  else return bad(`${where}: a classification needs a name`);
  if (!name.trim()) return null;
  const color = colourOf(v.color ?? v.colorRGB, `${where}.color`, warn) ?? defaultClassColor(name);
  return { name, color };
}

function measurementsOf(v: unknown, where: string, warn: (w: string) => void): Record<string, number> {
  const out: Record<string, number> = {};
  let skipped = 0;
  const put = (k: unknown, x: unknown) => {
    if (typeof k !== 'string') bad(`${where}: a measurement name must be a string`);
    if (typeof x === 'number' && Number.isFinite(x)) out[k as string] = x;
    else skipped++;
  };
  if (Array.isArray(v)) for (const [i, m] of v.entries()) { if (!isObj(m)) bad(`${where}[${i}]: expected {name, value}`); put(m.name, m.value); }
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) put(k, x);
  else if (v !== undefined && v !== null) bad(`${where}: measurements must be an object or a list of {name, value}`);
  if (skipped) warn(`${where}: ${skipped} measurement(s) without a finite value skipped`);
  return out;
}

/** an axis-aligned rectangle polygon (one ring, 4 corners) as its rectangle shape */
function rectangleOf(g: Geometry): Shape | null {
  if (g.type !== 'Polygon' || g.coordinates.length !== 1) return null;
  const ring = openRing(g.coordinates[0]);
  if (ring.length !== 4) return null;
  const [x0, y0, x1, y1] = bounds(g);
  if (!(x1 > x0 && y1 > y0)) return null;
  const corner = (p: number[]) => (p[0] === x0 || p[0] === x1) && (p[1] === y0 || p[1] === y1);
  if (!ring.every(corner) || new Set(ring.map((p) => `${p[0]},${p[1]}`)).size !== 4) return null;
  return { kind: 'rectangle', x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** the features of any accepted top-level form */
function featuresOf(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (isObj(doc)) {
    if (Array.isArray(doc.features)) return doc.features;
    if (doc.type === 'Feature') return [doc];
    if (typeof doc.type === 'string' && 'coordinates' in doc) bad(`a bare ${doc.type} geometry has no properties; expected a Feature or a FeatureCollection`);
  }
  return bad('expected a GeoJSON FeatureCollection, a Feature or an array of Features');
}

/** runs an import step, reporting validation errors (BAD_INPUT) as BAD_IMPORT */
export function asImportError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof AnnotationError && e.code === 'BAD_INPUT') throw new AnnotationError('BAD_IMPORT', e.message);
    throw e;
  }
}

export const limitsOf = (l?: Partial<ImportLimits>): ImportLimits => ({ ...DEFAULT_LIMITS, ...l });

/** checks the byte size and the annotation count */
export function checkSize(bytes: number, count: number, limits: ImportLimits, what: string): void {
  if (bytes > limits.maxBytes) throw new AnnotationError('TOO_LARGE', `${what} is ${bytes.toLocaleString('en-US')} bytes; the import limit is ${limits.maxBytes.toLocaleString('en-US')}`);
  if (count > limits.maxAnnotations) throw new AnnotationError('TOO_LARGE', `${what} has ${count.toLocaleString('en-US')} objects; the import limit is ${limits.maxAnnotations.toLocaleString('en-US')}`);
}

/**
 * JSON as QuPath writes it: its Gson is built with serializeSpecialFloatingPointValues() and setLenient()
 * (GsonTools), so a NaN or infinite measurement is written as a bare NaN / Infinity / -Infinity. Those tokens
 * (outside strings) read as null here — a measurement without a value, skipped with a warning.
 */
export function parseQuPathJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) bad(`not valid JSON: ${(e as Error).message}`);
    let out = '', inString = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        out += ch;
        if (ch === '\\') out += text[++i] ?? '';
        else if (ch === '"') inString = false;
      } else if (ch === '"') { inString = true; out += ch; }
      else if (text.startsWith('NaN', i)) { out += 'null'; i += 2; }
      else if (text.startsWith('Infinity', i)) { out += 'null'; i += 7; }
      else if (text.startsWith('-Infinity', i)) { out += 'null'; i += 8; }
      else out += ch;
    }
    try {
      return JSON.parse(out);
    } catch {
      return bad(`not valid JSON: ${(e as Error).message}`);
    }
  }
}

const DEPTHS: Record<string, number> = { Point: 0, MultiPoint: 1, LineString: 1, Polygon: 2, MultiPolygon: 3 };

/**
 * Annotations from QuPath-dialect GeoJSON (text or parsed). Throws AnnotationError (BAD_IMPORT, TOO_LARGE,
 * UNKNOWN_GEOMETRY) naming the feature and field; returns nothing partial. Non-annotation objects (detections,
 * cells, tiles) are imported as annotations, with a warning.
 */
export function fromGeoJSON(input: string | unknown, opts: ImportOptions = {}): ImportResult {
  const limits = limitsOf(opts.limits);
  const warnings: string[] = [];
  const warn = (w: string) => { if (warnings.length < 100) warnings.push(w); };
  let doc: unknown = input;
  if (typeof input === 'string') {
    checkSize(Buffer.byteLength(input), 0, limits, 'the file');
    doc = parseQuPathJson(input);
  }
  const features = featuresOf(doc);
  checkSize(0, features.length, limits, 'the file');
  let total = 0;
  features.forEach((f, i) => {
    const g = isObj(f) && isObj(f.geometry) ? f.geometry : null;
    if (g && typeof g.type === 'string' && g.type in DEPTHS) {
      try {
        total += countPositions(g.coordinates, DEPTHS[g.type], limits.maxVerticesTotal - total, `features[${i}].geometry.coordinates`);
      } catch (e) {
        if (!(e instanceof AnnotationError && e.code === 'TOO_LARGE')) throw e;
        total = Infinity;
      }
    }
    if (total > limits.maxVerticesTotal) throw new AnnotationError('TOO_LARGE', `the file has more than ${limits.maxVerticesTotal.toLocaleString('en-US')} vertices in all (the import limit)`);
  });
  const now = (opts.now ?? new Date()).toISOString();
  const ids = new Set<string>();
  const others = new Map<string, number>();
  const annotations = asImportError(() => features.map((f, i): Annotation => {
    const where = `features[${i}]`;
    if (!isObj(f)) return bad(`${where}: a Feature must be an object`);
    if (f.type !== undefined && f.type !== 'Feature') bad(`${where}: type is ${JSON.stringify(f.type)}, expected "Feature"`);
    if (f.geometry === null || f.geometry === undefined) bad(`${where}: no geometry`);
    const props = f.properties === undefined || f.properties === null ? {} : f.properties;
    if (!isObj(props)) return bad(`${where}.properties: must be an object`);
    let type = 'annotation';
    let id: string | null = null;
    if (typeof f.id === 'string' && UUID_RE.test(f.id)) id = f.id.toLowerCase();
    else if (typeof f.id === 'string' && /^Path\w+Object$|^TMACoreObject$/.test(f.id)) type = f.id; // QuPath v0.2
    const t = props.objectType ?? props.object_type ?? props.type;
    if (typeof t === 'string') type = t;
    if (!['annotation', 'PathAnnotationObject', 'unknown'].includes(type)) others.set(type, (others.get(type) ?? 0) + 1);
    if (!id || ids.has(id)) {
      if (id) warn(`${where}: duplicate id ${id}; given a new one`);
      id = randomUUID();
    }
    ids.add(id);
    const geomWarn = (w: string) => warn(w);
    const { geometry } = validateGeometry(f.geometry, `${where}.geometry`, limits, geomWarn);
    if (isObj(f.geometry) && isObj(f.geometry.plane) && (Number(f.geometry.plane.z ?? 0) !== 0 || Number(f.geometry.plane.t ?? 0) !== 0)) {
      warn(`${where}: z/t plane ${JSON.stringify(f.geometry.plane)} ignored (2-D slides)`);
    }
    const gb = isObj(props.glassbox) ? props.glassbox : null;
    let shape: Shape;
    if (gb && isObj(gb.shape)) shape = gb.shape as Shape;
    else if (isObj(f.geometry) && f.geometry.isEllipse === true) {
      const [x0, y0, x1, y1] = bounds(geometry);
      shape = { kind: 'ellipse', cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, rx: (x1 - x0) / 2, ry: (y1 - y0) / 2 };
    } else shape = rectangleOf(geometry) ?? kindOf(geometry);
    if (props.name !== undefined && props.name !== null && typeof props.name !== 'string' && typeof props.name !== 'number') bad(`${where}.properties.name: must be a string`);
    if (props.isLocked !== undefined && typeof props.isLocked !== 'boolean') bad(`${where}.properties.isLocked: must be true or false`);
    const a: Record<string, unknown> = {
      id, shape, geometry,
      name: props.name === undefined || props.name === null ? '' : String(props.name),
      description: gb && typeof gb.description === 'string' ? gb.description : '',
      classification: classificationOf(props.classification, `${where}.properties.classification`, warn),
      isLocked: props.isLocked === true,
      measurements: measurementsOf(props.measurements, `${where}.properties.measurements`, warn),
      provenance: gb && isObj(gb.provenance) ? gb.provenance : { source: 'import', format: 'geojson', ...(opts.file ? { file: opts.file } : {}) },
      createdAt: gb && typeof gb.createdAt === 'string' ? gb.createdAt : now,
      updatedAt: gb && typeof gb.updatedAt === 'string' ? gb.updatedAt : now,
    };
    const color = colourOf(props.color, `${where}.properties.color`, warn);
    if (color) a.color = color;
    if (props.metadata !== undefined) {
      if (!isObj(props.metadata)) bad(`${where}.properties.metadata: must be an object`);
      a.metadata = Object.fromEntries(Object.entries(props.metadata as object).filter(([, v]) => v !== null && typeof v !== 'object').map(([k, v]) => [k, String(v)]));
    }
    return validateAnnotation(a, limits, where);
  }));
  for (const [t, n] of others) warn(`${n} ${t} object(s) imported as annotations`);
  const classes = new Map<string, AnnotationClass>();
  for (const a of annotations) if (a.classification && !classes.has(a.classification.name)) classes.set(a.classification.name, a.classification);
  return { annotations, classes: [...classes.values()], warnings };
}

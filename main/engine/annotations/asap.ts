/**
 * ASAP XML annotations: import and export (level-0 px, origin top-left — ASAP's image coordinates).
 *
 * Format, checked against ASAP's source (computationalpathologygroup/ASAP: annotation/XmlRepository.cpp save/
 * loadFromRepo at commit 19bfdf2cdf95b16d02225427b77d8897d1e59d2f, annotation/Annotation.cpp at 086574bc…):
 *   <ASAP_Annotations>
 *     <Annotations>
 *       <Annotation Name="…" Type="Polygon" PartOfGroup="Tumor|None" Color="#F4FA58">
 *         <Coordinates><Coordinate Order="0" X="…" Y="…"/>…</Coordinates>
 *       </Annotation>
 *     </Annotations>
 *     <AnnotationGroups>
 *       <Group Name="Tumor" PartOfGroup="None" Color="#…"><Attributes/></Group>
 *     </AnnotationGroups>
 *   </ASAP_Annotations>
 * Types (Annotation::_typeStrings): None, Dot, Polygon, Spline, PointSet, Measurement, Rectangle. ASAP places each
 * Coordinate by its Order attribute; polygons are implicitly closed (the first vertex is not repeated); ASAP reads
 * the root element or, failing that, the document root; an annotation in a group that is not listed makes ASAP
 * refuse the file (here: a warning, the group becomes a class). ASAP keeps coordinates as float32.
 *
 * Mapping: a class = a group (Group Color = the class colour); rectangle → Rectangle; point → Dot / PointSet;
 * a 2-point polyline → Measurement; polygons, ellipses, freehand → Polygon, one ASAP annotation PER RING (ASAP has
 * no holes, so a hole is a separate polygon named "… (hole n)"), and a longer polyline → Polygon (ASAP has no open
 * path). What ASAP cannot hold travels in a "Glassbox" attribute (JSON) that ASAP ignores (it reads only Name,
 * Type, PartOfGroup and Color), so our own files round-trip exactly, holes and all.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { openRing } from './geom.js';
import { asImportError, checkSize, limitsOf, type ImportOptions } from './geojson.js';
import { defaultClassColor, hexRgb, kindOf, rgbHex, validateAnnotation } from './model.js';
import { randomUUID } from 'node:crypto';
import { AnnotationError, type Annotation, type AnnotationClass, type Geometry, type ImportResult, type Position, type Ring, type Shape } from './types.js';

const ASAP_DEFAULT_COLOR = '#F4FA58';

interface Part { type: string; coords: Position[]; part: number; ring: number; label: string }

function partsOf(a: Annotation): Part[] {
  const g = a.geometry;
  if (a.shape.kind === 'rectangle') return [{ type: 'Rectangle', coords: openRing((g as Extract<Geometry, { type: 'Polygon' }>).coordinates[0]), part: 0, ring: 0, label: '' }];
  switch (g.type) {
    case 'Point': return [{ type: 'Dot', coords: [g.coordinates], part: 0, ring: 0, label: '' }];
    case 'MultiPoint': return [{ type: 'PointSet', coords: g.coordinates, part: 0, ring: 0, label: '' }];
    case 'LineString': return [{ type: g.coordinates.length === 2 ? 'Measurement' : 'Polygon', coords: g.coordinates, part: 0, ring: 0, label: '' }];
    default: {
      const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      const out: Part[] = [];
      polys.forEach((rings, p) => rings.forEach((r, k) => out.push({
        type: 'Polygon', coords: openRing(r), part: p, ring: k,
        label: [polys.length > 1 ? `part ${p + 1}` : '', k > 0 ? `hole ${k}` : ''].filter(Boolean).join(', '),
      })));
      return out;
    }
  }
}

/** ASAP XML of the annotations; `classes` adds groups for classes no annotation uses */
export function toAsapXml(list: readonly Annotation[], classes: readonly AnnotationClass[] = []): string {
  const groups = new Map<string, AnnotationClass>();
  for (const c of classes) groups.set(c.name, c);
  for (const a of list) if (a.classification && !groups.has(a.classification.name)) groups.set(a.classification.name, a.classification);
  const elements: Array<Record<string, unknown>> = [];
  list.forEach((a, i) => {
    const name = a.name || `Annotation ${i}`;
    const color = a.color ?? a.classification?.color;
    partsOf(a).forEach((p, j) => {
      const gb: Record<string, unknown> = { id: a.id, part: p.part, ring: p.ring };
      if (j === 0) {
        Object.assign(gb, {
          type: a.geometry.type, shape: a.shape, name: a.name, description: a.description, classification: a.classification,
          isLocked: a.isLocked, measurements: a.measurements, provenance: a.provenance, createdAt: a.createdAt, updatedAt: a.updatedAt,
          ...(a.color ? { color: a.color } : {}), ...(a.metadata ? { metadata: a.metadata } : {}),
        });
      }
      elements.push({
        '@_Name': p.label ? `${name} (${p.label})` : name,
        '@_Type': p.type,
        '@_PartOfGroup': a.classification?.name ?? 'None',
        '@_Color': color ? rgbHex(color) : ASAP_DEFAULT_COLOR,
        '@_Glassbox': JSON.stringify(gb),
        Coordinates: { Coordinate: p.coords.map((c, k) => ({ '@_Order': k, '@_X': c[0], '@_Y': c[1] })) },
      });
    });
  });
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '\t', suppressEmptyNode: true });
  return builder.build({
    '?xml': { '@_version': '1.0' },
    ASAP_Annotations: {
      Annotations: { Annotation: elements },
      AnnotationGroups: {
        Group: [...groups.values()].map((c) => ({ '@_Name': c.name, '@_PartOfGroup': 'None', '@_Color': rgbHex(c.color), Attributes: '' })),
      },
    },
  }) as string;
}

const bad = (msg: string): never => { throw new AnnotationError('BAD_IMPORT', msg); };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function coordinatesOf(el: Record<string, unknown>, where: string): Position[] {
  const cs = isObj(el.Coordinates) ? el.Coordinates.Coordinate : undefined;
  const list = Array.isArray(cs) ? cs : [];
  const out: Position[] = new Array(list.length);
  list.forEach((c, k) => {
    if (!isObj(c)) bad(`${where}.Coordinate[${k}]: expected Order, X and Y attributes`);
    const o = Number((c as Record<string, unknown>)['@_Order']), x = Number((c as Record<string, unknown>)['@_X']), y = Number((c as Record<string, unknown>)['@_Y']);
    if (!Number.isInteger(o) || o < 0 || o >= list.length || out[o]) bad(`${where}.Coordinate[${k}]: Order must number the coordinates 0..${list.length - 1} once each`);
    if (!Number.isFinite(x) || !Number.isFinite(y)) bad(`${where}.Coordinate[${k}]: X and Y must be numbers`);
    out[o] = [x, y];
  });
  return out;
}

const closed = (c: Position[]): Ring => [...c, [c[0][0], c[0][1]]];

/** one foreign (non-Glassbox) ASAP annotation as geometry + shape */
function foreignShape(type: string, c: Position[], where: string, warn: (w: string) => void): { geometry: Geometry; shape: Shape } {
  const need = (n: number) => { if (c.length < n) bad(`${where}: a ${type} needs at least ${n} coordinates (has ${c.length})`); };
  switch (type) {
    case 'Dot':
      need(1);
      return c.length === 1 ? { geometry: { type: 'Point', coordinates: c[0] }, shape: { kind: 'point' } } : { geometry: { type: 'MultiPoint', coordinates: c }, shape: { kind: 'point' } };
    case 'PointSet': need(1); return { geometry: { type: 'MultiPoint', coordinates: c }, shape: { kind: 'point' } };
    case 'Measurement': need(2); return { geometry: { type: 'LineString', coordinates: c }, shape: { kind: 'polyline' } };
    case 'Rectangle': {
      need(3);
      const xs = c.map((p) => p[0]), ys = c.map((p) => p[1]);
      const x0 = Math.min(...xs), y0 = Math.min(...ys), x1 = Math.max(...xs), y1 = Math.max(...ys);
      const corners = c.length === 4 && c.every((p) => (p[0] === x0 || p[0] === x1) && (p[1] === y0 || p[1] === y1));
      if (corners) return { geometry: { type: 'Polygon', coordinates: [closed(c)] }, shape: { kind: 'rectangle', x: x0, y: y0, width: x1 - x0, height: y1 - y0 } };
      return { geometry: { type: 'Polygon', coordinates: [closed(c)] }, shape: { kind: 'polygon' } };
    }
    case 'Spline':
      warn(`${where}: Spline imported as the polygon through its control points`);
      need(3); return { geometry: { type: 'Polygon', coordinates: [closed(c)] }, shape: { kind: 'polygon' } };
    case 'Polygon': need(3); return { geometry: { type: 'Polygon', coordinates: [closed(c)] }, shape: { kind: 'polygon' } };
    default:
      throw new AnnotationError('UNKNOWN_GEOMETRY', `${where}: unsupported ASAP annotation Type ${JSON.stringify(type)} (supported: Dot, PointSet, Polygon, Spline, Rectangle, Measurement)`);
  }
}

/**
 * Annotations from ASAP XML. Throws AnnotationError (BAD_IMPORT, TOO_LARGE, UNKNOWN_GEOMETRY) naming the annotation
 * and attribute; returns nothing partial.
 */
export function fromAsapXml(xml: string, opts: ImportOptions = {}): ImportResult {
  const limits = limitsOf(opts.limits);
  checkSize(Buffer.byteLength(xml), 0, limits, 'the file');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) bad(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const parser = new XMLParser({
    ignoreAttributes: false, attributeNamePrefix: '@_', parseAttributeValue: false, parseTagValue: false,
    isArray: (n) => ['Annotation', 'Coordinate', 'Group'].includes(n), processEntities: true,
  });
  const doc = parser.parse(xml) as Record<string, unknown>;
  const root = isObj(doc.ASAP_Annotations) ? doc.ASAP_Annotations : doc;
  if (!('Annotations' in root) && !('AnnotationGroups' in root)) bad('not an ASAP annotation file (no ASAP_Annotations/Annotations element)');
  const groupsEl = isObj(root.AnnotationGroups) && Array.isArray(root.AnnotationGroups.Group) ? root.AnnotationGroups.Group as unknown[] : [];
  const els = isObj(root.Annotations) && Array.isArray(root.Annotations.Annotation) ? root.Annotations.Annotation as unknown[] : [];
  const warnings: string[] = [];
  const warn = (w: string) => { if (warnings.length < 100) warnings.push(w); };
  const classes = new Map<string, AnnotationClass>();
  groupsEl.forEach((g, i) => {
    const o = isObj(g) ? g : {};
    const name = o['@_Name'];
    if (typeof name !== 'string' || !name) return bad(`AnnotationGroups.Group[${i}]: needs a Name`);
    classes.set(name, { name, color: hexRgb(String(o['@_Color'] ?? '')) ?? defaultClassColor(name) });
  });
  let total = 0;
  for (const e of els) {
    const cs = isObj(e) && isObj(e.Coordinates) ? e.Coordinates.Coordinate : undefined;
    total += Array.isArray(cs) ? cs.length : 0;
  }
  checkSize(0, els.length, limits, 'the file');
  if (total > limits.maxVerticesTotal) throw new AnnotationError('TOO_LARGE', `the file has ${total.toLocaleString('en-US')} coordinates; the import limit is ${limits.maxVerticesTotal.toLocaleString('en-US')}`);
  const now = (opts.now ?? new Date()).toISOString();
  // Glassbox-written elements grouped by annotation id: [part][ring] → coordinates
  const ours = new Map<string, Ours>();
  const order: Array<string | Annotation> = [];
  const annotations = asImportError(() => {
    els.forEach((e, i) => {
      const where = `Annotations.Annotation[${i}]`;
      if (!isObj(e)) bad(`${where}: expected an element with attributes`);
      const el = e as Record<string, unknown>;
      const coords = coordinatesOf(el, where);
      let gb: Record<string, unknown> | null = null;
      if (typeof el['@_Glassbox'] === 'string') {
        try { gb = JSON.parse(el['@_Glassbox']) as Record<string, unknown>; } catch { bad(`${where}: the Glassbox attribute is not valid JSON`); }
      }
      if (gb && typeof gb.id === 'string' && Number.isInteger(gb.part) && Number.isInteger(gb.ring)) {
        const entry: Ours = ours.get(gb.id) ?? { rings: new Map(), where };
        if (!ours.has(gb.id)) { ours.set(gb.id, entry); order.push(gb.id); }
        if ('type' in gb) entry.head = gb;
        const part = entry.rings.get(gb.part as number) ?? new Map<number, Position[]>();
        entry.rings.set(gb.part as number, part);
        part.set(gb.ring as number, coords);
        return;
      }
      const type = String(el['@_Type'] ?? 'None');
      const { geometry, shape } = foreignShape(type, coords, where, warn);
      const group = String(el['@_PartOfGroup'] ?? 'None');
      const color = hexRgb(String(el['@_Color'] ?? ''));
      let classification: AnnotationClass | null = null;
      if (group !== 'None' && group !== '') {
        if (!classes.has(group)) {
          warn(`${where}: group ${JSON.stringify(group)} is not listed in AnnotationGroups; added as a class`);
          classes.set(group, { name: group, color: color ?? defaultClassColor(group) });
        }
        classification = classes.get(group)!;
      }
      const a: Record<string, unknown> = {
        id: randomUUID(), shape, geometry, name: String(el['@_Name'] ?? ''), description: '', classification, isLocked: false, measurements: {},
        provenance: { source: 'import', format: 'asap', ...(opts.file ? { file: opts.file } : {}) }, createdAt: now, updatedAt: now,
      };
      if (color && (!classification || rgbHex(color) !== rgbHex(classification.color))) a.color = color;
      order.push(validateAnnotation(a, limits, where));
    });
    return order.map((o) => (typeof o === 'string' ? assemble(o, ours.get(o)!, limits) : o));
  });
  return { annotations, classes: [...classes.values()], warnings };
}

interface Ours { head?: Record<string, unknown>; rings: Map<number, Map<number, Position[]>>; where: string }

function assemble(id: string, e: Ours, limits: ReturnType<typeof limitsOf>): Annotation {
  const h = e.head;
  if (!h) return bad(`${e.where}: Glassbox annotation ${id} has no first part (its properties)`);
  const polys: Ring[][] = [...e.rings.keys()].sort((a, b) => a - b).map((p) => {
    const rings = e.rings.get(p)!;
    return [...rings.keys()].sort((a, b) => a - b).map((k) => closed(rings.get(k)!));
  });
  const first = e.rings.get(0)?.get(0) ?? [];
  let geometry: Geometry;
  switch (h.type) {
    case 'Point': geometry = { type: 'Point', coordinates: first[0] }; break;
    case 'MultiPoint': geometry = { type: 'MultiPoint', coordinates: first }; break;
    case 'LineString': geometry = { type: 'LineString', coordinates: first }; break;
    case 'Polygon': geometry = { type: 'Polygon', coordinates: polys[0] }; break;
    case 'MultiPolygon': geometry = { type: 'MultiPolygon', coordinates: polys }; break;
    default: throw new AnnotationError('UNKNOWN_GEOMETRY', `${e.where}: unknown geometry type ${JSON.stringify(h.type)} in the Glassbox attribute`);
  }
  const a: Record<string, unknown> = { ...h, id, geometry, shape: h.shape ?? kindOf(geometry) };
  delete a.type; delete a.part; delete a.ring;
  return validateAnnotation(a, limits, e.where);
}

/**
 * Annotation geometry in the renderer (pure): level-0 px, GeoJSON-shaped (closed rings). Building shapes from
 * drags and clicks, moving and vertex editing (the SVG itself does the hit testing), bounds, simplifying a freehand path, and the
 * measurement formatting of the panel. The host derives rectangle / ellipse geometry and measures everything.
 */
import type { AnnotationDTO, GeometryDTO, PositionDTO, RingDTO, ShapeDTO, ShapeMeasurementsDTO } from '../../../../main/contract/annotations.js';

export interface Box { x: number; y: number; w: number; h: number }

export const close = (pts: PositionDTO[]): RingDTO => {
  const r = pts.map((p) => [p[0], p[1]] as PositionDTO);
  const a = r[0], b = r[r.length - 1];
  if (a && (a[0] !== b[0] || a[1] !== b[1])) r.push([a[0], a[1]]);
  return r;
};

/** the rectangle spanned by two corners */
export function rectFrom(a: PositionDTO, b: PositionDTO): ShapeDTO & { kind: 'rectangle' } {
  return { kind: 'rectangle', x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), width: Math.abs(b[0] - a[0]), height: Math.abs(b[1] - a[1]) };
}

/** the ellipse inscribed in the box spanned by two corners */
export function ellipseFrom(a: PositionDTO, b: PositionDTO): ShapeDTO & { kind: 'ellipse' } {
  return { kind: 'ellipse', cx: (a[0] + b[0]) / 2, cy: (a[1] + b[1]) / 2, rx: Math.abs(b[0] - a[0]) / 2, ry: Math.abs(b[1] - a[1]) / 2 };
}

/** all positions of a geometry (closing duplicates included) */
export function positions(g: GeometryDTO): PositionDTO[] {
  switch (g.type) {
    case 'Point': return [g.coordinates];
    case 'MultiPoint': case 'LineString': return g.coordinates;
    case 'Polygon': return g.coordinates.flat();
    case 'MultiPolygon': return g.coordinates.flat(2);
  }
}

export function bounds(a: Pick<AnnotationDTO, 'shape' | 'geometry'>): Box {
  const s = a.shape;
  if (s.kind === 'rectangle') return { x: s.x, y: s.y, w: s.width, h: s.height };
  if (s.kind === 'ellipse') return { x: s.cx - s.rx, y: s.cy - s.ry, w: 2 * s.rx, h: 2 * s.ry };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of positions(a.geometry)) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

const mapGeometry = (g: GeometryDTO, f: (p: PositionDTO) => PositionDTO): GeometryDTO => {
  switch (g.type) {
    case 'Point': return { type: 'Point', coordinates: f(g.coordinates) };
    case 'MultiPoint': return { type: 'MultiPoint', coordinates: g.coordinates.map(f) };
    case 'LineString': return { type: 'LineString', coordinates: g.coordinates.map(f) };
    case 'Polygon': return { type: 'Polygon', coordinates: g.coordinates.map((r) => r.map(f)) };
    case 'MultiPolygon': return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map((r) => r.map(f))) };
  }
};

/** the shape and geometry moved by (dx, dy) */
export function translate(a: Pick<AnnotationDTO, 'shape' | 'geometry'>, dx: number, dy: number): { shape: ShapeDTO; geometry: GeometryDTO } {
  const s = a.shape;
  const shape: ShapeDTO = s.kind === 'rectangle' ? { ...s, x: s.x + dx, y: s.y + dy } : s.kind === 'ellipse' ? { ...s, cx: s.cx + dx, cy: s.cy + dy } : s;
  return { shape, geometry: mapGeometry(a.geometry, ([x, y]) => [x + dx, y + dy]) };
}

/** the rings of a Polygon / MultiPolygon in one list (polygon by polygon, exterior first); other geometries: none */
export function ringsOf(g: GeometryDTO): RingDTO[] {
  return g.type === 'Polygon' ? g.coordinates : g.type === 'MultiPolygon' ? g.coordinates.flat() : [];
}
/** the same Polygon / MultiPolygon with its rings (as ringsOf lists them) replaced */
function withRings(g: GeometryDTO & { type: 'Polygon' | 'MultiPolygon' }, rings: RingDTO[]): GeometryDTO {
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: rings };
  let k = 0;
  return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(() => rings[k++])) };
}

/**
 * The editable handles of a shape: a rectangle's / ellipse's 4 box corners, else the vertices of a Polygon's or
 * MultiPolygon's rings (`ring` counts through every polygon's rings; the closing duplicate left out) or of a line /
 * points.
 */
export interface Handle { ring: number; index: number; at: PositionDTO }
export function handles(a: Pick<AnnotationDTO, 'shape' | 'geometry'>): Handle[] {
  const s = a.shape, g = a.geometry;
  if (s.kind === 'rectangle' || s.kind === 'ellipse') {
    const b = bounds(a);
    return [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]].map((at, index) => ({ ring: -1, index, at: at as PositionDTO }));
  }
  if (g.type === 'Polygon' || g.type === 'MultiPolygon') return ringsOf(g).flatMap((r, ring) => r.slice(0, -1).map((at, index) => ({ ring, index, at })));
  if (g.type === 'LineString' || g.type === 'MultiPoint') return g.coordinates.map((at, index) => ({ ring: 0, index, at }));
  if (g.type === 'Point') return [{ ring: 0, index: 0, at: g.coordinates }];
  return [];
}

/** the shape with handle h dragged to p (a box corner moves against the opposite corner) */
export function moveHandle(a: Pick<AnnotationDTO, 'shape' | 'geometry'>, h: Handle, p: PositionDTO): { shape: ShapeDTO; geometry: GeometryDTO } {
  const s = a.shape, g = a.geometry;
  if (h.ring < 0 && (s.kind === 'rectangle' || s.kind === 'ellipse')) {
    const b = bounds(a);
    const corners: PositionDTO[] = [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]];
    const opp = corners[(h.index + 2) % 4];
    const shape = s.kind === 'rectangle' ? rectFrom(opp, p) : ellipseFrom(opp, p);
    return { shape, geometry: g };
  }
  if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
    const rings = ringsOf(g).map((r, ri) => (ri === h.ring ? close(r.slice(0, -1).map((q, i) => (i === h.index ? p : q))) : r));
    return { shape: s, geometry: withRings(g, rings) };
  }
  if (g.type === 'LineString' || g.type === 'MultiPoint') return { shape: s, geometry: { ...g, coordinates: g.coordinates.map((q, i) => (i === h.index ? p : q)) } };
  if (g.type === 'Point') return { shape: s, geometry: { type: 'Point', coordinates: p } };
  return { shape: s, geometry: g };
}

/** a polygon vertex removed (rings keep ≥ 3 distinct vertices); null when it cannot be */
export function removeVertex(a: Pick<AnnotationDTO, 'shape' | 'geometry'>, h: Handle): GeometryDTO | null {
  const g = a.geometry;
  if ((g.type !== 'Polygon' && g.type !== 'MultiPolygon') || h.ring < 0) return null;
  const rings = ringsOf(g);
  const r = rings[h.ring];
  if (!r || r.length - 1 <= 3) return null;
  return withRings(g, rings.map((ring, ri) => (ri === h.ring ? close(ring.slice(0, -1).filter((_, i) => i !== h.index)) : ring)));
}

function segDist(p: PositionDTO, a: PositionDTO, b: PositionDTO): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/** Douglas–Peucker: drops vertices closer than `tol` px to the simplified outline (a freehand path's jitter) */
export function simplify(pts: PositionDTO[], tol: number): PositionDTO[] {
  if (pts.length <= 2) return pts;
  const keep = new Uint8Array(pts.length);
  keep[0] = keep[pts.length - 1] = 1;
  const stack: Array<[number, number]> = [[0, pts.length - 1]];
  while (stack.length) {
    const [i, j] = stack.pop()!;
    let best = -1, dmax = 0;
    for (let k = i + 1; k < j; k++) {
      const d = segDist(pts[k], pts[i], pts[j]);
      if (d > dmax) { dmax = d; best = k; }
    }
    if (best >= 0 && dmax > tol) {
      keep[best] = 1;
      stack.push([i, best], [best, j]);
    }
  }
  return pts.filter((_, k) => keep[k]);
}

/** SVG path data of a geometry (even-odd fill makes holes) */
export function pathData(g: GeometryDTO): string {
  const ring = (r: PositionDTO[], closed: boolean) => r.map((p, i) => `${i ? 'L' : 'M'}${p[0]} ${p[1]}`).join('') + (closed ? 'Z' : '');
  switch (g.type) {
    case 'Polygon': return g.coordinates.map((r) => ring(r, true)).join('');
    case 'MultiPolygon': return g.coordinates.flatMap((p) => p.map((r) => ring(r, true))).join('');
    case 'LineString': return ring(g.coordinates, false);
    default: return '';
  }
}

const num = (v: number, digits: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** area as the panel shows it: µm² below 0.1 mm², else mm²; px² (with a note) when the µm/px is unknown */
export function formatArea(m: Pick<ShapeMeasurementsDTO, 'unit' | 'area'>): string {
  if (m.unit === 'px') return `${num(m.area, 0)} px²`;
  if (m.area >= 1e5) return `${num(m.area / 1e6, m.area >= 1e7 ? 2 : 3)} mm²`;
  return `${num(m.area, m.area >= 100 ? 0 : 1)} µm²`;
}

export function formatLength(m: Pick<ShapeMeasurementsDTO, 'unit' | 'perimeter'>): string {
  if (m.unit === 'px') return `${num(m.perimeter, 0)} px`;
  if (m.perimeter >= 10_000) return `${num(m.perimeter / 1000, 2)} mm`;
  return `${num(m.perimeter, 1)} µm`;
}

export const rgbCss = (c: [number, number, number] | null | undefined, alpha = 1) => (c ? `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})` : `rgba(255, 214, 0, ${alpha})`);

export const hexToRgb = (hex: string): [number, number, number] => {
  const v = Number.parseInt(hex.replace('#', ''), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
};
export const rgbToHex = (c: [number, number, number]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

/** the length of a path in µm with per-axis µm/px, in px when `mpp` is null (a line's ruler) */
export function scaledLength(pts: PositionDTO[], mpp: { x: number; y: number } | null): number {
  let len = 0;
  for (let i = 1; i < pts.length; i++) len += Math.hypot((pts[i][0] - pts[i - 1][0]) * (mpp?.x ?? 1), (pts[i][1] - pts[i - 1][1]) * (mpp?.y ?? 1));
  return len;
}

/** even-odd point-in-area test over every ring of a Polygon / MultiPolygon (holes are outside); false for others */
export function insideArea(g: GeometryDTO, [x, y]: PositionDTO): boolean {
  let inside = false;
  for (const r of ringsOf(g)) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const [ax, ay] = r[i], [bx, by] = r[j];
      if ((ay > y) !== (by > y) && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inside = !inside;
    }
  }
  return inside;
}

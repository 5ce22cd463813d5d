/**
 * Planar geometry on level-0 px: ring areas (shoelace), lengths, centroids, point-in-ring, orientation, and the
 * exact area of a polygon clipped to an axis-aligned box (used to weight heatmap cells by covered area).
 */
import type { Geometry, Position, Ring } from './types.js';

/** signed shoelace area ½Σ(xᵢ·yᵢ₊₁ − xᵢ₊₁·yᵢ); > 0 for exterior orientation (see types.ts). Closed or open ring. */
export function ringSignedArea(ring: readonly Position[]): number {
  const n = ring.length;
  if (n < 3) return 0;
  // shift to the first vertex for precision with large level-0 coordinates
  const [ox, oy] = ring[0];
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = ring[i], b = ring[(i + 1) % n];
    s += (a[0] - ox) * (b[1] - oy) - (b[0] - ox) * (a[1] - oy);
  }
  return s / 2;
}

/** length of a path; closed rings include the closing edge when the ring repeats its first vertex */
export function pathLength(path: readonly Position[]): number {
  let s = 0;
  for (let i = 1; i < path.length; i++) s += Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
  return s;
}

/** sum of x·A and y·A of a ring (for area centroids): returns [Σ cx·a, Σ cy·a, a] with a the signed area */
function ringMoments(ring: readonly Position[]): [number, number, number] {
  const n = ring.length;
  if (n < 3) return [0, 0, 0];
  const [ox, oy] = ring[0];
  let a = 0, mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    const x0 = ring[i][0] - ox, y0 = ring[i][1] - oy;
    const x1 = ring[(i + 1) % n][0] - ox, y1 = ring[(i + 1) % n][1] - oy;
    const c = x0 * y1 - x1 * y0;
    a += c; mx += (x0 + x1) * c; my += (y0 + y1) * c;
  }
  a /= 2;
  // centroid (relative) = (mx / 6a, my / 6a); return moments about the origin: (cx + ox)·a
  return [mx / 6 + ox * a, my / 6 + oy * a, a];
}

/** polygons of a Polygon/MultiPolygon geometry (ring 0 exterior); [] for others */
export function polygonsOf(g: Geometry): Ring[][] {
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}

/** area of polygons with holes: |exterior| − Σ|holes| per polygon */
export function polygonsArea(polys: readonly Ring[][]): number {
  let s = 0;
  for (const rings of polys) rings.forEach((r, i) => { s += (i === 0 ? 1 : -1) * Math.abs(ringSignedArea(r)); });
  return s;
}

/** area centroid of polygons with holes; null when the area is 0 */
export function polygonsCentroid(polys: readonly Ring[][]): Position | null {
  let mx = 0, my = 0, a = 0;
  for (const rings of polys) {
    rings.forEach((r, i) => {
      const [x, y, ar] = ringMoments(r);
      const sign = ((i === 0) === (ar >= 0)) ? 1 : -1;
      mx += sign * x; my += sign * y; a += sign * ar;
    });
  }
  return a === 0 ? null : [mx / a, my / a];
}

export function isClosed(ring: readonly Position[]): boolean {
  const n = ring.length;
  return n > 0 && ring[0][0] === ring[n - 1][0] && ring[0][1] === ring[n - 1][1];
}

/** even-odd point in ring (closed or open) */
export function pointInRing(p: Position, ring: readonly Position[]): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** bounding box [minX, minY, maxX, maxY] of all positions of a geometry */
export function bounds(g: Geometry): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const add = (p: Position) => {
    if (p[0] < x0) x0 = p[0];
    if (p[0] > x1) x1 = p[0];
    if (p[1] < y0) y0 = p[1];
    if (p[1] > y1) y1 = p[1];
  };
  forEachPosition(g, add);
  return [x0, y0, x1, y1];
}

export function forEachPosition(g: Geometry, f: (p: Position) => void): void {
  switch (g.type) {
    case 'Point': f(g.coordinates); break;
    case 'MultiPoint': case 'LineString': g.coordinates.forEach(f); break;
    case 'Polygon': for (const r of g.coordinates) r.forEach(f); break;
    case 'MultiPolygon': for (const p of g.coordinates) for (const r of p) r.forEach(f); break;
  }
}

/** Sutherland–Hodgman clip of a ring (open form) to one half-plane: keep points with sign·(coord − v) ≤ 0 */
function clipHalf(pts: Position[], axis: 0 | 1, v: number, keepBelow: boolean): Position[] {
  const out: Position[] = [];
  const n = pts.length;
  if (n === 0) return out;
  const inside = (p: Position) => (keepBelow ? p[axis] <= v : p[axis] >= v);
  for (let i = 0; i < n; i++) {
    const a = pts[i], b = pts[(i + 1) % n];
    const ia = inside(a), ib = inside(b);
    if (ia) out.push(a);
    if (ia !== ib) {
      const t = (v - a[axis]) / (b[axis] - a[axis]);
      const o = axis === 0 ? 1 : 0;
      const p: Position = [0, 0];
      p[axis] = v;
      p[o] = a[o] + t * (b[o] - a[o]);
      out.push(p);
    }
  }
  return out;
}

/** a ring (open form) clipped to the horizontal strip y0 ≤ y ≤ y1 */
export function clipStrip(ring: Position[], y0: number, y1: number): Position[] {
  return clipHalf(clipHalf(ring, 1, y0, false), 1, y1, true);
}

/** a ring (open form) clipped to the vertical strip x0 ≤ x ≤ x1 */
export function clipColumn(ring: Position[], x0: number, x1: number): Position[] {
  return clipHalf(clipHalf(ring, 0, x0, false), 0, x1, true);
}

/** open form of a ring (drops the repeated closing position) */
export function openRing(ring: readonly Position[]): Position[] {
  return isClosed(ring) && ring.length > 1 ? ring.slice(0, -1) : ring.slice();
}

/** closed copy, with the orientation asked for (exterior: positive shoelace area; hole: negative) */
export function orientRing(ring: readonly Position[], exterior: boolean): Ring {
  const open = openRing(ring);
  const a = ringSignedArea(open);
  if ((exterior && a < 0) || (!exterior && a > 0)) open.reverse();
  return [...open, [open[0][0], open[0][1]]];
}

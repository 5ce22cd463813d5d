/**
 * The brush (QuPath's and image editors' habit): a stroke of a set width, in screen px, painted into an area
 * annotation — a new one, or added to the selected one when the stroke starts inside it; Alt cuts instead. Pure
 * geometry on Clipper2 (clipper2-ts): the stroke is its path inflated by the radius with round joins and ends; union
 * and difference keep holes (a loop painted round leaves one) and split parts (a cut through the middle).
 * Level-0 px, GeoJSON rings: closed, each polygon's exterior first, then its holes.
 */
import { Clipper, ClipType, EndType, FillRule, JoinType, PolyTreeD, type PathD, type PathsD, type PolyPathD } from 'clipper2-ts';
import type { GeometryDTO, PositionDTO, RingDTO } from '../../../../main/contract/annotations.js';
import { ringsOf } from './geometry.js';

/** decimal places Clipper keeps (it works on integers): 0.01 level-0 px */
const PRECISION = 2;

/**
 * The painted area of a stroke through `pts` with the given radius (level-0 px); one point paints a disc.
 * `arc` is the largest distance the round ends may stray from a true circle (level-0 px; r/200 gives a circle ~32
 * sides).
 */
export function strokeArea(pts: PositionDTO[], radius: number, arc = radius / 200): PathsD {
  if (!pts.length || !(radius > 0)) return [];
  const path: PathD = pts.map(([x, y]) => ({ x, y }));
  if (path.length === 1) path.push({ x: path[0].x, y: path[0].y });
  return Clipper.inflatePathsD([path], radius, JoinType.Round, EndType.Round, 2, PRECISION, Math.max(arc, 10 ** -PRECISION));
}

/** the rings of an area geometry as Clipper paths (closing duplicates dropped); other geometries have none */
function pathsOf(g: GeometryDTO | null): PathsD {
  if (!g) return [];
  return ringsOf(g).map((r) => (r.length > 1 && r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1] ? r.slice(0, -1) : r).map(([x, y]) => ({ x, y })));
}

const ringOf = (p: PathD): RingDTO => {
  const r: PositionDTO[] = p.map((q) => [q.x, q.y]);
  r.push([p[0].x, p[0].y]);
  return r;
};

/** a Clipper tree as GeoJSON: every outer path with its holes; islands inside holes are polygons of their own */
function fromTree(tree: PolyTreeD): GeometryDTO | null {
  const polys: RingDTO[][] = [];
  const outer = (n: PolyPathD) => {
    const rings = [ringOf(n.poly!)];
    polys.push(rings);
    for (let i = 0; i < n.count; i++) {
      const hole = n.child(i);
      rings.push(ringOf(hole.poly!));
      for (let j = 0; j < hole.count; j++) outer(hole.child(j));
    }
  };
  for (let i = 0; i < tree.count; i++) outer(tree.child(i));
  if (!polys.length) return null;
  return polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
}

/**
 * `g` with the stroke added (or cut, `cut`), as a Polygon when one part is left, a MultiPolygon when several, null
 * when nothing is. `g` null: the stroke alone. `g`'s rings are read even-odd (GeoJSON's holes, either winding).
 */
export function paint(g: GeometryDTO | null, stroke: PathsD, cut = false): GeometryDTO | null {
  const base = pathsOf(g);
  // one winding for the old area (even-odd read), so the non-zero union / difference below sees areas, not rings
  const subject = base.length ? Clipper.unionD(base, FillRule.EvenOdd) : [];
  const tree = new PolyTreeD();
  Clipper.booleanOpDWithPolyTree(cut ? ClipType.Difference : ClipType.Union, subject, stroke, tree, FillRule.NonZero, PRECISION);
  return fromTree(tree);
}

/**
 * A finished brush stroke applied to the annotations: added to (or, Alt, cut from) the annotation it started in, or
 * a new one. The geometry (./brush.ts on Clipper2) loads when the brush is first picked, not with the viewer.
 */
import type { GeometryDTO, PositionDTO, ShapeDTO } from '../../../../main/contract/annotations.js';
import { simplify } from './geometry.js';
import { ann, create, removeSelected, update } from './state.svelte.js';

let lib: Promise<typeof import('./brush.js')> | null = null;
export const loadBrush = () => (lib ??= import('./brush.js'));

const kindOf = (g: GeometryDTO): ShapeDTO => ({ kind: g.type === 'MultiPolygon' ? 'multipolygon' : 'polygon' });

/** the stroke through level-0 `pts` with `radius` (level-0 px; `px` = one screen px in level-0 px) */
export async function applyStroke(pts: PositionDTO[], targetId: string | null, cut: boolean, radius: number, px: number): Promise<void> {
  const { paint, strokeArea } = await loadBrush();
  // round ends within a quarter screen px of the circle, and at least ~32 sides to it for a later zoom-in
  const stroke = strokeArea(simplify(pts, px / 2), radius, Math.min(px / 4, radius / 200));
  const target = targetId ? ann.annotations.find((a) => a.id === targetId) : null;
  if (target) {
    const g = paint(target.geometry, stroke, cut);
    if (g) update(target.id, { shape: kindOf(g), geometry: g });
    else if (ann.selectedId === target.id) removeSelected(); // cut away entirely
  } else if (!cut) {
    const g = paint(null, stroke);
    if (g) create(kindOf(g), g);
  }
}

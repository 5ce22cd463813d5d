/** The brush's size in screen px (kept apart from brush.ts, whose Clipper2 geometry loads only when painting). */
export const BRUSH_MIN_PX = 2;
export const BRUSH_MAX_PX = 400;
export const BRUSH_DEFAULT_PX = 24;

/** the next brush diameter for [ (smaller) or ] (larger): steps of 25 %, at least 1 px, within the limits */
export function brushStep(px: number, larger: boolean): number {
  const next = Math.round(larger ? Math.max(px + 1, px * 1.25) : Math.min(px - 1, px / 1.25));
  return Math.min(BRUSH_MAX_PX, Math.max(BRUSH_MIN_PX, next));
}

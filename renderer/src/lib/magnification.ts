/**
 * Magnification readout (pure). Conventions:
 * - objective power known: displayed magnification = objectivePower × (screen px per level-0 px);
 * - else from mpp: 10 µm/px ≈ 1× (so 0.25 µm/px ≈ 40×, 0.5 µm/px ≈ 20×);
 * - neither: null (no readout).
 */

export const UM_PER_PX_AT_1X = 10;

export interface MagnificationInput {
  /** screen (CSS) pixels per level-0 image pixel */
  zoom: number;
  objectivePower: number | null;
  /** µm per level-0 pixel (x), or null when unknown */
  mpp: number | null;
}

export function baseMagnification(objectivePower: number | null, mpp: number | null): number | null {
  if (objectivePower !== null && objectivePower > 0 && Number.isFinite(objectivePower)) return objectivePower;
  if (mpp !== null && mpp > 0 && Number.isFinite(mpp)) return UM_PER_PX_AT_1X / mpp;
  return null;
}

export function displayedMagnification(inp: MagnificationInput): number | null {
  const base = baseMagnification(inp.objectivePower, inp.mpp);
  if (base === null || !(inp.zoom > 0) || !Number.isFinite(inp.zoom)) return null;
  return base * inp.zoom;
}

/** "≈ 20×", "≈ 2.5×", "≈ 0.31×" */
export function formatMagnification(m: number | null): string {
  if (m === null || !Number.isFinite(m) || m <= 0) return '—';
  const digits = m >= 10 ? 0 : m >= 1 ? 1 : 2;
  return `≈ ${Number(m.toFixed(digits))}×`;
}

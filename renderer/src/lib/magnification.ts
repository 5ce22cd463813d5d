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

/** Past this many screen pixels per scanned pixel the view is digital zoom (no detail the scan does not hold). */
export const DIGITAL_ZOOM_FROM = 1.01;

export interface MagnificationReadout {
  /** status-bar text: "≈ 20×", or "40× + 3× digital" past the scanned resolution */
  text: string;
  /** tooltip explaining the figure */
  title: string;
  /** true when the view magnifies past the scan's own resolution */
  digital: boolean;
}

/** "3×", "1.5×", "12×": the digital factor, without the "≈" of an estimated magnification */
function formatFactor(z: number): string {
  return `${Number(z.toFixed(z >= 10 ? 0 : 1))}×`;
}

/**
 * The readout for the status bar. Up to the scan's own resolution it is the displayed magnification; past it
 * (over-zoom) it names the scanned magnification and the digital factor instead of a made-up objective:
 * a 40× scan at 3 screen px per pixel reads "≈ 40× + 3× digital", not "≈ 120×". Null when unknown.
 */
export function magnificationReadout(inp: MagnificationInput): MagnificationReadout | null {
  const base = baseMagnification(inp.objectivePower, inp.mpp);
  const shown = displayedMagnification(inp);
  if (base === null || shown === null) return null;
  const source = inp.objectivePower !== null && inp.objectivePower > 0 ? 'objective power' : 'pixel size';
  if (inp.zoom < DIGITAL_ZOOM_FROM) {
    return { text: formatMagnification(shown), title: `Displayed magnification (from the scan's ${source})`, digital: false };
  }
  const scan = formatMagnification(base);
  return {
    text: `${scan} + ${formatFactor(inp.zoom)} digital`,
    title: `Digital zoom past the scanned objective: the slide was scanned at ${scan.replace('≈ ', '')} (from its ${source}); `
      + `each scanned pixel now covers ${formatFactor(inp.zoom).replace('×', '')} screen pixels, which adds no detail`,
    digital: true,
  };
}

/**
 * Scale-bar maths (pure; unit-tested in test/renderer/scalebar.test.ts), shared by the viewer's scale bar and the
 * burned-in scale bar of image exports (main/engine/export, given the choice by its caller).
 * A scale bar shows a "nice" physical length (1-2-5 series) whose on-screen width fits a target range.
 */

export interface ScaleBarChoice {
  /** physical length the bar represents, in µm */
  lengthUm: number;
  /** on-screen width of the bar in CSS pixels */
  widthPx: number;
  /** human label, e.g. "50 µm", "1 mm", "0.5 µm" */
  label: string;
}

/** Largest 1-2-5 series value ≤ x (x > 0): …, 0.5, 1, 2, 5, 10, 20, 50, … */
export function niceFloor125(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`niceFloor125: expected a positive finite number, got ${x}`);
  const exp = Math.floor(Math.log10(x));
  const base = 10 ** exp;
  const f = x / base;
  // guard float noise: 5 / 1e1 → 4.999999…
  const eps = 1e-9;
  const m = f + eps >= 5 ? 5 : f + eps >= 2 ? 2 : 1;
  return roundSig(m * base);
}

function roundSig(x: number): number {
  return Number(x.toPrecision(12));
}

/** Format a length in µm as µm below 1 mm, else mm (e.g. 500 → "500 µm", 2000 → "2 mm", 0.5 → "0.5 µm"). */
export function formatLengthUm(um: number): string {
  if (um >= 1000) return `${trimNum(um / 1000)} mm`;
  if (um >= 1) return `${trimNum(um)} µm`;
  if (um >= 0.001) return `${trimNum(um)} µm`;
  return `${trimNum(um * 1000)} nm`;
}

function trimNum(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/**
 * Choose the bar: the largest nice length whose width is ≤ maxWidthPx.
 * @param umPerScreenPx physical size of one CSS pixel on screen (µm), i.e. mpp / (screen px per level-0 px)
 */
export function chooseScaleBar(umPerScreenPx: number, maxWidthPx = 160): ScaleBarChoice | null {
  if (!(umPerScreenPx > 0) || !Number.isFinite(umPerScreenPx) || !(maxWidthPx > 0)) return null;
  const lengthUm = niceFloor125(umPerScreenPx * maxWidthPx);
  const widthPx = lengthUm / umPerScreenPx;
  return { lengthUm, widthPx, label: formatLengthUm(lengthUm) };
}

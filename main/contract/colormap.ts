/**
 * Heatmap colours shared by the viewer (renderer/src/lib/heatmap.ts, the overlay shader's LUT) and the exports
 * (crops with the overlay, the coloured heatmap TIFF): colormap tables, the display modes and the value → colormap
 * position arithmetic the overlay shader uses. Pure TypeScript, no imports.
 */

export type ColormapName = 'viridis' | 'inferno' | 'magma' | 'turbo' | 'jet' | 'diverging';
export const SEQUENTIAL_COLORMAPS: readonly ColormapName[] = ['viridis', 'inferno', 'magma', 'turbo', 'jet'];
export const COLORMAPS: readonly ColormapName[] = [...SEQUENTIAL_COLORMAPS, 'diverging'];

/** evidence for (max(0, L)), against (max(0, −L)), the signed L, or a class probability (0…1) */
export type DisplayMode = 'for' | 'against' | 'signed' | 'probability';

type Vec3 = [number, number, number];
// 6th-degree polynomial fits of matplotlib's perceptual maps (Matt Zucker, CC0): c0 + c1 t + … + c6 t^6
const POLY: Record<'viridis' | 'inferno' | 'magma', Vec3[]> = {
  viridis: [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ],
  inferno: [
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
    [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914],
    [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993],
    [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
  ],
  magma: [
    [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
    [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
    [8.353717279216625, -3.577719514958484, 0.3144679030132573],
    [-27.66873308576866, 14.26473078096533, -13.64921318813922],
    [52.17613981234068, -27.94360607168351, 12.94416944238394],
    [-50.76852536473588, 29.04658282127291, 4.23415299384598],
    [18.65570506591883, -11.48977351997711, -5.601961508734096],
  ],
};

// ColorBrewer RdBu, reversed: negative (against) blue, zero near-white, positive (for) red
const DIVERGING: Vec3[] = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

export const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** RGB 0–255 of colormap `name` at t ∈ [0, 1]. */
export function colormapRgb(name: ColormapName, t: number): Vec3 {
  const x = clamp01(t);
  let rgb: Vec3;
  if (name === 'viridis' || name === 'inferno' || name === 'magma') {
    const c = POLY[name];
    rgb = [0, 1, 2].map((i) => {
      let v = 0;
      for (let k = 6; k >= 0; k--) v = v * x + c[k][i];
      return v;
    }) as Vec3;
  } else if (name === 'turbo') {
    // Google's polynomial approximation of Turbo (Apache-2.0)
    const x2 = x * x, x3 = x2 * x, x4 = x3 * x, x5 = x4 * x;
    rgb = [
      0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5,
      0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5,
      0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5,
    ];
  } else if (name === 'jet') {
    rgb = [1.5 - Math.abs(4 * x - 3), 1.5 - Math.abs(4 * x - 2), 1.5 - Math.abs(4 * x - 1)];
  } else {
    const p = x * (DIVERGING.length - 1);
    const i = Math.min(DIVERGING.length - 2, Math.floor(p));
    const f = p - i;
    return [0, 1, 2].map((k) => Math.round(DIVERGING[i][k] + (DIVERGING[i + 1][k] - DIVERGING[i][k]) * f)) as Vec3;
  }
  return rgb.map((v) => Math.round(clamp01(v) * 255)) as Vec3;
}

/** 256 × RGBA8 lookup table for the shader. */
export function colormapLut(name: ColormapName, size = 256): Uint8Array {
  const lut = new Uint8Array(size * 4);
  for (let i = 0; i < size; i++) {
    const [r, g, b] = colormapRgb(name, i / (size - 1));
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
}

/** The displayed value of a raw map value L in a mode (NaN stays NaN). */
export function displayValue(v: number, mode: DisplayMode): number {
  if (Number.isNaN(v)) return NaN;
  if (mode === 'for') return Math.max(0, v);
  if (mode === 'against') return Math.max(0, -v);
  return v;
}

export interface DisplayRange {
  /** value at the bottom of the colormap (signed: −hi) */
  lo: number;
  hi: number;
  /** hide cells whose displayed value (signed: |value|) is below this */
  threshold: number;
}

/**
 * Position on the colormap (0…1) of a displayed value, or null when it is hidden by the threshold.
 * Signed: centred on zero (0.5), ±hi at the ends. Same arithmetic as the overlay shader.
 */
export function colorPosition(d: number, mode: DisplayMode, r: DisplayRange): number | null {
  if (Number.isNaN(d)) return null;
  if (mode === 'signed') {
    if (Math.abs(d) < r.threshold) return null;
    return clamp01(0.5 + (0.5 * d) / (r.hi || 1));
  }
  if (d < r.threshold) return null;
  const span = r.hi - r.lo || 1;
  return clamp01((d - r.lo) / span);
}

/** A heatmap's colouring on the CPU (main/engine/export's HeatmapPaint): the overlay shader's LUT and arithmetic. */
export interface OverlayPaint {
  lut: Uint8Array;
  position: (value: number) => number | null;
  opacity: number;
  smooth: boolean;
}

/** The viewer's colouring of a map in `mode` over `range` (signed maps always use the diverging colormap). */
export function overlayPaint(o: { mode: DisplayMode; colormap: ColormapName; range: DisplayRange; opacity: number; smooth: boolean }): OverlayPaint {
  const { mode, range } = o;
  return {
    lut: colormapLut(mode === 'signed' ? 'diverging' : o.colormap),
    position: (v) => colorPosition(displayValue(v, mode), mode, range),
    opacity: o.opacity,
    smooth: o.smooth,
  };
}

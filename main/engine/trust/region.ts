/**
 * The patches of a region for the trust check: the model's patch grid over the whole slide (origin (0, 0), patches
 * edge to edge, as the slide analysis tiles it without overlap) and, of it, the patches whose centres lie inside
 * the region (even-odd over every ring, so holes stay holes). More than `cap` of them: `cap` sampled evenly over
 * the region (one per equal run of the row-major order, at a seeded position inside its run).
 */
import { streamFor } from './rng.js';

export type RegionPosition = readonly [number, number];
/** polygons, each a list of rings (ring 0 the exterior, the rest holes; closed or open) */
export type RegionPolygons = ReadonlyArray<ReadonlyArray<ReadonlyArray<RegionPosition>>>;

export interface RegionGridOptions {
  /** slide size at level 0 */
  width: number;
  height: number;
  /** exact level-0 size of one model patch [w, h] (patch_size_pixels × model µm/px ÷ slide µm/px) */
  patch: [number, number];
  /** at most this many patches (sampled evenly beyond) */
  cap: number;
  seed: number;
}

export interface RegionPatches {
  /** integer level-0 rects of the patches chosen, in row-major grid order */
  patches: Array<{ x: number; y: number; w: number; h: number }>;
  /** how many grid patches have their centre inside the region (and the slide) */
  inside: number;
}

/** Grid patches whose centres lie inside the polygons; at most `cap`, sampled evenly and seeded when more. */
export function regionPatches(polygons: RegionPolygons, o: RegionGridOptions): RegionPatches {
  const [pw, ph] = o.patch;
  if (!(pw > 0 && ph > 0)) throw new RangeError(`patch size must be positive (got ${pw}×${ph})`);
  const rings = polygons.flat();
  let y0 = Infinity, y1 = -Infinity;
  for (const r of rings) for (const p of r) { if (p[1] < y0) y0 = p[1]; if (p[1] > y1) y1 = p[1]; }
  const cols = Math.ceil(o.width / pw - 1e-9), rows = Math.ceil(o.height / ph - 1e-9);
  const cells: number[] = []; // row * cols + col of each centre inside, row-major
  const r0 = Math.max(0, Math.floor(y0 / ph - 0.5)), r1 = Math.min(rows - 1, Math.ceil(y1 / ph - 0.5));
  const xs: number[] = [];
  for (let row = r0; row <= r1; row++) {
    const cy = (row + 0.5) * ph;
    if (cy >= o.height) break;
    // scanline: where the edges cross y = cy (the half-open rule of an even-odd point test)
    xs.length = 0;
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i], [xj, yj] = ring[j];
        if ((yi > cy) !== (yj > cy)) xs.push(((xj - xi) * (cy - yi)) / (yj - yi) + xi);
      }
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // centres cx = (col + 0.5)·pw with xs[k] ≤ cx < xs[k+1], inside the slide
      const c0 = Math.max(0, Math.ceil(xs[k] / pw - 0.5));
      const c1 = Math.min(cols - 1, Math.ceil(xs[k + 1] / pw - 0.5) - 1);
      for (let col = c0; col <= c1; col++) if ((col + 0.5) * pw < o.width) cells.push(row * cols + col);
    }
  }
  const n = cells.length;
  let chosen = cells;
  if (n > o.cap) {
    const rand = streamFor(o.seed, 'region-patches');
    chosen = [];
    for (let i = 0; i < o.cap; i++) {
      const a = Math.floor((i * n) / o.cap), b = Math.floor(((i + 1) * n) / o.cap);
      chosen.push(cells[a + Math.floor(rand() * (b - a))]);
    }
  }
  const patches = chosen.map((cell) => {
    const row = Math.floor(cell / cols), col = cell % cols;
    const x = Math.round(col * pw), y = Math.round(row * ph);
    return { x, y, w: Math.max(1, Math.round(col * pw + pw) - x), h: Math.max(1, Math.round(row * ph + ph) - y) };
  });
  return { patches, inside: n };
}

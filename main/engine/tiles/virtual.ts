/**
 * Virtual levels: the Deep Zoom levels a slide file has no level for (CMU-1-Small-Region.svs has one level; an SVS
 * jumps ×4 between levels). A Deep Zoom level within 2× of a finer slide level is read from that level ("direct",
 * as OpenSlide's DeepZoomGenerator does); a level further than 2× from every finer slide level is VIRTUAL: each of its
 * pixels comes from the nearest finer direct Deep Zoom level shrunk by 2×2 box means (the area mean, as vips dzsave's
 * `mean` region shrink and our own export build their pyramids; no context is needed, so blocks join without seams)
 * — but from at most 2^MAX_STEPS× finer: further down,
 * from a finer virtual level, so a tile of a virtual level costs at most 64 blocks of a finer level, never a
 * full-resolution read of its whole area (a 254-px tile of a ×16 level of a one-level slide would otherwise decode 4064² pixels).
 *
 * Pixels are kept in BLOCK×BLOCK blocks of level pixels in a namespace of the one byte-budgeted cache
 * (main/base/cache.ts), so neighbouring tiles, overlaps and coarser levels reuse them; memory stays within the budget.
 */
import type { RgbImage, Slide } from '../slide/types.js';
import type { CacheNamespace } from '../../base/cache.js';
import { throwIfAborted } from '../../base/abort.js';
import { blit, resizeRgb } from './codec.js';
import { downsampleRows } from './shrink.js';
import { bestLevelForDownsample, type DeepZoomGeometry, type Rect } from './geometry.js';
import type { RegionReader } from './region.js';

/** a virtual level is made from a finer level at most 2^MAX_STEPS× finer (the nearest direct level, or a virtual one) */
export const MAX_STEPS = 1;
/** side of the cached pixel blocks (level pixels) */
export const BLOCK = 256;
/** a Deep Zoom level further than this from the finest slide level at or below its downsample is virtual */
export const MAX_DIRECT_RATIO = 2;
/**
 * a slide level up to this much coarser than a Deep Zoom level still serves it: scanners round level sizes (an SVS
 * level of 4443 px halved is 2221 px, downsample 2.0004), and reading the 2× level instead of level 0 there costs a
 * quarter of the decoding (JPEG 2000: seconds) for a resample by 1.0004
 */
export const LEVEL_TOLERANCE = 0.01;

export type LevelPlan =
  /** read from slide level `slideLevel`; `exact`: the Deep Zoom level IS that slide level (same size) */
  | { kind: 'direct'; slideLevel: number; exact: boolean }
  /** Deep Zoom level + `steps` shrunk 2^steps× (steps ≤ MAX_STEPS) */
  | { kind: 'virtual'; steps: number };

/** How each Deep Zoom level of `geometry` is made from the slide's levels (index: Deep Zoom level). */
export function planLevels(slide: Slide, geometry: DeepZoomGeometry): LevelPlan[] {
  const levels = slide.properties.levels;
  const plan: LevelPlan[] = new Array(geometry.levels.length);
  let direct = geometry.maxLevel; // the nearest finer direct level (the top level always is one)
  for (let l = geometry.maxLevel; l >= 0; l--) {
    const dz = geometry.levels[l];
    const s = bestLevelForDownsample(levels, dz.downsample * (1 + LEVEL_TOLERANCE));
    const L = levels[s];
    if (L.width === dz.width && L.height === dz.height) plan[l] = { kind: 'direct', slideLevel: s, exact: true };
    else if (dz.downsample / L.downsample <= MAX_DIRECT_RATIO * (1 + 1e-9)) plan[l] = { kind: 'direct', slideLevel: s, exact: false };
    else {
      plan[l] = { kind: 'virtual', steps: Math.min(direct - l, MAX_STEPS) };
      continue;
    }
    direct = l;
  }
  return plan;
}

/**
 * The rectangle of slide level `s` that covers `rect` of a Deep Zoom level of downsample `d` (OpenSlide's
 * DeepZoomGenerator: clamp the read to the level), and the same origin in level-0 pixels.
 */
export function sourceRect(slide: Slide, s: number, d: number, rect: Rect): Rect & { x0: number; y0: number } {
  const SL = slide.properties.levels[s];
  const x0 = rect.x * d;
  const y0 = rect.y * d;
  const lds = SL.downsample;
  const x = Math.min(SL.width - 1, Math.floor(x0 / lds + 1e-9));
  const y = Math.min(SL.height - 1, Math.floor(y0 / lds + 1e-9));
  const w = Math.max(1, Math.min(Math.ceil((rect.w * d) / lds - 1e-9), SL.width - x));
  const h = Math.max(1, Math.min(Math.ceil((rect.h * d) / lds - 1e-9), SL.height - y));
  return { x, y, w, h, x0, y0 };
}

export class LevelPixels {
  readonly plan: LevelPlan[];
  /** blocks built, by kind (tests, the bench) */
  readonly stats = { direct: 0, virtual: 0 };

  constructor(
    private readonly slide: Slide,
    private readonly geometry: DeepZoomGeometry,
    private readonly region: RegionReader,
    /** where blocks are kept: a namespace of the one byte-budgeted cache, owned (and disposed) by the caller */
    private readonly blocks: CacheNamespace,
  ) {
    this.plan = planLevels(slide, geometry);
  }

  /** Drops the cached blocks (the slide closed); later builds are not kept. */
  dispose(): void {
    this.blocks.dispose();
  }

  isVirtual(level: number): boolean {
    return this.plan[level]?.kind === 'virtual';
  }

  /** RGB pixels of Deep Zoom level `level` in `rect` (level pixels; the rect must lie inside the level). */
  async read(level: number, rect: Rect, signal?: AbortSignal): Promise<RgbImage> {
    const dz = this.geometry.levels[level];
    if (!dz || rect.x < 0 || rect.y < 0 || rect.w < 1 || rect.h < 1 || rect.x + rect.w > dz.width || rect.y + rect.h > dz.height) {
      throw new RangeError(`LevelPixels: ${JSON.stringify(rect)} is not inside Deep Zoom level ${level}`);
    }
    const bx0 = Math.floor(rect.x / BLOCK);
    const by0 = Math.floor(rect.y / BLOCK);
    const bx1 = Math.floor((rect.x + rect.w - 1) / BLOCK);
    const by1 = Math.floor((rect.y + rect.h - 1) / BLOCK);
    if (bx0 === bx1 && by0 === by1 && rect.w === Math.min(BLOCK, dz.width - bx0 * BLOCK) && rect.h === Math.min(BLOCK, dz.height - by0 * BLOCK)) {
      return this.block(level, bx0, by0, signal); // exactly one block
    }
    const out: RgbImage = { data: Buffer.allocUnsafe(rect.w * rect.h * 3), width: rect.w, height: rect.h };
    const jobs: Promise<void>[] = [];
    for (let by = by0; by <= by1; by++) {
      for (let bx = bx0; bx <= bx1; bx++) {
        jobs.push(
          this.block(level, bx, by, signal).then((b) => {
            const x = Math.max(rect.x, bx * BLOCK);
            const y = Math.max(rect.y, by * BLOCK);
            const x1 = Math.min(rect.x + rect.w, bx * BLOCK + b.width);
            const y1 = Math.min(rect.y + rect.h, by * BLOCK + b.height);
            blit(b, x - bx * BLOCK, y - by * BLOCK, out, x - rect.x, y - rect.y, x1 - x, y1 - y);
          }),
        );
      }
    }
    await Promise.all(jobs);
    return out;
  }

  /** Block (bx, by) of Deep Zoom level `level`: BLOCK×BLOCK level pixels, smaller at the right and bottom edges. */
  private block(level: number, bx: number, by: number, signal?: AbortSignal): Promise<RgbImage> {
    return this.blocks.load(`${level}/${bx}/${by}`, (sig) => this.buildBlock(level, bx, by, sig), signal);
  }

  private async buildBlock(level: number, bx: number, by: number, signal: AbortSignal): Promise<RgbImage> {
    const dz = this.geometry.levels[level];
    const rect = { x: bx * BLOCK, y: by * BLOCK, w: Math.min(BLOCK, dz.width - bx * BLOCK), h: Math.min(BLOCK, dz.height - by * BLOCK) };
    const plan = this.plan[level];
    if (plan.kind === 'virtual') {
      const img = await this.shrink(level + plan.steps, 2 ** plan.steps, rect, signal);
      this.stats.virtual++;
      return img;
    }
    this.stats.direct++;
    const s = plan.slideLevel;
    if (plan.exact) return this.region.read(s, rect.x, rect.y, rect.w, rect.h, rect.x * dz.downsample, rect.y * dz.downsample, signal);
    const src = sourceRect(this.slide, s, dz.downsample, rect);
    const img = await this.region.read(s, src.x, src.y, src.w, src.h, src.x0, src.y0, signal);
    throwIfAborted(signal, 'level resample');
    return resizeRgb(img, rect.w, rect.h);
  }

  /**
   * `rect` of the level `factor`× coarser than Deep Zoom level `finer`: the finer level's factor×rect (clamped to the
   * level) halved log2(factor) times by 2×2 box means; a level's odd last column / row is averaged on its own, which is
   * how the Deep Zoom level sizes round (ceil of half).
   */
  private async shrink(finer: number, factor: number, rect: Rect, signal: AbortSignal): Promise<RgbImage> {
    const F = this.geometry.levels[finer];
    const x0 = rect.x * factor;
    const y0 = rect.y * factor;
    const src = await this.read(finer, { x: x0, y: y0, w: Math.min(F.width, (rect.x + rect.w) * factor) - x0, h: Math.min(F.height, (rect.y + rect.h) * factor) - y0 }, signal);
    throwIfAborted(signal, 'virtual level');
    let { data, width, height } = src;
    for (let f = factor; f > 1; f /= 2) {
      data = downsampleRows(data, width, height);
      width = Math.ceil(width / 2);
      height = Math.ceil(height / 2);
    }
    if (width !== rect.w || height !== rect.h) throw new RangeError(`virtual level: ${width}×${height} px made for a ${rect.w}×${rect.h} block`);
    return { data, width, height };
  }
}

/**
 * Which patch next: patches inside the region of interest (the current view) first, nearest its centre first,
 * then the rest, nearest that centre first (so the analysis spreads outward from where the user looks).
 * `prioritize` re-orders what is still waiting; patches already taken are not affected.
 */
import type { Patch, Rect } from './types.js';

export class PatchScheduler {
  private pending: Patch[];

  constructor(patches: readonly Patch[], roi?: Rect) {
    this.pending = [...patches];
    if (roi) this.prioritize(roi);
  }

  get remaining(): number {
    return this.pending.length;
  }

  prioritize(roi: Rect): void {
    const cx = roi.x + roi.w / 2, cy = roi.y + roi.h / 2;
    const key = (p: Patch) => {
      const inside = p.x < roi.x + roi.w && p.x + p.w > roi.x && p.y < roi.y + roi.h && p.y + p.h > roi.y;
      const d = Math.hypot(p.x + p.w / 2 - cx, p.y + p.h / 2 - cy);
      return (inside ? 0 : 1e15) + d;
    };
    const keyed = this.pending.map((p) => [key(p), p] as const);
    keyed.sort((a, b) => a[0] - b[0] || a[1].index - b[1].index);
    this.pending = keyed.map(([, p]) => p);
  }

  /** up to n patches, in priority order */
  take(n: number): Patch[] {
    return this.pending.splice(0, n);
  }
}

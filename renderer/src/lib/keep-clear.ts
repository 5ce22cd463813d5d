/** Moving the slide so that what a panel or dialog is about is not hidden under it. */
import OpenSeadragon from 'openseadragon';

export interface ImageRect { x: number; y: number; w: number; h: number }

/**
 * Rects (level-0 px) hidden under a panel or dialog over the viewer (the explanation panel on its left, the trust
 * check's dialog in the middle), or out of view: pan them to the middle of the wider strip
 * of the viewer left or right of it (`zoomOut`: zooming out when they do not fit there; else they stay). Nothing when
 * they are in view and clear of it, or when that strip is too narrow. Returns whether the view moved.
 */
function keepClearOf(viewer: OpenSeadragon.Viewer, item: OpenSeadragon.TiledImage, rects: ImageRect[], dialog: Element, opts: { zoomOut?: boolean }): boolean {
  const vr = (viewer.canvas as HTMLElement).getBoundingClientRect();
  const dr = dialog.getBoundingClientRect();
  const x0 = Math.min(...rects.map((r) => r.x)), y0 = Math.min(...rects.map((r) => r.y));
  const x1 = Math.max(...rects.map((r) => r.x + r.w)), y1 = Math.max(...rects.map((r) => r.y + r.h));
  // the rects' bounding box on screen (client px)
  const box = () => {
    const a = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(x0, y0));
    const b = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(x1, y1));
    return { l: vr.left + a.x, t: vr.top + a.y, r: vr.left + b.x, b: vr.top + b.y };
  };
  const MARGIN = 16;
  const bb = box();
  const covered = bb.l < dr.right && bb.r > dr.left && bb.t < dr.bottom && bb.b > dr.top;
  const outside = bb.l < vr.left || bb.r > vr.right || bb.t < vr.top || bb.b > vr.bottom;
  if (!covered && !outside) return false;
  const left = { l: vr.left, r: Math.max(vr.left, Math.min(vr.right, dr.left)) };
  const right = { l: Math.min(vr.right, Math.max(vr.left, dr.right)), r: vr.right };
  const strip = left.r - left.l >= right.r - right.l ? left : right;
  if (strip.r - strip.l < 4 * MARGIN) return false;
  const fitsAcross = (strip.r - strip.l - 2 * MARGIN) / (bb.r - bb.l);
  if (fitsAcross < 1 && !opts.zoomOut) return false; // too wide for the strip: the user's zoom wins
  const scale = Math.min(1, fitsAcross, (vr.height - 2 * MARGIN) / (bb.b - bb.t));
  if (scale < 1 && opts.zoomOut) viewer.viewport.zoomBy(scale, item.imageToViewportCoordinates(new OpenSeadragon.Point((x0 + x1) / 2, (y0 + y1) / 2)), true);
  const nb = box();
  const dx = (nb.l + nb.r) / 2 - (strip.l + strip.r) / 2;
  // vertically: only when the box is not wholly in view
  const inView = nb.t >= vr.top + MARGIN && nb.b <= vr.bottom - MARGIN;
  const dy = inView ? 0 : (nb.t + nb.b) / 2 - (vr.top + vr.height / 2);
  viewer.viewport.panBy(viewer.viewport.deltaPointsFromPixels(new OpenSeadragon.Point(dx, dy)));
  return true;
}

/**
 * keepClearOf as soon as the element `selector` names is on the page (a panel's code may still be loading) and again
 * whenever it changes size (a panel grows when its result arrives); `moved` is told when the view moved. Returns the
 * function that stops watching.
 */
export function keepClearWhileShown(
  viewer: OpenSeadragon.Viewer, item: OpenSeadragon.TiledImage, rects: ImageRect[], selector: string,
  opts: { zoomOut?: boolean }, moved: () => void,
): () => void {
  if (!rects.length) return () => {};
  let ro: ResizeObserver | null = null;
  let mo: MutationObserver | null = null;
  const watch = (el: Element) => {
    // a ResizeObserver reports once when observing starts: that first report places them
    ro = new ResizeObserver(() => {
      if (keepClearOf(viewer, item, rects, el, opts)) moved();
    });
    ro.observe(el);
  };
  const el = document.querySelector(selector);
  if (el) watch(el);
  else {
    mo = new MutationObserver(() => {
      const found = document.querySelector(selector);
      if (!found) return;
      mo?.disconnect();
      mo = null;
      watch(found);
    });
    mo.observe(document.body, { childList: true, subtree: true });
  }
  return () => {
    ro?.disconnect();
    mo?.disconnect();
  };
}

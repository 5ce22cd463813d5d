/**
 * generic-tiff: tiled pyramidal TIFF / BigTIFF. Level 0 = the first full-resolution IFD; reduced levels =
 * top-level IFDs with NewSubfileType bit 0 (reduced image) or level 0's SubIFDs, sorted by size.
 * A single non-pyramidal image (tiled or stripped) opens as a one-level slide.
 */
import type { Driver, DriverResult } from '../driver.js';
import type { TiffFile, TiffImage } from '../../tiff/index.js';
import { TAG } from '../../tiff/index.js';
import { ImageLevel } from '../levels.js';
import { chooseMapping } from '../mapping.js';
import { RawProps, addTiffProps, pixelInfo } from '../properties.js';

/** Level-0 image + strictly smaller reduced images, largest first. */
export function pyramidOf(tf: TiffFile, base: TiffImage, candidates: TiffImage[]): TiffImage[] {
  const sorted = candidates
    .filter((im) => im !== base && im.width < base.width && im.height <= base.height)
    .sort((a, b) => b.width * b.height - a.width * a.height);
  const out = [base];
  for (const im of sorted) {
    const last = out[out.length - 1];
    if (im.width < last.width && im.height <= last.height) out.push(im);
  }
  return out;
}

export const genericTiff: Driver = {
  id: 'generic-tiff',
  detect: () => true,
  async open(tf: TiffFile): Promise<DriverResult> {
    const firstFull = tf.ifds.find((ifd) => (ifd.num(TAG.NewSubfileType, 0) & 1) === 0) ?? tf.ifds[0];
    const base = tf.image(firstFull);
    const reduced: TiffImage[] = [];
    for (const ifd of tf.ifds) if (ifd !== firstFull && (ifd.num(TAG.NewSubfileType, 0) & 1) === 1) reduced.push(tf.image(ifd));
    for (const sub of firstFull.subIfds) reduced.push(tf.image(sub));
    // reduced levels must look like level 0 (same sample layout) to be part of its pyramid
    const compatible = reduced.filter((im) => im.samplesPerPixel === base.samplesPerPixel && im.bitsPerSample === base.bitsPerSample && im.photometric === base.photometric);
    const images = pyramidOf(tf, base, compatible);
    const raw = new RawProps();
    addTiffProps(raw, firstFull);
    const mapping = await chooseMapping([base], [images[images.length - 1]], raw);
    return {
      vendor: 'generic-tiff',
      levels: images.map((im) => new ImageLevel([im], mapping)),
      associated: {},
      vendorMpp: null,
      resolutionIfd: firstFull,
      objectivePower: null,
      pixel: pixelInfo(base),
      hasIccProfile: firstFull.hasTag(TAG.ICCProfile),
      raw,
      warnings: [],
    };
  },
};

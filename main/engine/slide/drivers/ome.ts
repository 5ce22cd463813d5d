/**
 * ome-tiff: ImageDescription of IFD 0 is OME-XML. The first Image, plane z=0 t=0: one IFD per channel
 * (or one RGB IFD). Pyramid = each channel IFD's SubIFDs (OME-TIFF 6 layout), level k of every channel
 * together. RGB 8-bit stays RGB; other channel sets are shown as an additive composite with OME Channel
 * colours (or a default palette) and per-channel display ranges measured from the data (see mapping.ts).
 * mpp from PhysicalSizeX/Y (+unit, default µm); a unit like "pixel" means unknown.
 */
import type { Driver, DriverResult } from '../driver.js';
import { SlideError } from '../types.js';
import { TAG, type TiffFile, type TiffImage } from '../../tiff/index.js';
import { ImageLevel } from '../levels.js';
import { chooseMapping } from '../mapping.js';
import { RawProps, addTiffProps, parseDecimal, pixelInfo, toMicrometres } from '../properties.js';
import type { Rgb } from '../pixels.js';
import { parseOmeXml, planeIfds } from './ome-xml.js';
import { pyramidOf } from './generic.js';

/** OME Color is a signed 32-bit RGBA integer. */
function omeColor(v: string | undefined): Rgb | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n)) return null;
  const u = n >>> 0;
  const rgb: Rgb = [(u >>> 24) & 255, (u >>> 16) & 255, (u >>> 8) & 255];
  return rgb[0] + rgb[1] + rgb[2] === 0 ? null : rgb; // black would hide the channel: use the default
}

export const omeTiff: Driver = {
  id: 'ome-tiff',
  detect: (tf) => /<(\w+:)?OME[\s>]/.test(tf.ifds[0]?.str(TAG.ImageDescription) ?? ''),
  async open(tf: TiffFile): Promise<DriverResult> {
    const ifd0 = tf.ifds[0];
    const xml = ifd0.str(TAG.ImageDescription) ?? '';
    const ome = parseOmeXml(xml);
    const raw = new RawProps();
    addTiffProps(raw, ifd0);
    const px = ome.image?.pixels ?? {};
    if (ome.creator) raw.set('ome.Creator', ome.creator);
    if (ome.image?.name) raw.set('ome.Image.Name', ome.image.name);
    for (const [k, v] of Object.entries(px)) if (k !== 'ID') raw.set(`ome.Pixels.${k}`, v);
    ome.image?.channels.forEach((c, i) => { for (const [k, v] of Object.entries(c.attrs)) raw.set(`ome.Channel[${i}].${k}`, v); });
    if (ome.nominalMagnification !== null) raw.set('ome.Objective.NominalMagnification', ome.nominalMagnification);

    // channels of plane z=0 t=0
    const sizeC = Math.max(1, Number(px.SizeC ?? 1) || 1), sizeZ = Math.max(1, Number(px.SizeZ ?? 1) || 1), sizeT = Math.max(1, Number(px.SizeT ?? 1) || 1);
    const chEls = ome.image?.channels ?? [];
    const effC = chEls.length > 0 ? chEls.length : sizeC;
    const planes = ome.image ? planeIfds(ome.image, effC, sizeZ, sizeT) : (c: number) => c;
    const chanImages: TiffImage[] = [];
    for (let c = 0; c < effC; c++) {
      const i = planes(c, 0, 0) ?? c;
      const ifd = tf.ifds[i];
      if (!ifd) throw new SlideError('CORRUPT', `${tf.path}: OME-XML maps channel ${c} to IFD ${i}, but the file has ${tf.ifds.length} IFDs`);
      chanImages.push(tf.image(ifd));
    }
    const single = chanImages.length === 1 || (chanImages[0].samplesPerPixel >= 3 && chanImages[0].photometric === 2);
    const channels = single ? [chanImages[0]] : chanImages;
    // pyramid per channel: the IFD + its SubIFDs, largest first
    const pyramids = channels.map((im) => pyramidOf(tf, im, im.ifd.subIfds.map((s) => tf.image(s))));
    const nLevels = Math.min(...pyramids.map((p) => p.length));
    const colors = chEls.map((c) => omeColor(c.attrs.Color));
    const mapping = await chooseMapping(pyramids.map((p) => p[0]), pyramids.map((p) => p[nLevels - 1]), raw, colors);
    const levels = [];
    for (let k = 0; k < nLevels; k++) levels.push(new ImageLevel(pyramids.map((p) => p[k]), mapping));

    const mx = toMicrometres(parseDecimal(px.PhysicalSizeX), px.PhysicalSizeXUnit);
    const my = toMicrometres(parseDecimal(px.PhysicalSizeY), px.PhysicalSizeYUnit);
    if (px.PhysicalSizeX !== undefined && mx === null) raw.set('glassbox.mpp-note', `OME PhysicalSizeX ${px.PhysicalSizeX} ${px.PhysicalSizeXUnit ?? 'µm'} is not a physical length`);
    return {
      vendor: 'ome',
      levels,
      associated: {},
      vendorMpp: mx !== null ? { x: mx, y: my ?? mx } : null,
      resolutionIfd: ifd0,
      objectivePower: ome.nominalMagnification,
      pixel: pixelInfo(channels[0], single ? channels[0].samplesPerPixel : channels.length),
      hasIccProfile: ifd0.hasTag(TAG.ICCProfile),
      raw,
      warnings: [],
    };
  },
};

/**
 * aperio-svs: ImageDescription starts with "Aperio". Levels = tiled IFDs; the stripped IFD right after
 * level 0 is the thumbnail; other stripped IFDs are label / macro (named in their description, else by
 * NewSubfileType 1 = label, 9 = macro). Metadata: 'key = value' pairs after the first '|' -> aperio.*;
 * mpp from MPP, objective power from AppMag.
 */
import type { Driver, DriverResult } from '../driver.js';
import type { TiffFile, TiffImage } from '../../tiff/index.js';
import { TAG } from '../../tiff/index.js';
import { ImageLevel, type LevelSource } from '../levels.js';
import { chooseMapping } from '../mapping.js';
import { RawProps, addTiffProps, parseDecimal, pixelInfo } from '../properties.js';

/** Aperio description -> key/value pairs (later duplicates win, as in OpenSlide). */
export function parseAperioDescription(desc: string): Map<string, string> {
  const kv = new Map<string, string>();
  const parts = desc.split('|');
  for (const p of parts.slice(1)) {
    const eq = p.indexOf(' = ');
    if (eq <= 0) continue;
    kv.set(p.slice(0, eq).trim(), p.slice(eq + 3).trim());
  }
  return kv;
}

export const aperioSvs: Driver = {
  id: 'aperio-svs',
  detect: (tf) => (tf.ifds[0]?.str(TAG.ImageDescription) ?? '').startsWith('Aperio'),
  async open(tf: TiffFile): Promise<DriverResult> {
    const ifd0 = tf.ifds[0];
    const levels: TiffImage[] = [];
    const associated: Record<string, LevelSource> = {};
    const assocImages: Array<[string, TiffImage]> = [];
    const raw = new RawProps();
    const warnings: string[] = [];
    tf.ifds.forEach((ifd, i) => {
      if (ifd.hasTag(TAG.TileWidth) || i === 0) { // a broken level 0 fails the open; a broken reduced level is skipped
        if (i === 0) { levels.push(tf.image(ifd)); return; }
        try { levels.push(tf.image(ifd)); } catch (e) {
          if ((e as { code?: string }).code !== 'CORRUPT') throw e;
          warnings.push(`IFD ${i} was skipped (${(e as Error).message})`);
        }
        return;
      }
      let im: TiffImage;
      try { im = tf.image(ifd); } catch (e) { // a broken associated image is left out; the slide still opens
        warnings.push(`IFD ${i} was skipped (${(e as Error).message})`);
        return;
      }
      const desc = im.description.split(/\r?\n/)[1] ?? '';
      let name: string | null = null;
      if (i === 1) name = 'thumbnail';
      else if (/^label\b/i.test(desc)) name = 'label';
      else if (/^macro\b/i.test(desc)) name = 'macro';
      else if (im.newSubfileType === 1) name = 'label';
      else if (im.newSubfileType === 9) name = 'macro';
      if (name && !assocImages.some(([n]) => n === name)) assocImages.push([name, im]);
    });
    levels.sort((a, b) => b.width * b.height - a.width * a.height);
    addTiffProps(raw, ifd0);
    const kv = parseAperioDescription(ifd0.str(TAG.ImageDescription) ?? '');
    for (const [k, v] of kv) raw.set(`aperio.${k}`, v);
    const mapping = await chooseMapping([levels[0]], [levels[levels.length - 1]], raw);
    for (const [name, im] of assocImages) {
      try {
        associated[name] = new ImageLevel([im], await chooseMapping([im], [im], new RawProps()));
      } catch (e) { warnings.push(`associated image '${name}' was skipped (${(e as Error).message})`); }
    }
    const mpp = parseDecimal(kv.get('MPP'));
    return {
      vendor: 'aperio',
      levels: levels.map((im) => new ImageLevel([im], mapping)),
      associated,
      vendorMpp: mpp !== null && mpp > 0 ? { x: mpp, y: mpp } : null,
      resolutionIfd: null, // OpenSlide: Aperio scale comes from MPP only (the tags hold placeholders)
      objectivePower: parseDecimal(kv.get('AppMag')),
      pixel: pixelInfo(levels[0]),
      hasIccProfile: ifd0.hasTag(TAG.ICCProfile),
      raw,
      warnings,
    };
  },
};

/**
 * openSlide(path): probe once (parse the TIFF once, hand it to each driver's detect in table order,
 * generic TIFF last), build normalised properties, return a Slide.
 */
import { SlideError, type OpenSlideOptions, type Slide, type SlideProperties, type Mpp } from './types.js';
import { TiffFile } from '../tiff/index.js';
import type { Driver, DriverResult } from './driver.js';
import { aperioSvs } from './drivers/aperio.js';
import { hamamatsuNdpi } from './drivers/ndpi.js';
import { omeTiff } from './drivers/ome.js';
import { genericTiff } from './drivers/generic.js';
import { levelInfo, mppFromResolution } from './properties.js';
import { TiffSlide } from './tiff-slide.js';
import { openDicomSlide } from './drivers/dicom.js';
import { hasDicmMagic } from '../dicom/series.js';
import { stat } from 'node:fs/promises';

export * from './types.js';

/** Ordered driver table: the first whose detect() accepts the file wins; generic TIFF accepts any TIFF. */
export const DRIVERS: readonly Driver[] = [aperioSvs, hamamatsuNdpi, omeTiff, genericTiff];

export const SUPPORTED_FORMATS_TEXT = 'Glassbox reads Aperio SVS, Hamamatsu NDPI, OME-TIFF, generic tiled TIFF and DICOM whole-slide images (a .dcm file or the folder of a series)';

/** Recognises a few non-TIFF formats by magic so the error can name them (DICOM never gets here: see openSlide). */
function sniff(path: string, head: Uint8Array, size: number): void {
  const ascii = (a: number, b: number) => String.fromCharCode(...head.subarray(a, b));
  if (size === 0) throw new SlideError('CORRUPT', `${path}: empty file (0 bytes)`);
  const bo = ascii(0, 2);
  if (bo === 'II' || bo === 'MM') return;
  const known: Array<[boolean, string]> = [
    [head[0] === 0xff && head[1] === 0xd8, 'a JPEG image'],
    [ascii(1, 4) === 'PNG', 'a PNG image'],
    [ascii(0, 4) === 'PK\u0003\u0004', 'a ZIP archive (e.g. MRXS/VSI bundle)'],
    [ascii(4, 8) === 'jP  ' || (head[0] === 0xff && head[1] === 0x4f), 'JPEG 2000'],
    [ascii(0, 5) === '%PDF-', 'a PDF'],
    [ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a', 'a GIF image'],
    [ascii(0, 2) === 'BM', 'a BMP image'],
    [ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP', 'a WebP image'],
    [head[0] === 0x1f && head[1] === 0x8b, 'a gzip file'],
    [ascii(0, 6) === '7z\u00bc\u00af\u0027\u001c', 'a 7-Zip archive'],
    [head[0] === 0x89 && ascii(1, 4) === 'HDF', 'an HDF5 file'],
    [ascii(0, 4) === 'CZI' || ascii(0, 10) === 'ZISRAWFILE', 'a Zeiss CZI file'],
  ];
  const what = known.find(([k]) => k)?.[1];
  // never echo the file's bytes: error messages reach API clients
  throw new SlideError('UNSUPPORTED_FORMAT', `${path}: ${what ? `${what} is not supported` : 'not a TIFF file (no TIFF/BigTIFF header)'} (${SUPPORTED_FORMATS_TEXT})`);
}

const noPath = (path: string, m: string): string => (m.startsWith(`${path}: `) ? m.slice(path.length + 2) : m);

/**
 * Truncated / partly unreadable files: a level 0 whose data lies past EOF fails the open; other levels and
 * associated images are dropped. Everything skipped (here, while parsing IFDs, or by the driver) ends up in
 * r.warnings, one sentence each, without the file's path.
 */
async function dropIncomplete(path: string, tf: TiffFile, r: DriverResult): Promise<void> {
  const warnings = tf.warnings.map((w) => noPath(path, w));
  const size = tf.src.size;
  const top = r.levels.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const kept: typeof r.levels = [];
  for (const l of r.levels) {
    const why = l.checkExtent ? await l.checkExtent(size) : null;
    if (!why) { kept.push(l); continue; }
    const name = `${l.width}×${l.height}${l.origin ? ` (${l.origin})` : ''}`;
    if (l === top) throw new SlideError('CORRUPT', `${path}: level 0 ${name} is incomplete: ${why}: the file is truncated or corrupt`);
    warnings.push(`pyramid level ${name} was skipped because ${why}`);
  }
  r.levels = kept;
  for (const [n, a] of Object.entries(r.associated)) {
    const why = a.checkExtent ? await a.checkExtent(size) : null;
    if (!why) continue;
    delete r.associated[n];
    warnings.push(`associated image '${n}'${a.origin ? ` (${a.origin})` : ''} was skipped because ${why}`);
  }
  r.warnings = [...warnings, ...r.warnings.map((w) => w.split(`${path}: `).join(''))];
}

export async function openSlide(path: string, opts: OpenSlideOptions = {}): Promise<Slide> {
  // DICOM: a file with the DICM magic, or a folder (the DICOM driver says "is a directory" when it holds no series)
  const isDir = await stat(path).then((st) => st.isDirectory(), () => false);
  if (isDir || (await hasDicmMagic(path))) return openDicomSlide(path, opts);
  const tf = await TiffFile.open(path, (head, size) => sniff(path, head, size));
  try {
    const driver = DRIVERS.find((d) => d.detect(tf)) ?? genericTiff;
    const r = await driver.open(tf, opts);
    if (r.levels.length === 0) throw new SlideError('CORRUPT', `${path}: no pyramid level found (${driver.id})`);
    await dropIncomplete(path, tf, r);
    const levels = [...r.levels].sort((a, b) => b.width * b.height - a.width * a.height);
    const infos = levelInfo(levels);
    let mpp: Mpp | null = null;
    if (r.vendorMpp) mpp = { ...r.vendorMpp, source: 'vendor' };
    else if (r.resolutionIfd) {
      const m = mppFromResolution(r.resolutionIfd);
      if ('reason' in m) r.raw.set('glassbox.mpp-note', `no mpp: ${m.reason}`);
      else mpp = { x: m.x, y: m.y, source: 'tiff-resolution' };
    }
    const o = opts.mppOverride;
    if (o) {
      if (!(Number.isFinite(o.x) && Number.isFinite(o.y) && o.x > 0 && o.y > 0)) {
        throw new SlideError('OUT_OF_RANGE', `${path}: mppOverride must be positive finite numbers (got ${o.x}, ${o.y})`);
      }
      mpp = { x: o.x, y: o.y, source: 'user' };
    }
    const properties: SlideProperties = {
      format: driver.id,
      vendor: r.vendor,
      width: infos[0].width,
      height: infos[0].height,
      levels: infos,
      mpp,
      objectivePower: r.objectivePower !== null && Number.isFinite(r.objectivePower) && r.objectivePower > 0 ? r.objectivePower : null,
      associatedImages: Object.keys(r.associated).sort(),
      pixel: r.pixel,
      compression: levels[0].compression,
      hasIccProfile: r.hasIccProfile,
      warnings: r.warnings,
      raw: r.raw.map,
    };
    return new TiffSlide(path, tf, properties, levels, r.associated, r.dispose);
  } catch (e) {
    await tf.close().catch(() => {});
    if (e instanceof SlideError) throw e;
    throw new SlideError('CORRUPT', `${path}: cannot open slide (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
}

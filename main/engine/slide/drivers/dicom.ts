/**
 * dicom: DICOM VL Whole Slide Microscopy series (a folder of one series, or any file of it).
 * - levels: the VOLUME instances, largest first (one per size: a second instance of the same size, i.e. another
 *   focal plane or optical path, is left out with a warning);
 * - tiles: frames (Columns × Rows), in TILED_FULL order (first focal plane and optical path), or placed by the
 *   per-frame Plane Position (Slide) for TILED_SPARSE (absent tiles are white);
 * - JPEG Baseline frames pass through (see ../../dicom/decode.ts for their colour);
 * - mpp from PixelSpacing (mm, row spacing first: y then x), objective from ObjectiveLensPower;
 * - associated images from ImageType: LABEL → label, OVERVIEW → macro, THUMBNAIL → thumbnail.
 * Frames are read by offset (../../dicom/frames.ts); nothing but headers is read at open.
 */
import { basename } from 'node:path';
import { SlideError } from '../../errors.js';
import { LIMITS, throwIfAborted } from '../../tiff/index.js';
import { frameCodec, TRANSFER_SYNTAXES, type DicomHeader, type FrameCodec } from '../../dicom/header.js';
import { encapsulatedFrames, nativeFrames, readFrame, type FrameIndex } from '../../dicom/frames.js';
import { decodeFrame, frameAsJpeg } from '../../dicom/decode.js';
import { closeAll, findSeries, type DicomInstance } from '../../dicom/series.js';
import type { LevelSource } from '../levels.js';
import { levelInfo, RawProps } from '../properties.js';
import { TiffSlide } from '../tiff-slide.js';
import type { EncodedTile, Mpp, OpenSlideOptions, RgbImage, Slide, SlideProperties } from '../types.js';

export const DICOM_FORMAT = 'dicom';

const ASSOCIATED: Record<string, string> = { LABEL: 'label', OVERVIEW: 'macro', THUMBNAIL: 'thumbnail' };
const PHOTOMETRIC: Record<string, string> = {
  RGB: 'rgb', YBR_FULL: 'ycbcr', YBR_FULL_422: 'ycbcr', YBR_ICT: 'ycbcr', YBR_RCT: 'ycbcr', MONOCHROME2: 'min-is-black', MONOCHROME1: 'min-is-white',
};
const COMPRESSION: Record<FrameCodec, string> = { jpeg: 'jpeg', jpeg2000: 'jpeg2000', native: 'none' };

/** One instance's frames as a level's tile grid. */
export class DicomLevel implements LevelSource {
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly tilesAcross: number;
  readonly tilesDown: number;
  readonly compression: string;
  label?: string;
  /** frame index of each tile (row-major), -1 where a sparse instance has none */
  private readonly tileFrame: Int32Array;

  private constructor(private readonly inst: DicomInstance, private readonly codec: FrameCodec, private readonly frames: FrameIndex) {
    const h = inst.header;
    const path = inst.path;
    this.width = h.totalColumns;
    this.height = h.totalRows;
    this.tileWidth = h.columns;
    this.tileHeight = h.rows;
    this.compression = COMPRESSION[codec];
    if (!(this.width >= 1 && this.height >= 1) || this.width > LIMITS.maxDimension || this.height > LIMITS.maxDimension) {
      throw new SlideError('CORRUPT', `${path}: total pixel matrix ${h.totalColumns}×${h.totalRows} is not valid`);
    }
    if (h.columns * h.rows > LIMITS.maxTilePixels) throw new SlideError('LIMIT', `${path}: frame of ${h.columns}×${h.rows} px exceeds the ${LIMITS.maxTilePixels}-pixel limit`);
    this.tilesAcross = Math.ceil(this.width / this.tileWidth);
    this.tilesDown = Math.ceil(this.height / this.tileHeight);
    const tiles = this.tilesAcross * this.tilesDown;
    if (tiles > LIMITS.maxTiles) throw new SlideError('LIMIT', `${path}: ${tiles} tiles exceed the ${LIMITS.maxTiles}-tile limit`);
    this.tileFrame = new Int32Array(tiles).fill(-1);
    if (h.dimensionOrganization === 'TILED_SPARSE' || (h.dimensionOrganization !== 'TILED_FULL' && h.positions)) {
      if (!h.positions) {
        throw new SlideError('CORRUPT', `${path}: TILED_SPARSE instance without a Plane Position (Slide) for each of its ${h.frames} frames`);
      }
      h.positions.forEach(([c, r], f) => {
        const col = (c - 1) / h.columns, row = (r - 1) / h.rows;
        if (!Number.isInteger(col) || !Number.isInteger(row)) {
          throw new SlideError('UNSUPPORTED', `${path}: frame ${f + 1} lies at column ${c}, row ${r}, off the ${h.columns}×${h.rows} tile grid (not supported)`);
        }
        if (col < 0 || row < 0 || col >= this.tilesAcross || row >= this.tilesDown) return; // outside the matrix
        const k = row * this.tilesAcross + col;
        if (this.tileFrame[k] < 0) this.tileFrame[k] = f; // first focal plane / optical path wins
      });
    } else {
      if (h.frames < tiles) {
        throw new SlideError('CORRUPT', `${path}: ${h.frames} frame(s) cannot tile a ${h.totalColumns}×${h.totalRows} matrix in ${h.columns}×${h.rows} frames (${tiles} needed, TILED_FULL)`);
      }
      for (let k = 0; k < tiles; k++) this.tileFrame[k] = k;
    }
  }

  /** Checks the instance (pixel format, transfer syntax) and indexes its frames. */
  static async open(inst: DicomInstance): Promise<DicomLevel> {
    const h = inst.header;
    const codec = frameCodec(inst.path, h);
    if (h.samplesPerPixel !== 1 && h.samplesPerPixel !== 3) {
      throw new SlideError('UNSUPPORTED', `${inst.path}: ${h.samplesPerPixel} samples per pixel are not supported (1 or 3)`);
    }
    if (!(h.bitsStored <= 8 || (codec === 'native' && h.bitsAllocated === 8))) {
      throw new SlideError('UNSUPPORTED', `${inst.path}: ${h.bitsStored}-bit samples are not supported (8-bit only)`);
    }
    const frames = codec === 'native' ? nativeFrames(inst.path, h, inst.src.size) : await encapsulatedFrames(inst.src, h, codec);
    return new DicomLevel(inst, codec, frames);
  }

  get origin(): string { return basename(this.inst.path); }

  private visible(col: number, row: number): { w: number; h: number } {
    return { w: Math.min(this.tileWidth, this.width - col * this.tileWidth), h: Math.min(this.tileHeight, this.height - row * this.tileHeight) };
  }

  private what(col: number, row: number, frame: number): string {
    return `${this.inst.path}: ${this.label ?? 'image'} tile (${col},${row}) (frame ${frame + 1})`;
  }

  async readTile(col: number, row: number, signal?: AbortSignal): Promise<RgbImage> {
    const vis = this.visible(col, row);
    const f = this.tileFrame[row * this.tilesAcross + col];
    if (f < 0) return { data: new Uint8Array(vis.w * vis.h * 3).fill(255), width: vis.w, height: vis.h };
    const what = this.what(col, row, f);
    const bytes = await readFrame(this.inst.src, this.frames, f, signal, what);
    throwIfAborted(signal, what);
    return decodeFrame(bytes, this.inst.header, this.codec, what, vis, signal);
  }

  async readEncoded(col: number, row: number, signal?: AbortSignal): Promise<EncodedTile | null> {
    const f = this.tileFrame[row * this.tilesAcross + col];
    if (this.codec !== 'jpeg' || f < 0) return null;
    const what = this.what(col, row, f);
    const bytes = await readFrame(this.inst.src, this.frames, f, signal, what);
    const { jpeg } = frameAsJpeg(bytes, this.inst.header, what, this.visible(col, row));
    throwIfAborted(signal, what);
    return { mime: 'image/jpeg', bytes: jpeg, width: this.tileWidth, height: this.tileHeight };
  }
}

const kind = (h: DicomHeader): string => h.imageType[2] ?? '';

/** Opens a DICOM WSI series (`path`: a folder or a file of it) as a Slide. */
export async function openDicomSlide(path: string, opts: OpenSlideOptions = {}): Promise<Slide> {
  const instances = await findSeries(path);
  try {
    return await build(path, instances, opts);
  } catch (e) {
    await closeAll(instances);
    if (e instanceof SlideError) throw e;
    throw new SlideError('CORRUPT', `${path}: cannot open DICOM slide (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
}

async function build(path: string, instances: DicomInstance[], opts: OpenSlideOptions): Promise<Slide> {
  const warnings: string[] = [];
  // VOLUME instances; a series whose instances carry no ImageType value 3 at all (non-conformant) uses those
  const isVolume = instances.some((i) => kind(i.header) === 'VOLUME') ? (h: DicomHeader) => kind(h) === 'VOLUME' : (h: DicomHeader) => kind(h) === '';
  const volumes = instances.filter((i) => isVolume(i.header))
    .sort((a, b) => b.header.totalColumns * b.header.totalRows - a.header.totalColumns * a.header.totalRows);
  if (volumes.length === 0) {
    const kinds = [...new Set(instances.map((i) => kind(i.header) || '(none)'))].join(', ');
    throw new SlideError('UNSUPPORTED_FORMAT', `${path}: the DICOM series has no VOLUME instance (image types: ${kinds}), so no pyramid to show`);
  }
  const levels: DicomLevel[] = [];
  const used: DicomInstance[] = [];
  for (const inst of volumes) {
    const h = inst.header;
    const prev = used[used.length - 1]?.header;
    if (prev && !(h.totalColumns < prev.totalColumns || h.totalRows < prev.totalRows)) {
      warnings.push(`${basename(inst.path)} (${h.totalColumns}×${h.totalRows}) was left out: another instance of that size is already a level (another focal plane or optical path)`);
      continue;
    }
    try {
      levels.push(await DicomLevel.open(inst));
      used.push(inst);
      if (h.focalPlanes > 1 || h.opticalPaths > 1) {
        warnings.push(`${basename(inst.path)} holds ${h.focalPlanes} focal plane(s) and ${h.opticalPaths} optical path(s): only the first of each is shown`);
      }
    } catch (e) {
      if (levels.length === 0 || !(e instanceof SlideError)) throw e; // level 0 must open
      warnings.push(`pyramid level ${basename(inst.path)} (${h.totalColumns}×${h.totalRows}) was skipped because ${e.message.replace(`${inst.path}: `, '')}`);
    }
  }
  const associated: Record<string, DicomLevel> = {};
  const assocInstances: DicomInstance[] = [];
  for (const inst of instances) {
    const name = ASSOCIATED[kind(inst.header)];
    if (!name || associated[name]) continue;
    try {
      associated[name] = await DicomLevel.open(inst);
      associated[name].label = `associated image '${name}'`;
      assocInstances.push(inst);
    } catch (e) {
      if (!(e instanceof SlideError)) throw e;
      warnings.push(`associated image '${name}' (${basename(inst.path)}) was skipped because ${e.message.replace(`${inst.path}: `, '')}`);
    }
  }
  const base = used[0].header;
  const infos = levelInfo(levels);
  const raw = new RawProps();
  for (const [k, v] of Object.entries(base.props)) raw.set(`dicom.${k}`, v);
  raw.set('dicom.TransferSyntaxUID', base.transferSyntax);
  raw.set('dicom.TransferSyntax', TRANSFER_SYNTAXES[base.transferSyntax]?.name);
  raw.set('dicom.ImageType', base.imageType.join('\\'));
  if (base.pixelSpacing) raw.set('dicom.PixelSpacing', base.pixelSpacing.join('\\'));
  if (base.objectivePower !== null) raw.set('dicom.ObjectiveLensPower', base.objectivePower);
  raw.set('dicom.instances', instances.length);
  used.forEach((inst, i) => {
    raw.set(`dicom.level[${i}].file`, basename(inst.path));
    raw.set(`dicom.level[${i}].frames`, inst.header.frames);
    raw.set(`dicom.level[${i}].SOPInstanceUID`, inst.header.sopInstanceUid);
  });
  const ps = base.pixelSpacing;
  let mpp: Mpp | null = ps ? { x: ps[1] * 1000, y: ps[0] * 1000, source: 'vendor' } : null;
  const o = opts.mppOverride;
  if (o) {
    if (!(Number.isFinite(o.x) && Number.isFinite(o.y) && o.x > 0 && o.y > 0)) {
      throw new SlideError('OUT_OF_RANGE', `${path}: mppOverride must be positive finite numbers (got ${o.x}, ${o.y})`);
    }
    mpp = { x: o.x, y: o.y, source: 'user' };
  }
  const power = used.map((i) => i.header.objectivePower).find((p) => p !== null) ?? null;
  const properties: SlideProperties = {
    format: DICOM_FORMAT,
    vendor: 'dicom',
    width: infos[0].width,
    height: infos[0].height,
    levels: infos,
    mpp,
    objectivePower: power,
    associatedImages: Object.keys(associated).sort(),
    pixel: { channels: base.samplesPerPixel, bitsPerSample: 8, sampleFormat: 'uint', photometric: PHOTOMETRIC[base.photometric] ?? base.photometric.toLowerCase() },
    compression: levels[0].compression,
    hasIccProfile: base.hasIccProfile,
    warnings,
    raw: raw.map,
  };
  // instances that are neither a level nor an associated image are not needed: close them now
  const keep = new Set<DicomInstance>([...used, ...assocInstances]);
  await closeAll(instances.filter((i) => !keep.has(i)));
  return new TiffSlide(path, { close: () => closeAll([...keep]) }, properties, levels, associated, undefined, [...keep].map((i) => i.path));
}

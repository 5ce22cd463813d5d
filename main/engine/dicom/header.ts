/**
 * One DICOM Part 10 file's header, read with dicom-parser (cornerstonejs) and bounded: only the bytes before the
 * Pixel Data element are read (64 KiB first, more only when the header is longer, never past HEADER_MAX), and
 * parsing stops at Pixel Data (dicom-parser's untilTag), so a multi-gigabyte instance costs a few kilobytes to open.
 * The attributes a whole-slide reader needs are copied out into a plain DicomHeader; the parsed data set is dropped.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { SlideError } from '../errors.js';
import type { FileSource } from '../tiff/source.js';

export const PIXEL_DATA = 'x7fe00010';
/** VL Whole Slide Microscopy Image Storage */
export const WSM_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.77.1.6';
const HEADER_START = 64 * 1024;
const HEADER_MAX = 64 * 1024 * 1024;

/** How a transfer syntax stores its frames. */
export type FrameCodec = 'native' | 'jpeg' | 'jpeg2000';

/** Transfer syntaxes we read, with a name for messages. */
export const TRANSFER_SYNTAXES: Record<string, { name: string; codec: FrameCodec }> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', codec: 'native' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline', codec: 'jpeg' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended', codec: 'jpeg' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', codec: 'jpeg2000' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', codec: 'jpeg2000' },
};

/** Names of transfer syntaxes we recognise but do not read (for a clear refusal). */
const UNREAD_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-lossless',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

/** A few SOP classes by name, so a refusal can say what the file is. */
const SOP_NAMES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.2': 'CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.4': 'MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.1.2': 'Digital Mammography X-Ray Image Storage',
  '1.2.840.10008.5.1.4.1.1.77.1.2': 'VL Microscopic Image Storage',
  '1.2.840.10008.5.1.4.1.1.77.1.3': 'VL Slide-Coordinates Microscopic Image Storage',
  '1.2.840.10008.5.1.4.1.1.66.4': 'Segmentation Storage',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR Storage',
  [WSM_SOP_CLASS]: 'VL Whole Slide Microscopy Image Storage',
};

export const sopClassName = (uid: string): string => SOP_NAMES[uid] ? `${SOP_NAMES[uid]} (${uid})` : `SOP class ${uid || '(none)'}`;

export interface DicomHeader {
  transferSyntax: string;
  sopClass: string;
  sopInstanceUid: string;
  seriesUid: string;
  studyUid: string;
  frameOfReferenceUid: string;
  /** ImageType values, upper-case, e.g. ['DERIVED', 'PRIMARY', 'VOLUME', 'NONE'] */
  imageType: string[];
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  planar: number;
  bitsAllocated: number;
  bitsStored: number;
  /** Total Pixel Matrix Columns / Rows (falls back to Columns / Rows for a single frame) */
  totalColumns: number;
  totalRows: number;
  /** 'TILED_FULL', 'TILED_SPARSE', or '' when absent */
  dimensionOrganization: string;
  /** PixelSpacing in mm: [between rows (y), between columns (x)], or null */
  pixelSpacing: [number, number] | null;
  objectivePower: number | null;
  opticalPaths: number;
  focalPlanes: number;
  hasIccProfile: boolean;
  /** TILED_SPARSE: each frame's 1-based (column, row) position in the total pixel matrix; null when absent */
  positions: Array<[number, number]> | null;
  /** Pixel Data: where its value starts, its length (null: undefined length, i.e. encapsulated) */
  pixelData: { offset: number; length: number | null };
  /** Extended Offset Table (7FE0,0001) / lengths (7FE0,0002), as byte ranges in the file, when present */
  extendedOffsets: { offset: number; length: number; lengthsOffset: number | null } | null;
  /** descriptive attributes for SlideProperties.raw (no patient identifiers) */
  props: Record<string, string>;
}

const DESCRIPTIVE: Array<[string, string]> = [
  ['x00080070', 'Manufacturer'], ['x00081090', 'ManufacturerModelName'], ['x00181000', 'DeviceSerialNumber'],
  ['x00181020', 'SoftwareVersions'], ['x0008103e', 'SeriesDescription'], ['x00080020', 'StudyDate'],
  ['x0008002a', 'AcquisitionDateTime'], ['x00080023', 'ContentDate'], ['x00080033', 'ContentTime'],
  ['x00400512', 'ContainerIdentifier'], ['x0020000d', 'StudyInstanceUID'], ['x0020000e', 'SeriesInstanceUID'],
  ['x00200052', 'FrameOfReferenceUID'], ['x00020013', 'ImplementationVersionName'], ['x00080060', 'Modality'],
  ['x00209311', 'DimensionOrganizationType'], ['x00280004', 'PhotometricInterpretation'], ['x00082111', 'DerivationDescription'],
];

function str(ds: DataSet, tag: string): string {
  return (ds.string(tag) ?? '').replace(/\0/g, '').trim();
}

function num(ds: DataSet, tag: string, kind: 'us' | 'ul' | 'is'): number {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return NaN;
  const v = kind === 'us' ? ds.uint16(tag) : kind === 'ul' ? ds.uint32(tag) : ds.intString(tag);
  return v === undefined ? NaN : v;
}

function item(ds: DataSet | undefined, tag: string, i = 0): DataSet | undefined {
  return ds?.elements[tag]?.items?.[i]?.dataSet;
}

function pixelSpacing(ds: DataSet): [number, number] | null {
  const from = (d: DataSet | undefined): [number, number] | null => {
    if (!d?.elements.x00280030) return null;
    const r = d.floatString('x00280030', 0), c = d.floatString('x00280030', 1);
    return r !== undefined && c !== undefined && r > 0 && c > 0 && Number.isFinite(r) && Number.isFinite(c) ? [r, c] : null;
  };
  return from(item(item(ds, 'x52009229'), 'x00289110')) ?? from(ds) ?? from(item(item(ds, 'x52009230'), 'x00289110'));
}

function positions(ds: DataSet, frames: number): Array<[number, number]> | null {
  const perFrame = ds.elements.x52009230?.items;
  if (!perFrame || perFrame.length === 0) return null;
  if (perFrame.length !== frames) return null;
  const out: Array<[number, number]> = [];
  for (const it of perFrame) {
    const pos = item(it.dataSet, 'x0048021a');
    const c = pos?.int32('x0048021e'), r = pos?.int32('x0048021f');
    if (c === undefined || r === undefined) return null;
    out.push([c, r]);
  }
  return out;
}

const isTruncation = (e: unknown): boolean => /past end|overrun|maxPosition|beyond|buffer/i.test(errorText(e));

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return errorText((e as { exception: unknown }).exception);
  return String(e);
}

/**
 * Reads and parses the header of the DICOM file behind `src` (everything before Pixel Data). Throws SlideError:
 * UNSUPPORTED_FORMAT (not DICOM Part 10), CORRUPT (unparseable / truncated header, no Pixel Data), LIMIT.
 */
export async function readDicomHeader(src: FileSource): Promise<DicomHeader> {
  const path = src.path;
  let n = Math.min(src.size, HEADER_START);
  for (;;) {
    const bytes = await src.read(0, n, undefined, 'DICOM header');
    if (n >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
      throw new SlideError('UNSUPPORTED_FORMAT', `${path}: not a DICOM Part 10 file (no DICM magic at byte 128)`);
    }
    let ds: DataSet | null = null;
    let err: unknown = null;
    try {
      // implicit VR: dicom-parser recognises a sequence by the item tag its value starts with
      ds = dicomParser.parseDicom(bytes, { untilTag: PIXEL_DATA });
    } catch (e) {
      err = e;
    }
    if (ds?.elements[PIXEL_DATA]) return extract(path, ds, src.size);
    if (n >= src.size) {
      if (ds) throw new SlideError('CORRUPT', `${path}: DICOM file has no Pixel Data element (not an image, or truncated before its pixels)`);
      const why = errorText(err).replace(/^dicomParser\.?\w*:?\s*/, '');
      throw new SlideError('CORRUPT', `${path}: DICOM header cannot be parsed (${why})${isTruncation(err) ? ': the file is truncated or corrupt' : ''}`, { cause: err });
    }
    if (n >= HEADER_MAX) {
      throw new SlideError('LIMIT', `${path}: DICOM header is larger than the ${HEADER_MAX / 2 ** 20} MiB limit (Pixel Data not found in the first ${n} bytes)`);
    }
    n = Math.min(src.size, n * 4, HEADER_MAX);
  }
}

function extract(path: string, ds: DataSet, fileSize: number): DicomHeader {
  const px: Element = ds.elements[PIXEL_DATA];
  const rows = num(ds, 'x00280010', 'us'), columns = num(ds, 'x00280011', 'us');
  const framesRaw = num(ds, 'x00280008', 'is');
  const frames = Number.isFinite(framesRaw) ? framesRaw : 1;
  const totalColumns = num(ds, 'x00480006', 'ul'), totalRows = num(ds, 'x00480007', 'ul');
  const single = frames === 1 && !(totalColumns > 0);
  const imageType = str(ds, 'x00080008').toUpperCase().split('\\').map((s) => s.trim());
  const optical = item(ds, 'x00480105');
  const opw = optical?.floatString('x00480112');
  const eot = ds.elements.x7fe00001, eotl = ds.elements.x7fe00002;
  const props: Record<string, string> = {};
  for (const [tag, name] of DESCRIPTIVE) {
    const v = str(ds, tag);
    if (v) props[name] = v;
  }
  if (!Number.isFinite(rows) || !Number.isFinite(columns) || rows < 1 || columns < 1) {
    throw new SlideError('CORRUPT', `${path}: DICOM image has no valid Rows/Columns (${rows}×${columns})`);
  }
  if (!(frames >= 1) || frames > 10_000_000) throw new SlideError('CORRUPT', `${path}: NumberOfFrames ${framesRaw} is not valid`);
  const length = px.hadUndefinedLength ? null : px.length;
  if (px.dataOffset > fileSize) throw new SlideError('CORRUPT', `${path}: Pixel Data starts past the end of the file: truncated`);
  return {
    transferSyntax: str(ds, 'x00020010'),
    sopClass: str(ds, 'x00080016') || str(ds, 'x00020002'),
    sopInstanceUid: str(ds, 'x00080018'),
    seriesUid: str(ds, 'x0020000e'),
    studyUid: str(ds, 'x0020000d'),
    frameOfReferenceUid: str(ds, 'x00200052'),
    imageType,
    rows, columns, frames,
    samplesPerPixel: num(ds, 'x00280002', 'us') || 1,
    photometric: str(ds, 'x00280004').toUpperCase(),
    planar: num(ds, 'x00280006', 'us') || 0,
    bitsAllocated: num(ds, 'x00280100', 'us'),
    bitsStored: num(ds, 'x00280101', 'us'),
    totalColumns: single ? columns : totalColumns,
    totalRows: single ? rows : totalRows,
    dimensionOrganization: str(ds, 'x00209311').toUpperCase(),
    pixelSpacing: pixelSpacing(ds),
    objectivePower: opw !== undefined && Number.isFinite(opw) && opw > 0 ? opw : null,
    opticalPaths: num(ds, 'x00480302', 'ul') || 1,
    focalPlanes: num(ds, 'x00480303', 'ul') || 1,
    hasIccProfile: !!(optical?.elements.x00282000?.length || ds.elements.x00282000?.length),
    positions: positions(ds, frames),
    pixelData: { offset: px.dataOffset, length },
    extendedOffsets: eot && eot.length >= 8 ? { offset: eot.dataOffset, length: eot.length, lengthsOffset: eotl && eotl.length === eot.length ? eotl.dataOffset : null } : null,
    props,
  };
}

/** Refuses transfer syntaxes we do not read, naming them. */
export function frameCodec(path: string, h: DicomHeader): FrameCodec {
  const ts = TRANSFER_SYNTAXES[h.transferSyntax];
  if (ts) return ts.codec;
  const name = UNREAD_SYNTAXES[h.transferSyntax];
  const supported = [...new Set(Object.values(TRANSFER_SYNTAXES).map((t) => t.name))].join(', ');
  throw new SlideError('UNSUPPORTED', `${path}: DICOM transfer syntax ${name ? `${name} (${h.transferSyntax})` : `'${h.transferSyntax || '(none)'}'`} is not supported (Glassbox reads ${supported})`);
}

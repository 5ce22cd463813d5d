/**
 * Finding the instances of one DICOM whole-slide series: a folder holding one series, or any file of a series
 * (its folder is scanned for the other instances with the same SeriesInstanceUID). Files are recognised by the
 * DICM magic (never by extension); only their headers are read. Instances of a series need not share a
 * FrameOfReferenceUID (Google's wsi2dcm gives each level its own).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SlideError } from '../errors.js';
import { FileSource } from '../tiff/source.js';
import dicomParser from 'dicom-parser';
import { readDicomHeader, sopClassName, WSM_SOP_CLASS, type DicomHeader } from './header.js';

export interface DicomInstance {
  path: string;
  src: FileSource;
  header: DicomHeader;
}

/** Files looked at in one folder (a WSI series has tens of instances; more is not a slide folder). */
export const MAX_FOLDER_FILES = 10_000;
const PARALLEL = 8;

/** True when `path` is a regular file with the DICM magic at byte 128. Never throws; never opens a FIFO or device. */
export async function hasDicmMagic(path: string): Promise<boolean> {
  let fh;
  try {
    if (!(await stat(path)).isFile()) return false;
    fh = await open(path, 'r');
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 128);
    return bytesRead === 4 && b.toString('latin1') === 'DICM';
  } catch {
    return false;
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * The Media Storage SOP Class UID of a DICOM file's meta header (first 16 KiB only), '' when the meta header cannot be
 * read there, null when `path` is not a regular file with the DICM magic. Lets a folder scan skip other kinds of
 * DICOM (CT slices, reports) without parsing their data sets.
 */
export async function peekSopClass(path: string): Promise<string | null> {
  let fh;
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size < 132) return null;
    fh = await open(path, 'r');
    const b = Buffer.alloc(Math.min(st.size, 16 * 1024));
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    if (bytesRead < 132 || b.toString('latin1', 128, 132) !== 'DICM') return null;
    try {
      return (dicomParser.readPart10Header(b.subarray(0, bytesRead)).string('x00020002') ?? '').replace(/\0/g, '').trim();
    } catch {
      return '';
    }
  } catch {
    return null;
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** Opens one file's header; the file stays open (its frames are read later). */
export async function openInstance(path: string): Promise<DicomInstance> {
  const src = await FileSource.open(path);
  try {
    return { path, src, header: await readDicomHeader(src) };
  } catch (e) {
    await src.close().catch(() => {});
    throw e;
  }
}

export async function closeAll(instances: DicomInstance[]): Promise<void> {
  await Promise.allSettled(instances.map((i) => i.src.close()));
}

/** DICOM files (by magic) directly in `dir`, sorted by name, with their meta header's SOP class. */
async function dicomFilesIn(dir: string): Promise<Array<[string, string]>> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() || d.isSymbolicLink()).map((d) => d.name).sort();
  } catch (e) {
    throw new SlideError('NOT_FOUND', `${dir}: cannot list the folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  if (names.length > MAX_FOLDER_FILES) {
    throw new SlideError('LIMIT', `${dir}: the folder holds ${names.length} files, more than the ${MAX_FOLDER_FILES} looked at for a DICOM series`);
  }
  const out: Array<[string, string]> = [];
  await forEachLimited(names, async (n) => {
    const sop = await peekSopClass(join(dir, n));
    if (sop !== null) out.push([join(dir, n), sop]);
  });
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

async function forEachLimited<T>(items: T[], f: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) await f(items[next++]);
  }));
}

/**
 * Headers of the WSM files among `paths`, grouped by SeriesInstanceUID; files that are not DICOM WSM (other SOP
 * classes, unreadable headers) are closed and described in `others`.
 */
async function openAll(files: Array<[string, string]>, keep: (h: DicomHeader) => boolean): Promise<{ opened: DicomInstance[]; others: string[] }> {
  const opened: DicomInstance[] = [];
  const others: string[] = [];
  await forEachLimited(files, async ([p, sop]) => {
    if (sop && sop !== WSM_SOP_CLASS) { others.push(`${basename(p)}: ${sopClassName(sop)}`); return; }
    try {
      const inst = await openInstance(p);
      if (inst.header.sopClass === WSM_SOP_CLASS && keep(inst.header)) opened.push(inst);
      else {
        if (inst.header.sopClass !== WSM_SOP_CLASS) others.push(`${basename(p)}: ${sopClassName(inst.header.sopClass)}`);
        await inst.src.close();
      }
    } catch (e) {
      others.push(`${basename(p)}: ${(e as Error).message.replace(`${p}: `, '')}`);
    }
  });
  opened.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { opened, others };
}

/**
 * The instances of the series at `path` (a folder or one file of it). Throws SlideError naming the problem:
 * a folder without DICOM WSM files (NOT_FOUND, "is a directory"), a folder with several series, a DICOM file of
 * another kind (UNSUPPORTED_FORMAT, naming its SOP class).
 */
export async function findSeries(path: string): Promise<DicomInstance[]> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new SlideError('NOT_FOUND', `${path}: cannot open slide (${e.code === 'ENOENT' ? 'no such file' : e.code ?? String(e)})`, { cause: e });
  });
  if (st.isDirectory()) {
    const files = await dicomFilesIn(path);
    if (files.length === 0) throw new SlideError('NOT_FOUND', `${path}: is a directory, not a slide file (and it holds no DICOM whole-slide images)`);
    const { opened, others } = await openAll(files, () => true);
    if (opened.length === 0) {
      throw new SlideError('UNSUPPORTED_FORMAT', `${path}: is a directory whose DICOM files are not VL Whole Slide Microscopy images (${others.slice(0, 3).join('; ')}${others.length > 3 ? '; …' : ''})`);
    }
    const series = new Map<string, DicomInstance[]>();
    for (const i of opened) series.set(i.header.seriesUid, [...(series.get(i.header.seriesUid) ?? []), i]);
    if (series.size > 1) {
      await closeAll(opened);
      const list = [...series.values()].map((s) => `${s[0].header.props.SeriesDescription ? `'${s[0].header.props.SeriesDescription}' ` : ''}(${s.length} file${s.length === 1 ? '' : 's'}, e.g. ${basename(s[0].path)})`);
      throw new SlideError('UNSUPPORTED_FORMAT', `${path}: the folder holds ${series.size} DICOM whole-slide series (${list.join('; ')}): open one file of the series to show`);
    }
    return opened;
  }
  const first = await openInstance(path);
  if (first.header.sopClass !== WSM_SOP_CLASS) {
    await first.src.close();
    throw new SlideError('UNSUPPORTED_FORMAT', `${path}: this DICOM file is a ${sopClassName(first.header.sopClass)} image, not a VL Whole Slide Microscopy image (${WSM_SOP_CLASS}): Glassbox opens DICOM whole-slide images only`);
  }
  const uid = first.header.seriesUid;
  const siblings = (await dicomFilesIn(dirname(path))).filter(([p]) => basename(p) !== basename(path));
  const { opened } = await openAll(siblings, (h) => h.seriesUid === uid && !!uid && h.sopInstanceUid !== first.header.sopInstanceUid);
  return [first, ...opened];
}

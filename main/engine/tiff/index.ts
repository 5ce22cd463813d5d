/**
 * The TIFF layer: open a file once, parse every IFD (and SubIFDs) once, expose images and chunk reads.
 * The IFD layer keeps geotiff v3's ImageFileDirectory shape (getValue / loadValue / loadValueIndexed) but parses
 * itself, because slides are untrusted input: every size is checked against limits before anything is allocated,
 * IFD/SubIFD loops are detected, reads are bounded by the file size, abortable, and the handle is closed by close();
 * decoders cap their output at the expected chunk size (decompression bombs). geotiff.js has none of these for
 * files on disk (its file source cannot close or abort, and its decoders grow output without a cap), so it serves
 * as the independent reference reader in the tests instead. If the engine ever imports geotiff, it is from here.
 */
import { FileSource } from './source.js';
import { parseHeader, parseIfds, type Ifd, type TiffHeader } from './ifd.js';
import { TiffImage } from './image.js';

export { TiffImage } from './image.js';
export type { Ifd, TagValue } from './ifd.js';
export { FileSource, throwIfAborted } from './source.js';
export { TAG, compressionName, PHOTOMETRIC_NAMES } from './tags.js';
export { LIMITS } from './limits.js';
export { decodeChunk, decodeJpegBytes, chunkAsJpeg, unsupportedReason, isJpeg, type DecodedChunk } from './codecs.js';

export class TiffFile {
  private constructor(
    readonly src: FileSource,
    readonly header: TiffHeader,
    /** top-level IFDs in file order */
    readonly ifds: Ifd[],
    /** the first 1 KiB of the file (for magic sniffing) */
    readonly head: Uint8Array,
    /** what parsing skipped (unreadable / past-EOF IFDs), one clause each */
    readonly warnings: string[] = [],
  ) {}

  get path(): string { return this.src.path; }

  /**
   * Opens and parses. `head` is sniffed by the caller before parsing (e.g. DICOM detection).
   * On any failure the file handle is closed again.
   */
  static async open(path: string, sniff?: (head: Uint8Array, size: number) => void): Promise<TiffFile> {
    const src = await FileSource.open(path);
    try {
      const head = await src.read(0, Math.min(src.size, 1024), undefined, 'header');
      sniff?.(head, src.size);
      const header = parseHeader(path, head, src.size);
      const warnings: string[] = [];
      const ifds = await parseIfds(src, header, warnings);
      return new TiffFile(src, header, ifds, head, warnings);
    } catch (e) {
      await src.close().catch(() => {});
      throw e;
    }
  }

  private cache = new Map<Ifd, TiffImage>();
  /** The validated raster view of an IFD (created once). Throws SlideError for broken geometry. */
  image(ifd: Ifd): TiffImage {
    let im = this.cache.get(ifd);
    if (!im) { im = new TiffImage(this.src, ifd, this.header.littleEndian); this.cache.set(ifd, im); }
    return im;
  }

  close(): Promise<void> { return this.src.close(); }
}

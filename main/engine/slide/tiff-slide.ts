/** The Slide implementation shared by every driver (TIFF family and DICOM): level sources in, Slide out. */
import { SlideError, type EncodedTile, type RgbImage, type Slide, type SlideProperties } from './types.js';
import { throwIfAborted } from '../tiff/index.js';
import { readWholeLevel, type LevelSource } from './levels.js';
import { readRegionFrom } from './region.js';
import { sharedCache } from '../../base/cache.js';
import { isAbortError } from '../../base/abort.js';

/** Any error escaping a read, other than a SlideError or an abort, becomes CORRUPT naming the file and the operation. */
async function guard<T>(path: string, op: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SlideError || isAbortError(e)) throw e;
    throw new SlideError('CORRUPT', `${path}: ${op} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

export class TiffSlide implements Slide {
  private closed = false;
  /** decoded tiles, in this slide's namespace of the one shared byte cache */
  private readonly cache = sharedCache().namespace('slide');

  constructor(
    readonly path: string,
    /** what holds the open file(s): closed by close() */
    private readonly tf: { close(): Promise<void> },
    readonly properties: SlideProperties,
    private readonly levels: LevelSource[],
    private readonly associated: Record<string, LevelSource>,
    private readonly dispose?: () => void,
    /** Slide.files: every file the slide reads (default: just `path`) */
    readonly files: readonly string[] = [path],
  ) {
    levels.forEach((l, i) => { if (!l.label) l.label = `level ${i}`; });
    for (const [name, a] of Object.entries(associated)) if (!a.label) a.label = `associated image '${name}'`;
  }

  private level(level: number): LevelSource {
    if (this.closed) throw new SlideError('OUT_OF_RANGE', `${this.path}: slide is closed`);
    if (!Number.isInteger(level) || level < 0 || level >= this.levels.length) {
      throw new SlideError('OUT_OF_RANGE', `${this.path}: level ${level} out of range (slide has ${this.levels.length} level${this.levels.length === 1 ? '' : 's'}: 0..${this.levels.length - 1})`);
    }
    return this.levels[level];
  }

  private checkTile(l: LevelSource, level: number, col: number, row: number): void {
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= l.tilesAcross || row >= l.tilesDown) {
      throw new SlideError('OUT_OF_RANGE', `${this.path}: tile (${col},${row}) out of range for level ${level} (${l.tilesAcross}×${l.tilesDown} tiles)`);
    }
  }

  async readEncodedTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile | null> {
    const l = this.level(level);
    this.checkTile(l, level, col, row);
    throwIfAborted(signal, `${this.path}: readEncodedTile`);
    return guard(this.path, `readEncodedTile(${level}, ${col}, ${row})`, () => l.readEncoded(col, row, signal));
  }

  async readTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<RgbImage> {
    const l = this.level(level);
    this.checkTile(l, level, col, row);
    throwIfAborted(signal, `${this.path}: readTile`);
    return guard(this.path, `readTile(${level}, ${col}, ${row})`, () => l.readTile(col, row, signal));
  }

  async readRegion(x: number, y: number, level: number, w: number, h: number, signal?: AbortSignal): Promise<RgbImage> {
    const l = this.level(level);
    throwIfAborted(signal, `${this.path}: readRegion`);
    return guard(this.path, 'readRegion', () => readRegionFrom(this.path, l, level, this.properties.levels[level].downsample, x, y, w, h, this.cache, signal));
  }

  async readAssociated(name: string, signal?: AbortSignal): Promise<RgbImage> {
    if (this.closed) throw new SlideError('OUT_OF_RANGE', `${this.path}: slide is closed`);
    const a = Object.prototype.hasOwnProperty.call(this.associated, name) ? this.associated[name] : undefined;
    if (!a) {
      const names = Object.keys(this.associated);
      throw new SlideError('OUT_OF_RANGE', `${this.path}: no associated image '${name}' (available: ${names.length ? names.join(', ') : 'none'})`);
    }
    return guard(this.path, `readAssociated('${name}')`, () => readWholeLevel(a, signal));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.dispose();
    this.dispose?.();
    await this.tf.close();
  }
}

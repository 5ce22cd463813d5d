/**
 * A byte source over one local file: one file handle, opened once, closed by close().
 * Every read is bounds-checked against the file size (offsets past EOF are CORRUPT, never a short read)
 * and checks its AbortSignal before and after the I/O.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { AbortError, throwIfAborted } from '../../base/abort.js';
import { SlideError } from '../errors.js';
import { LIMITS } from './limits.js';

export { throwIfAborted };

export class FileSource {
  private closed = false;
  private constructor(public readonly path: string, private readonly fh: FileHandle, public readonly size: number) {}

  static async open(path: string): Promise<FileSource> {
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SlideError('NOT_FOUND', `${path}: cannot open slide (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`, { cause: e });
    }
    if (st.isDirectory()) throw new SlideError('NOT_FOUND', `${path}: is a directory, not a slide file`);
    if (!st.isFile()) throw new SlideError('NOT_FOUND', `${path}: not a regular file`);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SlideError('NOT_FOUND', `${path}: cannot open slide (${code ?? String(e)})`, { cause: e });
    }
    return new FileSource(path, fh, st.size);
  }

  /** Reads exactly `length` bytes at `offset`; CORRUPT if the range is not inside the file. */
  async read(offset: number, length: number, signal?: AbortSignal, what = 'data'): Promise<Uint8Array> {
    if (this.closed) throw new SlideError('OUT_OF_RANGE', `${this.path}: slide is closed`);
    throwIfAborted(signal, `${this.path}: reading ${what}`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new SlideError('CORRUPT', `${this.path}: invalid ${what} range (offset ${offset}, length ${length})`);
    }
    if (offset + length > this.size) {
      throw new SlideError('CORRUPT', `${this.path}: ${what} at offset ${offset} (+${length} bytes) lies past the end of the file (${this.size} bytes): truncated or corrupt file`);
    }
    if (length > LIMITS.maxTileBytes) {
      throw new SlideError('LIMIT', `${this.path}: ${what} is ${length} bytes, above the ${LIMITS.maxTileBytes}-byte read limit`);
    }
    const buf = Buffer.allocUnsafeSlow(length) // own ArrayBuffer (byteOffset 0): decoders may take .buffer;
    let done = 0;
    while (done < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(buf, done, length - done, offset + done));
      } catch (e) {
        if (this.closed) throw Object.assign(new AbortError(`${this.path}: slide closed while reading ${what}`), { cause: e });
        throw new SlideError('CORRUPT', `${this.path}: I/O error reading ${what} at offset ${offset + done}: ${(e as Error).message}`, { cause: e });
      }
      if (bytesRead === 0) throw new SlideError('CORRUPT', `${this.path}: file ended while reading ${what} at offset ${offset + done} (truncated?)`);
      done += bytesRead;
    }
    throwIfAborted(signal, `${this.path}: reading ${what}`);
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  }

  get isClosed(): boolean { return this.closed; }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/**
 * The engine's one error type. It lives at the bottom of main/engine so that every engine folder
 * (tiff/, slide/, tiles/, …) can raise it without importing a folder above it.
 */

/** Error codes the engine raises; SlideError.message always names the problem (and the file). */
export type SlideErrorCode =
  | 'NOT_FOUND'          // file missing / unreadable
  | 'UNSUPPORTED_FORMAT' // not a TIFF-family slide we read (e.g. DICOM, wrong magic)
  | 'CORRUPT'            // truncated, IFD loop, offsets past EOF, bad JPEG …
  | 'UNSUPPORTED'        // a TIFF we parse but a feature we do not support (compression 34712, …)
  | 'LIMIT'              // absurd dimensions / tile counts / sizes beyond safety limits
  | 'OUT_OF_RANGE';      // level/tile/region request outside the slide
// A cancelled read is not a SlideError: it is main/base/abort.ts's AbortError (code 'ABORTED'), as everywhere.

export class SlideError extends Error {
  constructor(public readonly code: SlideErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlideError';
  }
}

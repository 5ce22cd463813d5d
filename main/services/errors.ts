/** Errors on the service boundary: every failure becomes a contract ErrorCode with a clear message. */
import { ERROR_STATUS, type ErrorCode, type ErrorDTO } from '../contract/slides.js';
import { SlideError } from '../engine/slide/types.js';
import { isAbortError } from '../base/abort.js';

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServiceError';
  }
}

export function toErrorCode(e: unknown): ErrorCode {
  if (e instanceof ServiceError) return e.code;
  if (e instanceof SlideError) return e.code; // SlideErrorCode ⊂ ErrorCode
  if (isAbortError(e)) return 'ABORTED';
  return 'INTERNAL';
}

export function toErrorDTO(e: unknown): { status: number; body: ErrorDTO } {
  const code = toErrorCode(e);
  const message = e instanceof Error && e.message ? e.message : String(e);
  return { status: ERROR_STATUS[code], body: { error: { code, message: code === 'INTERNAL' ? `internal error: ${message}` : message } } };
}

/**
 * Cancellation helpers around AbortSignal. Every abort in the app (engine, services, pools) is an AbortError
 * (code 'ABORTED'); the services map it to the contract's ABORTED.
 */

export class AbortError extends Error {
  readonly code = 'ABORTED';
  constructor(message = 'the operation was aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

export function isAbortError(e: unknown): boolean {
  return (
    e instanceof AbortError ||
    (e instanceof Error && (e.name === 'AbortError' || (e as { code?: unknown }).code === 'ABORTED' || (e as { code?: unknown }).code === 'ABORT_ERR'))
  );
}

/** The one abort check of the app: throws AbortError(`${what}: aborted`) once `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'the operation'): void {
  if (signal?.aborted) throw new AbortError(`${what}: aborted`);
}

/** Cancellation helpers around AbortSignal. */

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

export function throwIfAborted(signal: AbortSignal | undefined, what = 'the operation'): void {
  if (signal?.aborted) throw new AbortError(`${what} was aborted`);
}

/** Rejects with AbortError as soon as `signal` aborts; otherwise settles like `p`. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, what = 'the operation'): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(new AbortError(`${what} was aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(`${what} was aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

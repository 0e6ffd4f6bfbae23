/**
 * Waits, in the calling request's context, for a promise another request
 * started. workerd runs the reactions in the waiter's context, but if the
 * starting request's context goes away first (its client cancelled), the
 * promise may never settle for the waiter (cloudflare/cloudflare-docs#29797):
 * so the wait ends after `timeoutMs` all the same, and the waiter decides
 * what to do on its own.
 */
export function settleHere<T>(
  promise: Promise<T>,
  timeoutMs: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ ok: false, error: new Error("shared call timed out") }),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ ok: false, error });
      },
    );
  });
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * A result one request produces for others waiting in their own requests.
 *
 * workerd ties promises to the request that created them. A waiter must not
 * chain onto the producer's promises: their reactions run in the producer's
 * context, and touching the waiter's own I/O from there (its body, its timers)
 * fails with "Cannot perform I/O on behalf of a different request". So each
 * waiter waits on a promise of its own, which the producer resolves (workerd
 * runs the reactions in the waiter's context). If the producer's context goes
 * away before it settles (its client cancelled), the wait ends after
 * `timeoutMs` all the same and the waiter decides on its own
 * (cloudflare/cloudflare-docs#29797).
 */
export class Handoff<T> {
  private waiters: ((settled: Settled<T>) => void)[] = [];

  wait(timeoutMs: number): Promise<Settled<T>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const handed = new Promise<Settled<T>>((resolve) => this.waiters.push(resolve));
    const timedOut = new Promise<Settled<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, error: new Error("shared call timed out") }), timeoutMs);
    });
    return Promise.race([handed, timedOut]).finally(() => clearTimeout(timer));
  }

  settle(settled: Settled<T>): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(settled);
  }
}

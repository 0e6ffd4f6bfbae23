/** What a verified token proved, and the window in which it holds (seconds since the epoch). */
export interface VerifiedToken<T> {
  value: T;
  exp: number;
  nbf?: number;
}

/**
 * Verified tokens remembered by their exact text, so a bidder's repeated
 * requests skip the signature check. Bounded (least recently used goes
 * first) and never trusted blindly: every hit re-checks `exp` and `nbf`
 * against the clock, so a remembered token is refused the moment a fresh
 * verification would refuse it for its time window.
 */
export class TokenCache<T> {
  readonly #entries = new Map<string, VerifiedToken<T>>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(token: string, nowSeconds: number): T | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    this.#entries.delete(token);
    if (entry.exp <= nowSeconds || (entry.nbf !== undefined && entry.nbf > nowSeconds)) return undefined;
    // Re-inserting moves it to the young end of the Map's insertion order.
    this.#entries.set(token, entry);
    return entry.value;
  }

  set(token: string, entry: VerifiedToken<T>): void {
    this.#entries.delete(token);
    this.#entries.set(token, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.capacity) break;
      this.#entries.delete(oldest);
    }
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }
}

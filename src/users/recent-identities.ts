import type { Identity } from "./identities";

interface Remembered {
  userId: number;
  checkedAt: number;
}

export interface Recalled {
  userId: number;
  /** Checked within the recheck interval: good to use without asking anyone. */
  fresh: boolean;
}

const keyOf = (identity: Identity) => JSON.stringify([identity.issuer, identity.subject]);

/**
 * The identities this isolate has resolved, so a known one costs no SQL.
 * Bounded (least recently used goes first). An entry older than `recheckMs`
 * is looked up again, so an unlink reaches every isolate within that time;
 * the caller keeps using the old answer while that lookup cannot be made, so
 * a database outage does not sign known people out.
 */
export class RecentIdentities {
  readonly #entries = new Map<string, Remembered>();

  constructor(
    readonly capacity: number,
    readonly recheckMs: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  recall(identity: Identity, now: number): Recalled | undefined {
    const key = keyOf(identity);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // Re-inserting moves it to the young end of the Map's insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return { userId: entry.userId, fresh: now - entry.checkedAt < this.recheckMs };
  }

  remember(identity: Identity, userId: number, now: number): void {
    const key = keyOf(identity);
    this.#entries.delete(key);
    this.#entries.set(key, { userId, checkedAt: now });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.capacity) break;
      this.#entries.delete(oldest);
    }
  }

  forget(identity: Identity): void {
    this.#entries.delete(keyOf(identity));
  }
}

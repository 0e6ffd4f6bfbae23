import type { BidderLookup } from "../bidding/batch-decision";
import { lookupUsernames } from "../users/lookup";
import { recallUsernames } from "../users/username-memory";
import type { SessionStore } from "./session-store";

interface Waiter {
  resolve(found: boolean): void;
  reject(error: unknown): void;
}

/**
 * The users this session has seen, with their usernames. A bid's user must
 * exist in PostgreSQL before the bid is accepted (a foreign key would
 * otherwise fail the whole flush), so an unseen user is looked up once per
 * session; lookups that arrive together share one batch (one cache MGET,
 * one SQL query for the misses).
 */
export class KnownUsers {
  private names = new Map<number, string>();
  private readonly waiting = new Map<number, Waiter[]>();
  private batchScheduled = false;

  constructor(
    private readonly env: Env,
    private readonly store: SessionStore,
  ) {}

  /** Reads the names a created session's storage holds. */
  restore(): void {
    this.names = this.store.readKnownUsers();
  }

  has(userId: number): boolean {
    return this.names.has(userId);
  }

  nameOf(userId: number): string | undefined {
    return this.names.get(userId);
  }

  /** Looks up every unseen user among `userIds` in one batch; those this isolate remembers, at once. */
  async lookUp(userIds: readonly number[]): Promise<Map<number, BidderLookup>> {
    const fresh = [...new Set(userIds)].filter((id) => !this.names.has(id));
    this.learn(recallUsernames(fresh));
    const unseen = fresh.filter((id) => !this.names.has(id));
    const settled = await Promise.allSettled(unseen.map((id) => this.ensure(id)));
    const found = new Map<number, BidderLookup>();
    settled.forEach((result, i) => {
      const id = unseen[i];
      if (id === undefined) return;
      found.set(id, result.status === "rejected" ? "unavailable" : result.value ? "exists" : "missing");
    });
    return found;
  }

  /** Resolves true when the user exists; rejects when the lookup itself failed. */
  private ensure(userId: number): Promise<boolean> {
    if (this.names.has(userId)) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(userId) ?? [];
      waiters.push({ resolve, reject });
      this.waiting.set(userId, waiters);
      if (!this.batchScheduled) {
        this.batchScheduled = true;
        setTimeout(() => void this.lookUpWaiting(), 0);
      }
    });
  }

  private learn(found: Map<number, string>): void {
    if (found.size === 0) return;
    this.store.rememberUsers(found);
    for (const [id, name] of found) this.names.set(id, name);
  }

  private async lookUpWaiting(): Promise<void> {
    const batch = new Map(this.waiting);
    this.waiting.clear();
    this.batchScheduled = false;
    try {
      const found = await lookupUsernames(this.env, [...batch.keys()]);
      this.learn(found);
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(found.has(id));
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  }
}

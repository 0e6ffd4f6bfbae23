import { BidBook } from "../bidding/bid-book";
import type { SessionRecord } from "../bidding/session-record";
import type { SessionStore } from "./session-store";

/**
 * What the object keeps in memory of its session, a cache of its storage:
 * the record, the last seq, and every user's live bid in leaderboard order.
 * Rebuilt once per instance from SQLite (synchronous), never per request.
 */
export class SessionMemory {
  record: SessionRecord | undefined;
  seq = 0;
  readonly book = new BidBook();

  /** Reads a created session's storage; an object never created reads and writes nothing. */
  restore(store: SessionStore): void {
    this.record = store.readSession();
    for (const bid of store.readLiveBids()) {
      this.book.put(bid);
      this.seq = Math.max(this.seq, bid.seq);
    }
  }

  /** The session's id; only asked once the session is known. */
  get sessionId(): string | undefined {
    return this.record?.params.id;
  }
}

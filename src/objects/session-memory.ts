import { BidBook } from "../bidding/bid-book";
import type { SessionRecord } from "../bidding/session-record";
import { genesisLink } from "../history/chain";
import type { SessionStore } from "./session-store";

/**
 * What the object keeps in memory of its session, a cache of its storage:
 * the record, the last seq and its link in the bid log, and every user's live
 * bid in leaderboard order. Rebuilt once per instance from SQLite
 * (synchronous), never per request.
 */
export class SessionMemory {
  record: SessionRecord | undefined;
  seq = 0;
  /** The link of `seq` once there is a bid; null when there is none, or the bids predate the bid log. */
  lastLink: string | null = null;
  readonly book = new BidBook();

  /** Reads a created session's storage; an object never created reads and writes nothing. */
  restore(store: SessionStore): void {
    this.record = store.readSession();
    for (const bid of store.readLiveBids()) {
      this.book.put(bid);
      this.seq = Math.max(this.seq, bid.seq);
    }
    this.lastLink = store.readHeadLink();
  }

  /** The session's id; only asked once the session is known. */
  get sessionId(): string | undefined {
    return this.record?.params.id;
  }

  /** The bid log's head: the link of `seq`, h0 before the first bid; null for a session without a chain. */
  get headHash(): string | null {
    if (this.seq > 0) return this.lastLink;
    return this.record ? genesisLink(this.record.params.id) : null;
  }
}

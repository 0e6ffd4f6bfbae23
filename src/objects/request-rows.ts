import type { BidReceipt } from "../api/session-protocol";
import { bodyKey } from "../bidding/batch-decision";
import type { PendingBid } from "../bidding/session-record";
import { num, numOrNull, pendingBidOf, type Row } from "./sql-rows";

/** A receipt as stored: older ones lack `maxAmount` (before proxy bids), `bidder` and `hash` (before the bid log). */
export type StoredReceipt = Omit<BidReceipt, "maxAmount" | "bidder" | "hash"> &
  Partial<Pick<BidReceipt, "maxAmount" | "bidder" | "hash">>;

/**
 * What the object remembers of the requests it answered: Idempotency-Keys
 * with their receipts (a day), and the Worker's request ids on the history
 * rows (a couple of minutes after the flush), for batches sent again.
 */
export class RequestRows {
  constructor(private readonly sql: SqlStorage) {}

  /** The body and receipt an Idempotency-Key was first used with. */
  findIdempotencyKey(userId: number, key: string): { body: string; receipt: StoredReceipt } | undefined {
    const row = this.sql
      .exec<Row>(
        "SELECT amount, body, receipt FROM idempotency_keys WHERE user_id = ? AND key = ?",
        userId,
        key,
      )
      .toArray()[0];
    if (!row) return undefined;
    // Keys stored before proxy bids existed were always plain amounts.
    const body = row.body === null ? bodyKey({ amount: num(row, "amount") }) : String(row.body);
    return { body, receipt: JSON.parse(String(row.receipt)) };
  }

  /** The bid a request of the Worker's was accepted as, while its history row is kept. */
  findBidRequest(requestId: string): PendingBid | undefined {
    const row = this.sql
      .exec<Row>(
        "SELECT seq, user_id, amount, placed_at, auto, bidder, hash FROM pending_bids WHERE request_id = ?",
        requestId,
      )
      .toArray()[0];
    return row ? pendingBidOf(row) : undefined;
  }

  /** When the oldest idempotency key and the oldest flushed history row were stored (null: none). */
  oldestRemembered(flushedSeq: number): {
    oldestIdempotencyKeyAt: number | null;
    oldestBidRequestAt: number | null;
  } {
    // A row's time follows its seq (one time per batch, batches in order), so the oldest flushed
    // row is the first by seq: one step down the primary key, however many rows are kept.
    const row = this.sql
      .exec<Row>(
        `SELECT (SELECT min(created_at) FROM idempotency_keys) AS keys,
                (SELECT placed_at FROM pending_bids WHERE seq <= ? ORDER BY seq LIMIT 1) AS requests`,
        flushedSeq,
      )
      .toArray()[0];
    return {
      oldestIdempotencyKeyAt: row ? numOrNull(row, "keys") : null,
      oldestBidRequestAt: row ? numOrNull(row, "requests") : null,
    };
  }

  forgetIdempotencyKeysBefore(time: number): void {
    this.sql.exec("DELETE FROM idempotency_keys WHERE created_at < ?", time);
  }

  /** History up to `seq` is in PostgreSQL; rows stored before `before` no longer answer a resent request either. */
  forgetFlushedBefore(seq: number, before: number): void {
    // The rows before the first one stored at or after `before`: found by walking the primary key
    // from its start, so the cost is the rows forgotten, not every row kept (at 1,500 bids/s a
    // condition on placed_at alone scanned ~100,000 kept rows on every alarm and froze the session).
    this.sql.exec(
      `DELETE FROM pending_bids WHERE seq <= ? AND seq < coalesce(
         (SELECT seq FROM pending_bids WHERE placed_at >= ? ORDER BY seq LIMIT 1), ? + 1)`,
      seq,
      before,
      seq,
    );
  }
}

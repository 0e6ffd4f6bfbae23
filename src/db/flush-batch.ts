import { sql } from "drizzle-orm";
import { toIso } from "../api/time";
import type { LiveBid } from "../bidding/bid-book";
import type { SessionParams } from "../bidding/rules";
import type { PendingBid, SessionResults } from "../bidding/session-record";
import type { Database } from "./client";

export interface PostgresBatch {
  sessionId: string;
  /** Every pending history row, oldest first. */
  rows: PendingBid[];
  /** The live bid of each user that appears in `rows`, as of the last row. */
  liveBids: LiveBid[];
  /** Set when a PATCH or a soft-close extension has not reached PostgreSQL yet. */
  session?: SessionParams;
  /** Set once the results are fixed, until PostgreSQL has them. */
  results?: SessionResults;
}

/**
 * Writes one batch in one transaction. Each table gets one statement whatever
 * the batch size: the rows travel as arrays through `unnest`, so PostgreSQL's
 * 65,535-parameter limit never splits a flush.
 *
 * Replays are harmless: a live bid only moves forward in `seq`, and history
 * rows already present are skipped. Each history row carries the pseudonym
 * and bid-log link the object fixed when it accepted the bid.
 */
export async function writeBatchToPostgres(db: Database, batch: PostgresBatch): Promise<void> {
  const { sessionId, rows, liveBids, session, results } = batch;
  await db.transaction(async (tx) => {
    if (session) {
      await tx.execute(sql`
        UPDATE bidding_sessions
        SET title = ${session.title}, ends_at = ${toIso(session.endsAt)},
            scheduled_ends_at = ${toIso(session.scheduledEndsAt)}, extensions = ${session.extensions},
            reserve_price = ${session.reservePrice},
            soft_close_window_seconds = ${session.softClose?.windowSeconds ?? null},
            soft_close_extend_seconds = ${session.softClose?.extendSeconds ?? null},
            updated_at = now()
        WHERE id = ${sessionId}`);
    }
    if (liveBids.length > 0) {
      await tx.execute(sql`
        INSERT INTO bids (session_id, user_id, amount, seq, bid_count, placed_at, max_amount)
        SELECT ${sessionId}::uuid, b.user_id, b.amount, b.seq, b.bid_count, b.placed_at, b.max_amount
        FROM unnest(
          ${sql.param(liveBids.map((b) => b.userId))}::bigint[],
          ${sql.param(liveBids.map((b) => b.amount))}::bigint[],
          ${sql.param(liveBids.map((b) => b.seq))}::bigint[],
          ${sql.param(liveBids.map((b) => b.bidCount))}::integer[],
          ${sql.param(liveBids.map((b) => toIso(b.placedAt)))}::timestamptz[],
          ${sql.param(liveBids.map((b) => b.maxAmount))}::bigint[]
        ) AS b(user_id, amount, seq, bid_count, placed_at, max_amount)
        ON CONFLICT (session_id, user_id) DO UPDATE
        SET amount = excluded.amount, seq = excluded.seq, bid_count = excluded.bid_count,
            placed_at = excluded.placed_at, max_amount = excluded.max_amount, updated_at = now()
        WHERE bids.seq < excluded.seq`);
    }
    if (rows.length > 0) {
      await tx.execute(sql`
        INSERT INTO bid_events (session_id, seq, user_id, amount, placed_at, auto, bidder, hash)
        SELECT ${sessionId}::uuid, e.seq, e.user_id, e.amount, e.placed_at, e.auto, e.bidder, e.hash
        FROM unnest(
          ${sql.param(rows.map((e) => e.seq))}::bigint[],
          ${sql.param(rows.map((e) => e.userId))}::bigint[],
          ${sql.param(rows.map((e) => e.amount))}::bigint[],
          ${sql.param(rows.map((e) => toIso(e.placedAt)))}::timestamptz[],
          ${sql.param(rows.map((e) => e.auto))}::boolean[],
          ${sql.param(rows.map((e) => e.bidder))}::text[],
          ${sql.param(rows.map((e) => e.hash))}::text[]
        ) AS e(seq, user_id, amount, placed_at, auto, bidder, hash)
        ON CONFLICT (session_id, seq) DO NOTHING`);
    }
    if (results) {
      // Fixed once: only the statement that closes the session writes its
      // winners, so a replay, or any later batch whatever it carries, finds
      // the session closed and changes nothing.
      const { winners } = results;
      await tx.execute(sql`
        WITH closing AS (
          UPDATE bidding_sessions SET closed_at = ${toIso(results.closedAt)}, final_seq = ${results.finalSeq}
          WHERE id = ${sessionId} AND closed_at IS NULL
          RETURNING id
        )
        INSERT INTO session_results (session_id, rank, user_id, amount, seq)
        SELECT closing.id, w.rank, w.user_id, w.amount, w.seq
        FROM closing, unnest(
          ${sql.param(winners.map((w) => w.rank))}::integer[],
          ${sql.param(winners.map((w) => w.userId))}::bigint[],
          ${sql.param(winners.map((w) => w.amount))}::bigint[],
          ${sql.param(winners.map((w) => w.seq))}::bigint[]
        ) AS w(rank, user_id, amount, seq)
        ON CONFLICT (session_id, rank) DO NOTHING`);
    }
  });
}

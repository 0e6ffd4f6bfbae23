import { sql } from "drizzle-orm";
import type { SessionParams } from "../bidding/rules";
import type { Database } from "../db/client";
import type { LiveBid, PendingBid } from "./session-store";

export interface PostgresBatch {
  sessionId: string;
  /** Every pending history row, oldest first. */
  events: PendingBid[];
  /** The live bid of each user that appears in `events`, as of the last event. */
  liveBids: LiveBid[];
  /** Set when a PATCH has not reached PostgreSQL yet. */
  session?: SessionParams;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Writes one batch in one transaction. Each table gets one statement whatever
 * the batch size: the rows travel as arrays through `unnest`, so PostgreSQL's
 * 65,535-parameter limit never splits a flush.
 *
 * Replays are harmless: a live bid only moves forward in `seq`, and history
 * rows already present are skipped.
 */
export async function writeBatchToPostgres(db: Database, batch: PostgresBatch): Promise<void> {
  const { sessionId, events, liveBids, session } = batch;
  await db.transaction(async (tx) => {
    if (session) {
      await tx.execute(sql`
        UPDATE bidding_sessions
        SET title = ${session.title}, ends_at = ${iso(session.endsAt)}, updated_at = now()
        WHERE id = ${sessionId}`);
    }
    if (liveBids.length > 0) {
      await tx.execute(sql`
        INSERT INTO bids (session_id, user_id, amount, seq, bid_count, placed_at)
        SELECT ${sessionId}::uuid, b.user_id, b.amount, b.seq, b.bid_count, b.placed_at
        FROM unnest(
          ${sql.param(liveBids.map((b) => b.userId))}::bigint[],
          ${sql.param(liveBids.map((b) => b.amount))}::bigint[],
          ${sql.param(liveBids.map((b) => b.seq))}::bigint[],
          ${sql.param(liveBids.map((b) => b.bidCount))}::integer[],
          ${sql.param(liveBids.map((b) => iso(b.placedAt)))}::timestamptz[]
        ) AS b(user_id, amount, seq, bid_count, placed_at)
        ON CONFLICT (session_id, user_id) DO UPDATE
        SET amount = excluded.amount, seq = excluded.seq, bid_count = excluded.bid_count,
            placed_at = excluded.placed_at, updated_at = now()
        WHERE bids.seq < excluded.seq`);
    }
    if (events.length > 0) {
      await tx.execute(sql`
        INSERT INTO bid_events (session_id, seq, user_id, amount, placed_at)
        SELECT ${sessionId}::uuid, e.seq, e.user_id, e.amount, e.placed_at
        FROM unnest(
          ${sql.param(events.map((e) => e.seq))}::bigint[],
          ${sql.param(events.map((e) => e.userId))}::bigint[],
          ${sql.param(events.map((e) => e.amount))}::bigint[],
          ${sql.param(events.map((e) => iso(e.placedAt)))}::timestamptz[]
        ) AS e(seq, user_id, amount, placed_at)
        ON CONFLICT (session_id, seq) DO NOTHING`);
    }
  });
}

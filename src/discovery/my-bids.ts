import { and, desc, eq, sql } from "drizzle-orm";
import { type SessionStatus, sessionStatus } from "../bidding/rules";
import type { Database } from "../db/client";
import { biddingSessions, bids, sessionResults } from "../db/schema";

/** Where the previous page stopped: the last row's placedAt (epoch ms) and session id. */
export type MyBidsKey = [placedAt: number, sessionId: string];

export interface MyBidEntry {
  sessionId: string;
  title: string;
  status: SessionStatus;
  amount: number;
  rank: number;
  winning: boolean;
  /** PostgreSQL has the session's results: these figures are final. */
  closed: boolean;
}

const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;

/**
 * One page of a user's live bids across sessions, most recently placed
 * first, in one statement on bids' (user_id, placed_at, session_id) index.
 * Each row carries its rank and whether it wins, as of the last flush:
 *
 * - rank: 1 + the live bids above it on the board (a higher amount, or the
 *   same amount reached at a lower seq), counted on the leaderboard index;
 * - winning: once the results are in PostgreSQL, whether the user is among
 *   the winners (exact, fixed); before, rank within the units and the
 *   amount at or above the reserve.
 */
export async function listMyBids(
  db: Database,
  userId: number,
  now: number,
  limit: number,
  after: MyBidsKey | undefined,
): Promise<{ bids: MyBidEntry[]; last: MyBidsKey | undefined; more: boolean }> {
  const rank = sql<number>`1 + (
    SELECT count(*) FROM ${bids} AS above
    WHERE above.session_id = ${bids.sessionId}
      AND (above.amount > ${bids.amount} OR (above.amount = ${bids.amount} AND above.seq < ${bids.seq}))
  )`.mapWith(Number);
  const won = sql<boolean>`EXISTS (
    SELECT 1 FROM ${sessionResults} AS r
    WHERE r.session_id = ${bids.sessionId} AND r.user_id = ${bids.userId}
  )`;
  const position =
    after === undefined
      ? undefined
      : sql`(${bids.placedAt}, ${bids.sessionId}) < (${at(after[0])}, ${after[1]}::uuid)`;
  const rows = await db
    .select({
      sessionId: bids.sessionId,
      placedAt: bids.placedAt,
      amount: bids.amount,
      rank,
      won,
      title: biddingSessions.title,
      startsAt: biddingSessions.startsAt,
      endsAt: biddingSessions.endsAt,
      units: biddingSessions.units,
      reservePrice: biddingSessions.reservePrice,
      closedAt: biddingSessions.closedAt,
    })
    .from(bids)
    .innerJoin(biddingSessions, eq(biddingSessions.id, bids.sessionId))
    .where(and(eq(bids.userId, userId), position))
    .orderBy(desc(bids.placedAt), desc(bids.sessionId))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    bids: page.map((row) => ({
      sessionId: row.sessionId,
      title: row.title,
      status: sessionStatus({ startsAt: row.startsAt.getTime(), endsAt: row.endsAt.getTime() }, now),
      amount: row.amount,
      rank: row.rank,
      winning:
        row.closedAt !== null
          ? row.won
          : row.rank <= row.units && (row.reservePrice === null || row.amount >= row.reservePrice),
      closed: row.closedAt !== null,
    })),
    last: last ? [last.placedAt.getTime(), last.sessionId] : undefined,
    more: rows.length > limit,
  };
}

import { and, eq, inArray, notExists } from "drizzle-orm";
import { sessionStatus } from "../bidding/rules";
import type { Database } from "../db/client";
import { biddingSessions, bids } from "../db/schema";
import { recentFirstBidsOf } from "../users/recent-first-bids";
import { standingsOf } from "./live-standings";
import type { MyBidEntry } from "./my-bids";

/**
 * A user's first bids that PostgreSQL has not seen yet (they reach it with
 * the session's next flush), newest first: the sessions from the cache of
 * recent first bids that have no row of this user in `bids`, with the
 * figures their objects hold now.
 */
export async function unflushedFirstBids(
  env: Env,
  db: Database,
  userId: number,
  now: number,
): Promise<MyBidEntry[]> {
  const recent = await recentFirstBidsOf(env).of(userId, now);
  if (recent.length === 0) return [];
  const ids = recent.map((entry) => entry.sessionId);
  const sessions = await db
    .select({
      sessionId: biddingSessions.id,
      title: biddingSessions.title,
      startsAt: biddingSessions.startsAt,
      endsAt: biddingSessions.endsAt,
    })
    .from(biddingSessions)
    .where(
      and(
        inArray(biddingSessions.id, ids),
        notExists(
          db
            .select({ one: bids.userId })
            .from(bids)
            .where(and(eq(bids.sessionId, biddingSessions.id), eq(bids.userId, userId))),
        ),
      ),
    );
  const unseen = new Map(sessions.map((row) => [row.sessionId, row]));
  const entries = ids.flatMap((id) => {
    const row = unseen.get(id);
    if (!row) return [];
    const status = sessionStatus({ startsAt: row.startsAt.getTime(), endsAt: row.endsAt.getTime() }, now);
    return [{ sessionId: id, title: row.title, status, amount: 0, rank: 0, winning: false, closed: false }];
  });
  // Only what an object vouches for: a session whose object cannot answer is left for the flush.
  return standingsOf(env, userId, entries);
}

import { and, asc, desc, eq, gt, lte, type SQL, sql } from "drizzle-orm";
import type { SessionView } from "../api/session-protocol";
import { toIso } from "../api/time";
import { isReserveMet } from "../bidding/auction";
import { type SessionStatus, sessionStatus } from "../bidding/rules";
import type { Database } from "../db/client";
import { biddingSessions, bidEvents, bids } from "../db/schema";
import { genesisLink } from "../history/chain";

export type Listing = SessionStatus | "all";

/** Where the previous page stopped: the last row's sort key (epoch ms) and id. */
export type ListKey = [at: number, id: string];

const DEFAULT_HARD_END_AFTER_MS = 24 * 60 * 60 * 1000;
const at = (ms: number) => sql`${toIso(ms)}::timestamptz`;

/**
 * Each listing's order: the column and direction, always with the id as the
 * tie-break, so a (time, id) pair is a unique position and a keyset page
 * starts exactly after it. Each is one btree in schema.ts, read forwards or
 * backwards.
 */
const orders = {
  scheduled: { column: biddingSessions.startsAt, descending: false },
  active: { column: biddingSessions.endsAt, descending: false },
  ended: { column: biddingSessions.endsAt, descending: true },
  all: { column: biddingSessions.createdAt, descending: true },
} as const;

/** Status by the times PostgreSQL holds, at the Worker's `now`, the same rule as the object's. */
function statusCondition(listing: Listing, now: number): SQL | undefined {
  switch (listing) {
    case "scheduled":
      return gt(biddingSessions.startsAt, new Date(now));
    case "active":
      return and(lte(biddingSessions.startsAt, new Date(now)), gt(biddingSessions.endsAt, new Date(now)));
    case "ended":
      return lte(biddingSessions.endsAt, new Date(now));
    case "all":
      return undefined;
  }
}

/**
 * One page of sessions in one statement: the sessions after `after` in the
 * listing's order, each with its bidder count and highest bid from the flushed
 * live bids (a lateral aggregate on bids' (session_id, user_id) key) and its
 * bid log's head as flushed (the last bid_events row, on its (session_id, seq)
 * key). One row more than `limit` is read to know whether another page follows.
 */
export async function listSessions(
  db: Database,
  listing: Listing,
  now: number,
  limit: number,
  after: ListKey | undefined,
): Promise<{ sessions: SessionView[]; last: ListKey | undefined; more: boolean }> {
  const { column, descending } = orders[listing];
  const position =
    after === undefined
      ? undefined
      : descending
        ? sql`(${column}, ${biddingSessions.id}) < (${at(after[0])}, ${after[1]}::uuid)`
        : sql`(${column}, ${biddingSessions.id}) > (${at(after[0])}, ${after[1]}::uuid)`;
  const liveBids = db
    .select({
      bidders: sql<number>`count(*)::int`.as("bidders"),
      highest: sql<number | null>`max(${bids.amount})`.mapWith(Number).as("highest"),
    })
    .from(bids)
    .where(eq(bids.sessionId, biddingSessions.id))
    .as("live_bids");
  const head = db
    .select({ seq: bidEvents.seq, hash: bidEvents.hash })
    .from(bidEvents)
    .where(eq(bidEvents.sessionId, biddingSessions.id))
    .orderBy(desc(bidEvents.seq))
    .limit(1)
    .as("head");
  const direction = descending ? desc : asc;
  const rows = await db
    .select({
      session: biddingSessions,
      bidders: liveBids.bidders,
      highest: liveBids.highest,
      headSeq: head.seq,
      headHash: head.hash,
    })
    .from(biddingSessions)
    .leftJoinLateral(liveBids, sql`true`)
    .leftJoinLateral(head, sql`true`)
    .where(and(statusCondition(listing, now), position))
    .orderBy(direction(column), direction(biddingSessions.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const lastRow = page.at(-1)?.session;
  return {
    sessions: page.map((row) => ({
      ...sessionView(row.session, row.bidders ?? 0, row.highest ?? null, now),
      ...(row.headSeq === null
        ? { headSeq: 0, headHash: genesisLink(row.session.id) }
        : { headSeq: row.headSeq, headHash: row.headHash }),
    })),
    last: lastRow ? [lastRow[orderKey[listing]].getTime(), lastRow.id] : undefined,
    more: rows.length > limit,
  };
}

const orderKey = {
  scheduled: "startsAt",
  active: "endsAt",
  ended: "endsAt",
  all: "createdAt",
} as const satisfies Record<Listing, keyof typeof biddingSessions.$inferSelect>;

/** A session row as the API shows it, admin fields included (the route leaves them out for everyone else). */
function sessionView(
  row: typeof biddingSessions.$inferSelect,
  bidders: number,
  highestBid: number | null,
  now: number,
): Omit<SessionView, "headSeq" | "headHash"> {
  const endsAt = row.endsAt.getTime();
  const softClose =
    row.softCloseWindowSeconds === null || row.softCloseExtendSeconds === null
      ? null
      : { windowSeconds: row.softCloseWindowSeconds, extendSeconds: row.softCloseExtendSeconds };
  const times = { startsAt: row.startsAt.getTime(), endsAt };
  return {
    id: row.id,
    title: row.title,
    startsAt: toIso(times.startsAt),
    endsAt: toIso(endsAt),
    minBid: row.minBid,
    minIncrement: row.minIncrement,
    status: sessionStatus(times, now),
    bidders,
    highestBid,
    createdAt: toIso(row.createdAt.getTime()),
    units: row.units,
    reserveMet: isReserveMet(row.reservePrice, highestBid ?? undefined),
    softClose,
    scheduledEndsAt: toIso(row.scheduledEndsAt?.getTime() ?? endsAt),
    extensions: row.extensions,
    serverTime: toIso(now),
    endsInMs: Math.max(0, endsAt - now),
    reservePrice: row.reservePrice,
    hardEndsAt: toIso(row.hardEndsAt?.getTime() ?? endsAt + DEFAULT_HARD_END_AFTER_MS),
    currency: row.currency,
  };
}

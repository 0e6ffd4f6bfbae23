import { and, asc, eq, gt, lt } from "drizzle-orm";
import type { HeldHistory, HistoryRow } from "../api/session-protocol";
import { toIso } from "../api/time";
import type { Database } from "../db/client";
import { bidEvents, users } from "../db/schema";
import { expectOk, sessionObject } from "../session-client/session-client";
import { firstBrokenLink, genesisLink } from "./chain";
import { type HistoryPage, joinPage, postgresRange } from "./merge";

/** Runs one unit of work on a database connection: a fresh one per call, or the one an export holds. */
export type RunQuery = <T>(work: (db: Database) => Promise<T>) => Promise<T>;

/** One statement: the flushed bids of `afterSeq < seq < beforeSeq`, with usernames, on bid_events' (session_id, seq) key. */
export async function readFlushedBids(
  db: Database,
  sessionId: string,
  range: { afterSeq: number; beforeSeq: number; limit: number },
): Promise<HistoryRow[]> {
  const rows = await db
    .select({
      seq: bidEvents.seq,
      userId: bidEvents.userId,
      amount: bidEvents.amount,
      placedAt: bidEvents.placedAt,
      auto: bidEvents.auto,
      username: users.username,
      bidder: bidEvents.bidder,
      hash: bidEvents.hash,
    })
    .from(bidEvents)
    .leftJoin(users, eq(users.id, bidEvents.userId))
    .where(
      and(
        eq(bidEvents.sessionId, sessionId),
        gt(bidEvents.seq, range.afterSeq),
        lt(bidEvents.seq, range.beforeSeq),
      ),
    )
    .orderBy(asc(bidEvents.seq))
    .limit(range.limit);
  return rows.map((row) => ({ ...row, placedAt: row.placedAt.getTime() }));
}

/**
 * Reads a session's history page by page: the object first, then PostgreSQL
 * for what lies below the rows the object holds (src/history/merge.ts).
 * Pages wholly below a watermark an earlier page learnt skip the object:
 * PostgreSQL never loses what it had. Each page is checked to chain (the
 * bid log), and only logged when it does not: nothing is repaired on reading.
 */
export class HistoryReader {
  private flushedSeq = 0;
  private lastSeq = 0;

  constructor(
    private readonly env: Env,
    private readonly sessionId: string,
    private readonly query: RunQuery,
  ) {}

  /** The session's last seq as of the latest object read. */
  get seq(): number {
    return this.lastSeq;
  }

  async page(afterSeq: number, limit: number): Promise<HistoryPage> {
    const held: HeldHistory =
      afterSeq + limit <= this.flushedSeq
        ? { flushedSeq: this.flushedSeq, seq: this.lastSeq, bids: [] }
        : await expectOk(sessionObject(this.env, this.sessionId).history(afterSeq, limit));
    this.flushedSeq = Math.max(this.flushedSeq, held.flushedSeq);
    this.lastSeq = Math.max(this.lastSeq, held.seq);
    const range = postgresRange(afterSeq, limit, held);
    const fromPostgres = range ? await this.query((db) => readFlushedBids(db, this.sessionId, range)) : [];
    const page = joinPage(afterSeq, limit, held, fromPostgres);
    this.warnIfUnchained(afterSeq, page.bids);
    return page;
  }

  /**
   * A warning when the page's links do not follow from its rows (from h0 on
   * the first page, else from its own first link): a row changed after the
   * fact, in PostgreSQL or in the object. Sessions without a chain are skipped.
   */
  private warnIfUnchained(afterSeq: number, rows: readonly HistoryRow[]): void {
    const [first, ...rest] = rows;
    if (!first || first.hash === null) return;
    const shown = (row: HistoryRow) => ({ ...row, placedAt: toIso(row.placedAt) });
    const broken =
      afterSeq === 0
        ? firstBrokenLink(genesisLink(this.sessionId), rows.map(shown))
        : firstBrokenLink(first.hash, rest.map(shown));
    if (!broken) return;
    console.warn(
      JSON.stringify({ level: "warn", event: "bid_log_unchained", sessionId: this.sessionId, ...broken }),
    );
  }
}

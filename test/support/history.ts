import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { BidHistorySchema } from "../../src/api/contract";
import { withDatabase } from "../../src/db/client";
import { Pseudonyms } from "../../src/history/pseudonym";
import { readFlushProgress, writeFlushProgress } from "../../src/objects/flush-progress";
import { SessionStore } from "../../src/objects/session-store";
import { call } from "./api";
import { sessionStub, statsOf } from "./objects";

export type HistoryBid = z.infer<typeof BidHistorySchema>["bids"][number];

/** One page of GET /v1/sessions/{id}/bids, parsed with the contract's schema. */
export async function historyPage(sessionId: string, after: number, limit: number, token?: string) {
  const res = await call("GET", `/v1/sessions/${sessionId}/bids?after=${after}&limit=${limit}`, {
    token,
    schema: BidHistorySchema,
  });
  if (res.status !== 200) throw new Error(`history after ${after}: ${res.status} ${res.text}`);
  return res.body;
}

/** Every page from `after` until a page says it reached the last bid. */
export async function wholeHistory(sessionId: string, limit: number, token?: string): Promise<HistoryBid[]> {
  const all: HistoryBid[] = [];
  let after = 0;
  for (;;) {
    const page = await historyPage(sessionId, after, limit, token);
    all.push(...page.bids);
    if (page.nextAfter === null) return all;
    after = page.nextAfter;
  }
}

/** The bid `seq` of a seeded history: bidder, amount, time and whether it was automatic all follow from it. */
export function seededBid(seq: number, userIds: readonly number[], startedAt: number) {
  const userId = userIds[seq % userIds.length] ?? 0;
  return { seq, userId, amount: 100 + seq, placedAt: startedAt + seq, auto: seq % 10 === 0 };
}

/**
 * A session with `count` bids already flushed, as a long-running one would
 * be, built without placing them: the history rows and the live bids written
 * straight into PostgreSQL (one statement each), and the object's own store
 * told the same (the live bids, the last `retained` history rows it would
 * still hold, the usernames, the watermark at `count`), then evicted so it
 * rebuilds itself from that store. The session must have been created
 * through the API with no bids. Its rows have no bid-log links, as in a
 * session that took its bids before the log existed.
 */
export async function seedFlushedHistory(
  sessionId: string,
  users: readonly { id: number; username: string }[],
  count: number,
  startedAt: number,
  retained = users.length,
): Promise<void> {
  const ids = users.map((u) => u.id);
  await withDatabase(env, async (db) => {
    await db.execute(sql`
      INSERT INTO bid_events (session_id, seq, user_id, amount, placed_at, auto)
      SELECT ${sessionId}::uuid, g, (${sql.param(ids)}::bigint[])[1 + g % ${ids.length}], 100 + g,
             to_timestamp(0) + (${startedAt}::bigint + g) * interval '1 millisecond', g % 10 = 0
      FROM generate_series(1, ${count}) AS g`);
    await db.execute(sql`
      INSERT INTO bids (session_id, user_id, amount, seq, bid_count, placed_at)
      SELECT DISTINCT ON (user_id) session_id, user_id, amount, seq,
             count(*) OVER (PARTITION BY user_id), placed_at
      FROM bid_events WHERE session_id = ${sessionId}::uuid
      ORDER BY user_id, seq DESC`);
    // A bulk load, so the planner's statistics are refreshed now rather than by autovacuum a minute later.
    await db.execute(sql`ANALYZE bid_events, bids, users`);
  });
  await runInDurableObject(sessionStub(sessionId), (_instance, state) => {
    const store = new SessionStore(state.storage);
    const last = new Map<number, ReturnType<typeof seededBid>>();
    const counts = new Map<number, number>();
    for (let seq = 1; seq <= count; seq += 1) {
      const bid = seededBid(seq, ids, startedAt);
      last.set(bid.userId, bid);
      counts.set(bid.userId, (counts.get(bid.userId) ?? 0) + 1);
    }
    const pseudonyms = new Pseudonyms(env.JWT_SECRET);
    const liveBids = [...last.values()].map((bid) => ({
      bid: { ...bid, tieSeq: bid.seq, bidCount: counts.get(bid.userId) ?? 1, maxAmount: null },
      bidder: pseudonyms.of(sessionId, bid.userId),
      hash: null,
    }));
    store.recordBids(liveBids);
    // recordBids stored a history row with each live bid; keep only the last `retained` seqs, as pruning would.
    state.storage.sql.exec("DELETE FROM pending_bids WHERE seq <= ?", count - retained);
    for (let seq = Math.max(1, count - retained + 1); seq <= count; seq += 1) {
      const bid = seededBid(seq, ids, startedAt);
      state.storage.sql.exec(
        "INSERT OR IGNORE INTO pending_bids (seq, user_id, amount, placed_at, auto) VALUES (?, ?, ?, ?, ?)",
        bid.seq,
        bid.userId,
        bid.amount,
        bid.placedAt,
        bid.auto ? 1 : 0,
      );
    }
    store.rememberUsers(new Map(users.map((u) => [u.id, u.username])));
    const progress = readFlushProgress(state.storage.sql);
    writeFlushProgress(state.storage.sql, { ...progress, flushedSeq: count, flushedTotal: count });
  });
  await evictDurableObject(sessionStub(sessionId));
}

/** Forgets the object's copy of flushed history rows, as pruning does two minutes after a flush. */
export async function pruneFlushed(sessionId: string, keep: (seq: number) => boolean = () => false) {
  const { flushedSeq } = await statsOf(sessionId);
  await runInDurableObject(sessionStub(sessionId), (_instance, state) => {
    const seqs = state.storage.sql
      .exec<{ seq: number }>("SELECT seq FROM pending_bids WHERE seq <= ?", flushedSeq)
      .toArray()
      .map((row) => Number(row.seq));
    for (const seq of seqs)
      if (!keep(seq)) state.storage.sql.exec("DELETE FROM pending_bids WHERE seq = ?", seq);
  });
}

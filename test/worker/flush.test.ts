import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { withDatabase } from "../../src/db/client";
import { writeBatchToPostgres } from "../../src/db/flush-batch";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { fireAlarm, objectBoard, sessionStub, statsOf } from "../support/objects";

describe("the flush to PostgreSQL", () => {
  it("1000 concurrent bidders: after the alarm PostgreSQL holds exactly the object's state", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 1 });
    const users = await createUsers(1000);
    const tokens = await Promise.all(users.map((u) => tokenFor(u.id, "user")));
    // Every user bids at once, then a quarter of them raise, again all at once.
    const round = (amountOf: (i: number) => number, who: number[]) =>
      Promise.all(
        who.map((i) =>
          call("POST", `/v1/sessions/${session.id}/bids`, {
            token: tokens[i],
            body: { amount: amountOf(i) },
          }),
        ),
      );
    const everyone = users.map((_, i) => i);
    const first = await round((i) => 100 + (i % 37), everyone);
    const raisers = everyone.filter((i) => i % 4 === 0);
    const second = await round((i) => 1000 + i, raisers);
    const statuses = [...first, ...second].map((r) => r.status);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const accepted = first.length + second.length;

    const before = await statsOf(session.id);
    expect(before.pendingBids).toBe(accepted);
    expect(before.nextAlarmAt).not.toBeNull();

    expect(await fireAlarm(session.id)).toBe(true);
    const after = await statsOf(session.id);
    expect(after).toMatchObject({ pendingBids: 0, totalFlushed: accepted, lastFlushRows: accepted });

    const board = await objectBoard(session.id);
    const stored = await readSessionFromPostgres(session.id);
    expect(board.total).toBe(1000);
    expect(stored.bids.length).toBe(1000);
    const objectBids = new Map(board.entries.map((e) => [e.userId, e]));
    for (const row of stored.bids) {
      const live = objectBids.get(row.userId);
      expect(row.amount).toBe(live?.amount);
      expect(row.placedAt.toISOString()).toBe(live?.placedAt);
      const index = users.findIndex((u) => u.id === row.userId);
      expect(row.bidCount).toBe(raisers.includes(index) ? 2 : 1);
    }
    // One history row per accepted bid, seq 1..N without gaps.
    expect(stored.events.map((e) => e.seq)).toEqual(Array.from({ length: accepted }, (_, i) => i + 1));
  });

  it("running the alarm twice, or replaying an old batch late, changes nothing", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    await bid(session.id, user.id, 100);
    await fireAlarm(session.id);
    const [sentEarly] = (await readSessionFromPostgres(session.id)).events;
    await bid(session.id, user.id, 200);
    await fireAlarm(session.id);
    const settled = await readSessionFromPostgres(session.id);

    // The alarm is at-least-once: another run finds nothing pending and writes nothing.
    await fireAlarm(session.id);
    expect(await readSessionFromPostgres(session.id)).toEqual(settled);

    // An older flush arriving late, and the newer one delivered twice.
    if (!sentEarly) throw new Error("no early event");
    const old = {
      seq: sentEarly.seq,
      userId: user.id,
      amount: 100,
      placedAt: sentEarly.placedAt.getTime(),
      auto: false,
      bidder: null,
      hash: null,
    };
    await withDatabase(env, async (db) => {
      await writeBatchToPostgres(db, {
        sessionId: session.id,
        rows: [old],
        liveBids: [{ ...old, tieSeq: old.seq, bidCount: 1, maxAmount: null }],
      });
      const newest = settled.events[1];
      if (!newest) throw new Error("no newest event");
      const replay = {
        seq: newest.seq,
        userId: user.id,
        amount: 200,
        placedAt: newest.placedAt.getTime(),
        auto: false,
        bidder: null,
        hash: null,
      };
      await writeBatchToPostgres(db, {
        sessionId: session.id,
        rows: [replay],
        liveBids: [{ ...replay, tieSeq: replay.seq, bidCount: 2, maxAmount: null }],
      });
    });
    const after = await readSessionFromPostgres(session.id);
    expect(after.bids).toEqual(settled.bids);
    expect(after.events).toEqual(settled.events);
    expect(after.bids[0]?.amount).toBe(200);
  });

  it("two flushes racing for the same rows: the newer bid wins, history has no duplicates", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const at = Date.now();
    const unlinked = { bidder: null, hash: null };
    const older = { seq: 1, userId: user.id, amount: 100, placedAt: at, auto: false, ...unlinked };
    const newer = { seq: 2, userId: user.id, amount: 200, placedAt: at + 1, auto: false, ...unlinked };
    const batch = (rows: (typeof older)[], live: typeof older, bidCount: number) => ({
      sessionId: session.id,
      rows,
      liveBids: [{ ...live, tieSeq: live.seq, bidCount, maxAmount: null }],
    });
    // Each flush on its own connection, so PostgreSQL really runs them concurrently.
    await Promise.all([
      withDatabase(env, (db) => writeBatchToPostgres(db, batch([older, newer], newer, 2))),
      withDatabase(env, (db) => writeBatchToPostgres(db, batch([older], older, 1))),
      withDatabase(env, (db) => writeBatchToPostgres(db, batch([older, newer], newer, 2))),
    ]);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.bids.map((b) => [b.amount, b.seq, b.bidCount])).toEqual([[200, 2, 2]]);
    expect(stored.events.map((e) => e.seq)).toEqual([1, 2]);
  });

  it("an object evicted between a bid and its flush loses nothing", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(3);
    for (const [i, u] of users.entries()) expect((await bid(session.id, u.id, 100 + i)).status).toBe(201);
    await evictDurableObject(sessionStub(session.id));

    // A fresh instance rebuilds seq, ranking and the pending rows from its SQLite.
    const stats = await statsOf(session.id);
    expect(stats).toMatchObject({ seq: 3, pendingBids: 3 });
    const [u0] = users;
    if (!u0) throw new Error("users");
    expect((await bid(session.id, u0.id, 150)).body).toMatchObject({ seq: 4, rank: 1 });
    expect(await fireAlarm(session.id)).toBe(true);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => e.amount)).toEqual([100, 101, 102, 150]);
    expect(stored.bids.find((b) => b.userId === u0.id)?.amount).toBe(150);
  });

  it("PATCH ending a session early: pending bids and the new end still reach PostgreSQL", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    await bid(session.id, user.id, 500);
    const endsAt = new Date().toISOString();
    await call("PATCH", `/v1/sessions/${session.id}`, { token: await adminToken(), body: { endsAt } });
    expect((await bid(session.id, user.id, 600)).status).toBe(409);

    // The end of the session flushes at once rather than after the interval.
    const stats = await statsOf(session.id);
    expect(Date.parse(stats.nextAlarmAt ?? "")).toBeLessThanOrEqual(Date.now() + 1000);
    await fireAlarm(session.id);
    // The end's alarm may also have fired by itself, and be flushing still.
    await expect.poll(async () => (await statsOf(session.id)).pendingBids).toBe(0);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.bids.map((b) => b.amount)).toEqual([500]);
    expect(stored.session?.endsAt.toISOString()).toBe(endsAt);
    // Nothing is left to flush or to end; only forgetting the bid's request id is still due.
    expect(await statsOf(session.id)).toMatchObject({ pendingBids: 0, nextAlarmJob: "prune" });
  });

  it("schedules the flush FLUSH_INTERVAL_MS after the first pending bid", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const before = Date.now();
    await bid(session.id, user.id, 100);
    const next = Date.parse((await statsOf(session.id)).nextAlarmAt ?? "");
    expect(next - before).toBeGreaterThanOrEqual(Number(env.FLUSH_INTERVAL_MS) - 50);
    expect(next - before).toBeLessThanOrEqual(Number(env.FLUSH_INTERVAL_MS) + 2000);
  });
});

import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { withDatabase } from "../../src/db/client";
import { writeBatchToPostgres } from "../../src/db/flush-batch";
import { bid, createUsers } from "../support/api";
import { createAuction, endNow, iso, patchSession, resultsOf, typesOf } from "../support/auction";
import { readResultsFromPostgres, readSessionFromPostgres } from "../support/database";
import { watch } from "../support/live";
import { fireAlarm, sessionStub, statsOf } from "../support/objects";

const HOUR = 3_600_000;

// The end of a session (src/objects/session-end.ts): results fixed once, the watchers told.
describe("the results", () => {
  it("are fixed once: a second alarm, an eviction, a late bid and a replayed flush change nothing", async () => {
    const [alice, bob, carol] = await createUsers(3);
    if (!alice || !bob || !carol) throw new Error("users");
    const session = await createAuction({ units: 2 });
    let lastLink: string | null = null;
    for (const [user, amount] of [
      [alice, 300],
      [bob, 200],
      [carol, 150],
    ] as const) {
      const placed = await bid(session.id, user.id, amount);
      expect(placed.status).toBe(201);
      lastLink = placed.body.hash;
    }
    const early = await resultsOf(session.id);
    expect(early.status).toBe(409);
    expect(early.problem.code).toBe("session_not_ended");

    const watcher = await watch(session.id);
    await watcher.until((m) => m.type === "leaderboard");
    const ended = await endNow(session.id);
    expect(await fireAlarm(session.id)).toBe(true);
    const first = await resultsOf(session.id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      sessionId: session.id,
      closedAt: ended.endsAt,
      finalSeq: 3,
      // The bid log's link of finalSeq: the last bid's.
      finalHash: lastLink,
      reserveMet: true,
      winners: [
        { rank: 1, userId: alice.id, username: alice.username, amount: 300 },
        { rank: 2, userId: bob.id, username: bob.username, amount: 200 },
      ],
    });
    // Sockets: the results, then the end.
    const told = await watcher.until((m) => m.type === "result");
    expect(told).toMatchObject({ finalSeq: 3, winners: first.body.winners });
    await watcher.until((m) => m.type === "status" && m.status === "ended");
    const types = typesOf(watcher);
    expect(types.indexOf("result")).toBeLessThan(types.indexOf("status"));

    const stored = await readResultsFromPostgres(session.id);
    expect(stored.map((r) => [r.rank, r.userId, r.amount, r.seq])).toEqual([
      [1, alice.id, 300, 1],
      [2, bob.id, 200, 2],
    ]);
    const closedRow = (await readSessionFromPostgres(session.id)).session;
    expect(closedRow?.closedAt?.toISOString()).toBe(ended.endsAt);
    expect(closedRow?.finalSeq).toBe(3);

    // Whatever arrives later: another alarm run, a bid, a PATCH reopening it, an eviction.
    await fireAlarm(session.id);
    const late = await bid(session.id, carol.id, 10_000);
    expect(late.status).toBe(409);
    expect(late.problem.code).toBe("session_ended");
    const reopen = await patchSession(session.id, { endsAt: iso(Date.now() + HOUR) });
    expect(reopen.status).toBe(409);
    expect(reopen.problem.code).toBe("session_ended");
    await evictDurableObject(sessionStub(session.id));
    expect((await resultsOf(session.id)).body).toEqual(first.body);
    expect((await statsOf(session.id)).seq).toBe(3);

    // The final flush delivered again, and a conflicting one arriving late.
    const fixed = {
      closedAt: Date.parse(ended.endsAt),
      finalSeq: 3,
      reserveMet: true,
      winners: stored.map(({ rank, userId, amount, seq }) => ({ rank, userId, amount, seq })),
    };
    await withDatabase(env, async (db) => {
      await writeBatchToPostgres(db, { sessionId: session.id, rows: [], liveBids: [], results: fixed });
      await writeBatchToPostgres(db, {
        sessionId: session.id,
        rows: [],
        liveBids: [],
        results: {
          closedAt: Date.now(),
          finalSeq: 4,
          reserveMet: true,
          winners: [
            { rank: 1, userId: carol.id, amount: 10_000, seq: 4 },
            { rank: 2, userId: alice.id, amount: 300, seq: 1 },
            { rank: 3, userId: bob.id, amount: 200, seq: 2 },
          ],
        },
      });
    });
    expect(await readResultsFromPostgres(session.id)).toEqual(stored);
    const after = (await readSessionFromPostgres(session.id)).session;
    expect(after?.closedAt?.toISOString()).toBe(ended.endsAt);
    expect(after?.finalSeq).toBe(3);
    expect((await resultsOf(session.id)).body).toEqual(first.body);
  });
});

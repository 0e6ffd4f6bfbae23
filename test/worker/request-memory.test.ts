import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BidRequest, Outcome, PlacedBid } from "../../src/api/session-protocol";
import { bid, createSession, createUsers } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { fireAlarm, sessionStub, statsOf } from "../support/objects";

// The object's request memory (src/objects/request-memory.ts, request-rows.ts): what it
// answered to the Worker's request ids and to Idempotency-Keys, and for how long.

const summary = (outcome: Outcome<PlacedBid> | undefined) =>
  outcome?.ok
    ? { seq: outcome.value.receipt.seq, replayed: outcome.value.replayed }
    : { code: outcome?.code };

async function bidders(count: number) {
  const users = await createUsers(count);
  return users.map((u) => u.id);
}

const inObject = <T>(id: string, work: (sql: SqlStorage) => T) =>
  runInDurableObject(sessionStub(id), (_instance, state) => work(state.storage.sql));

const rows = (sql: SqlStorage, query: string) => sql.exec(query).toArray();

describe("the session object's request memory", () => {
  it("answers a batch sent again with its first outcomes, even after an eviction", async () => {
    const session = await createSession({ minIncrement: 10 });
    const [a, b] = await bidders(2);
    if (!a || !b) throw new Error("users");
    const stub = sessionStub(session.id);
    const batch: BidRequest[] = [
      { userId: a, amount: 100, requestId: "r-1" },
      { userId: b, amount: 10, requestId: "r-2" },
    ];
    const first = await stub.placeBids(batch);
    const resent = batch.map((r) => ({ ...r, resend: true }));
    expect(await stub.placeBids(resent)).toEqual(first);
    await evictDurableObject(stub);
    // The accepted bid is recognised from storage; the refusal is decided again, to the same effect.
    expect((await stub.placeBids(resent)).map(summary)).toEqual([
      { seq: 1, replayed: false },
      { code: "bid_below_minimum" },
    ]);
    expect((await statsOf(session.id)).seq).toBe(1);
    await fireAlarm(session.id);
    expect((await readSessionFromPostgres(session.id)).events).toHaveLength(1);
  });

  it("forgets idempotency keys after a day, and flushed bids with their request ids after two minutes", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    await bid(session.id, user.id, 100, { "Idempotency-Key": "fresh" });
    const now = Date.now();
    await inObject(session.id, (sql) => {
      sql.exec(
        "INSERT INTO idempotency_keys (user_id, key, amount, receipt, created_at) VALUES (?, 'stale', 1, '{}', ?)",
        user.id,
        now - 25 * 3_600_000,
      );
      // A bid flushed long ago (seq 0: at or below the watermark), its row kept for resent requests.
      sql.exec(
        "INSERT INTO pending_bids (seq, user_id, amount, placed_at, request_id) VALUES (0, ?, 1, ?, 'old-request')",
        user.id,
        now - 3 * 60_000,
      );
    });
    expect(await fireAlarm(session.id)).toBe(true);
    const left = await inObject(session.id, (sql) => ({
      keys: rows(sql, "SELECT key FROM idempotency_keys").map((r) => r.key),
      requests: rows(sql, "SELECT seq FROM pending_bids").map((r) => r.seq),
    }));
    // The fresh bid is flushed but kept, for a batch sent again; the old one is gone.
    expect(left).toEqual({ keys: ["fresh"], requests: [1] });
    // The fresh bid's row is forgotten two minutes after it: the next job, well before the end.
    const stats = await statsOf(session.id);
    expect(stats.nextAlarmJob).toBe("prune");
    expect(Math.abs(Date.parse(stats.nextAlarmAt ?? "") - (now + 2 * 60_000))).toBeLessThan(5_000);
  });
});

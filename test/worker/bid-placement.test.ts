import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BidReceiptSchema } from "../../src/api/contract";
import type { BidRequest, Outcome, PlacedBid } from "../../src/api/session-protocol";
import { bid, createSession, createUsers, readResponse, tokenFor } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { fireAlarm, objectBoard, sessionStub, statsOf } from "../support/objects";

const summary = (outcome: Outcome<PlacedBid> | undefined) =>
  outcome?.ok
    ? { seq: outcome.value.receipt.seq, replayed: outcome.value.replayed }
    : { code: outcome?.code };

async function bidders(count: number) {
  const users = await createUsers(count);
  return users.map((u) => u.id);
}

describe("a batch of bids in one object call", () => {
  it("gives each bid its own outcome, in arrival order", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 10 });
    const [a, b, c, d] = await bidders(4);
    if (!a || !b || !c || !d) throw new Error("users");
    const stub = sessionStub(session.id);
    await stub.placeBids([{ userId: a, amount: 100, idempotencyKey: "k1" }]);
    // c spends the whole burst (10) beforehand.
    await stub.placeBids(Array.from({ length: 10 }, (_, i) => ({ userId: c, amount: 100 + 10 * i })));

    const outcomes = await stub.placeBids([
      { userId: b, amount: 150 }, // accepted
      { userId: d, amount: 50 }, // below the minimum
      { userId: c, amount: 1000 }, // over the rate limit
      { userId: a, amount: 100, idempotencyKey: "k1" }, // replay of the earlier bid
      { userId: a, amount: 300, idempotencyKey: "k1" }, // same key, other body
      { userId: d, amount: 120 }, // accepted
    ]);
    expect(outcomes.map(summary)).toEqual([
      { seq: 12, replayed: false },
      { code: "bid_below_minimum" },
      { code: "rate_limited" },
      { seq: 1, replayed: true },
      { code: "idempotency_key_reused" },
      { seq: 13, replayed: false },
    ]);
    expect(outcomes[2]).toMatchObject({ retryAfterSeconds: 1 });
    const board = await objectBoard(session.id);
    expect(board.entries.map((e) => [e.userId, e.amount])).toEqual([
      [c, 190],
      [b, 150],
      [d, 120],
      [a, 100],
    ]);
  });

  it("decides two bids of one user in one batch one after the other", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 10 });
    const [a, b] = await bidders(2);
    if (!a || !b) throw new Error("users");
    const outcomes = await sessionStub(session.id).placeBids([
      { userId: a, amount: 100 },
      { userId: b, amount: 200 },
      { userId: a, amount: 105 }, // less than 100 + 10 over a's first bid of this batch
      { userId: a, amount: 250 },
    ]);
    expect(outcomes.map(summary)).toEqual([
      { seq: 1, replayed: false },
      { seq: 2, replayed: false },
      { code: "bid_increment_too_small" },
      { seq: 3, replayed: false },
    ]);
    // Each receipt's rank is the rank right after that bid.
    expect(outcomes.map((o) => o.ok && o.value.receipt.rank)).toEqual([1, 1, false, 1]);
    const me = await sessionStub(session.id).myBid(a);
    expect(me).toMatchObject({ ok: true, value: { amount: 250, bidCount: 2, rank: 1 } });
  });

  it("answers the same Idempotency-Key twice in one batch with one bid", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a] = await bidders(1);
    if (!a) throw new Error("users");
    const twice: BidRequest = { userId: a, amount: 100, idempotencyKey: "same" };
    const outcomes = await sessionStub(session.id).placeBids([twice, twice]);
    expect(outcomes.map(summary)).toEqual([
      { seq: 1, replayed: false },
      { seq: 1, replayed: true },
    ]);
    expect((await statsOf(session.id)).seq).toBe(1);
  });

  it("answers a bid sent again in the very batch that first carried it with its one receipt", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a] = await bidders(1);
    if (!a) throw new Error("users");
    const first: BidRequest = { userId: a, amount: 100, requestId: "r-1" };
    const outcomes = await sessionStub(session.id).placeBids([first, { ...first, resend: true }]);
    expect(outcomes.map(summary)).toEqual([
      { seq: 1, replayed: false },
      { seq: 1, replayed: false },
    ]);
    expect((await statsOf(session.id)).seq).toBe(1);
  });

  it("fails every bid of a batch whose write fails, and leaves memory and storage as they were", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a, b, c] = await bidders(3);
    if (!a || !b || !c) throw new Error("users");
    const stub = sessionStub(session.id);
    await stub.placeBids([{ userId: a, amount: 100 }]);
    // A stray history row where the batch's second bid will go: its insert
    // hits the primary key, so the batch's transaction fails half-way.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        "INSERT INTO pending_bids (seq, user_id, amount, placed_at) VALUES (3, ?, 1, 0)",
        c,
      );
    });
    const batch = [
      { userId: b, amount: 200 },
      { userId: c, amount: 300 },
      { userId: a, amount: 400 },
    ];
    const failed = await stub.placeBids(batch);
    expect(failed.map(summary)).toEqual(batch.map(() => ({ code: "service_unavailable" })));
    expect((await statsOf(session.id)).seq).toBe(1);
    expect((await objectBoard(session.id)).entries.map((e) => [e.userId, e.amount])).toEqual([[a, 100]]);
    const stored = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec("SELECT count(*) AS n FROM live_bids").one(),
    );
    expect(stored.n).toBe(1);

    // Once the obstacle is gone the same batch goes through, seq without a gap.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("DELETE FROM pending_bids WHERE seq = 3");
    });
    expect((await stub.placeBids(batch)).map(summary)).toEqual([
      { seq: 2, replayed: false },
      { seq: 3, replayed: false },
      { seq: 4, replayed: false },
    ]);
  });
});

describe("a batch larger than one statement's 1,000 rows", () => {
  it("is stored whole and in order: 1,100 first bids, then each user's raise, in one call", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 1 });
    const users = await createUsers(1_100);
    const firsts = users.map((u, i) => ({ userId: u.id, amount: 100 + i }));
    const raises = users.map((u, i) => ({ userId: u.id, amount: 5_000 + i }));
    const outcomes = await sessionStub(session.id).placeBids([...firsts, ...raises]);
    expect(outcomes.map((o) => (o.ok ? o.value.receipt.seq : o.code))).toEqual(
      Array.from({ length: 2_200 }, (_, i) => i + 1),
    );
    // Each user's raise (chunks 2 and 3) won over their first bid (chunks 1 and 2), with their name.
    const board = await objectBoard(session.id);
    expect(board.entries.map((e) => [e.userId, e.username, e.amount])).toEqual(
      users.map((u, i) => [u.id, u.username, 5_000 + i]).reverse(),
    );
    for (let i = 0; i < 5 && (await statsOf(session.id)).pendingBids > 0; i++) await fireAlarm(session.id);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => [e.seq, e.userId, e.amount])).toEqual(
      [...firsts, ...raises].map((b, i) => [i + 1, b.userId, b.amount]),
    );
    expect(stored.bids.map((b) => b.amount).sort((x, y) => x - y)).toEqual(raises.map((b) => b.amount));
  });
});

describe("bids through the Worker, batched per session", () => {
  it("1000 bidders at once: one outcome each, seq 1..1000 without gaps", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(1000);
    const tokens = await Promise.all(users.map((u) => tokenFor(u.id, "user")));
    const answers = await Promise.all(
      users.map((_, i) =>
        exports.default.fetch(`http://bidding.test/v1/sessions/${session.id}/bids`, {
          method: "POST",
          headers: { Authorization: `Bearer ${tokens[i]}`, "Content-Type": "application/json" },
          body: JSON.stringify({ amount: 100 + i }),
        }),
      ),
    );
    const answered = await Promise.all(
      answers.map((r) => readResponse(`POST /v1/sessions/${session.id}/bids`, r, BidReceiptSchema)),
    );
    expect(answers.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const receipts = answered.map((r) => r.body);
    expect(receipts.map((r) => r.seq).sort((x, y) => x - y)).toEqual(users.map((_, i) => i + 1));
    expect(new Set(receipts.map((r) => r.userId)).size).toBe(1000);
  });

  it("a cancelled first request does not fail the bids that rode in its call", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(20);
    const tokens = await Promise.all(users.map((u) => tokenFor(u.id, "user")));
    const post = (i: number, signal?: AbortSignal) =>
      exports.default.fetch(`http://bidding.test/v1/sessions/${session.id}/bids`, {
        method: "POST",
        headers: { Authorization: `Bearer ${tokens[i]}`, "Content-Type": "application/json" },
        body: JSON.stringify({ amount: 100 + i }),
        signal,
      });
    const cancel = new AbortController();
    const first = post(0, cancel.signal).catch((error: unknown) => error);
    const others = users.slice(1).map((_, i) => post(i + 1));
    cancel.abort();
    await first;
    const statuses = await Promise.all(others.map(async (r) => (await r).status));
    expect(statuses).toEqual(others.map(() => 201));
    // The cancelled bid was applied at most once: every seq belongs to one bid.
    const stats = await statsOf(session.id);
    expect(stats.seq).toBeGreaterThanOrEqual(19);
    expect(stats.seq).toBeLessThanOrEqual(20);
    expect((await objectBoard(session.id)).total).toBe(stats.seq);
    // And a later bid by the cancelled user is judged against whatever was stored.
    expect((await bid(session.id, users[0]?.id ?? 0, 1000)).status).toBe(201);
  });
});

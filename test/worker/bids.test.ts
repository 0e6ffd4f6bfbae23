import { describe, expect, it } from "vitest";
import { MyBidSchema, SessionSchema } from "../../src/api/contract";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";

const hour = 3_600_000;

describe("POST /v1/sessions/{id}/bids", () => {
  it("accepts a first bid and raises, with seq and rank", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 10 });
    const [alice, bob] = await createUsers(2);
    if (!alice || !bob) throw new Error("users");

    const first = await bid(session.id, alice.id, 100);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      sessionId: session.id,
      userId: alice.id,
      amount: 100,
      rank: 1,
      seq: 1,
    });

    const second = await bid(session.id, bob.id, 150);
    expect(second.body).toMatchObject({ amount: 150, rank: 1, seq: 2 });

    const raise = await bid(session.id, alice.id, 150);
    expect(raise.status).toBe(201);
    expect(raise.body).toMatchObject({ amount: 150, rank: 2, seq: 3 }); // bob reached 150 first

    const read = await call("GET", `/v1/sessions/${session.id}`, { schema: SessionSchema });
    expect(read.body).toMatchObject({ bidders: 2, highestBid: 150 });
  });

  it("refuses bids below the minimum and raises below the increment", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 10 });
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const low = await bid(session.id, user.id, 99);
    expect(low.status).toBe(422);
    expect(low.problem.code).toBe("bid_below_minimum");
    expect((await bid(session.id, user.id, 200)).status).toBe(201);
    const small = await bid(session.id, user.id, 209);
    expect(small.status).toBe(422);
    expect(small.problem.code).toBe("bid_increment_too_small");
    const lower = await bid(session.id, user.id, 150);
    expect(lower.problem.code).toBe("bid_increment_too_small");
    expect((await bid(session.id, user.id, 210)).body.seq).toBe(2);
  });

  it("refuses bids before the start and after the end with 409", async () => {
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const future = await createSession({
      startsAt: new Date(Date.now() + hour).toISOString(),
      endsAt: new Date(Date.now() + 2 * hour).toISOString(),
    });
    const early = await bid(future.id, user.id, 1000);
    expect(early.status).toBe(409);
    expect(early.problem.code).toBe("session_not_started");

    const past = await createSession({
      startsAt: new Date(Date.now() - 2 * hour).toISOString(),
      endsAt: new Date(Date.now() - hour).toISOString(),
    });
    const late = await bid(past.id, user.id, 1000);
    expect(late.status).toBe(409);
    expect(late.problem.code).toBe("session_ended");
  });

  it("ending a session early with PATCH refuses the very next bid", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    expect((await bid(session.id, user.id, 100)).status).toBe(201);
    const patch = await call("PATCH", `/v1/sessions/${session.id}`, {
      token: await adminToken(),
      body: { endsAt: new Date().toISOString() },
      schema: SessionSchema,
    });
    expect(patch.body.status).toBe("ended");
    const next = await bid(session.id, user.id, 200);
    expect(next.status).toBe(409);
    expect(next.problem.code).toBe("session_ended");
  });

  it("answers 404 for an unknown session and user, 400 for bad input", async () => {
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const unknown = await bid(crypto.randomUUID(), user.id, 100);
    expect(unknown.status).toBe(404);
    expect(unknown.problem.code).toBe("session_not_found");

    const session = await createSession();
    const ghost = await bid(session.id, 987_654_321, 100);
    expect(ghost.status).toBe(404);
    expect(ghost.problem.code).toBe("user_not_found");

    const token = await tokenFor(user.id, "user");
    for (const body of [
      {},
      { amount: "100" },
      { amount: 100.5 },
      { amount: 0 },
      { amount: 1e13 },
      { amount: 100, x: 1 },
    ]) {
      const res = await call("POST", `/v1/sessions/${session.id}/bids`, { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.problem.detail).toMatch(/amount|x/);
    }
    const admin = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await adminToken(),
      body: { amount: 100 },
    });
    expect(admin.status).toBe(403);
    expect((await call("GET", `/v1/sessions/${session.id}`, { schema: SessionSchema })).body.bidders).toBe(0);
  });

  it("replays a retry with the same Idempotency-Key and refuses the key with another body", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const key = { "Idempotency-Key": "retry-7f3a" };
    const first = await bid(session.id, user.id, 300, key);
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();

    const again = await bid(session.id, user.id, 300, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body).toEqual(first.body);

    const reused = await bid(session.id, user.id, 400, key);
    expect(reused.status).toBe(422);
    expect(reused.problem.code).toBe("idempotency_key_reused");

    const other = await createUsers(1);
    const otherUser = other[0];
    if (!otherUser) throw new Error("users");
    // Keys are scoped to the user: the same key from someone else is a new bid.
    expect((await bid(session.id, otherUser.id, 300, key)).headers.get("Idempotent-Replayed")).toBeNull();

    const me = await call("GET", `/v1/sessions/${session.id}/bids/me`, {
      token: await tokenFor(user.id, "user"),
      schema: MyBidSchema,
    });
    expect(me.body).toMatchObject({ amount: 300, bidCount: 1 });

    const badKey = await bid(session.id, user.id, 500, { "Idempotency-Key": "x".repeat(129) });
    expect(badKey.status).toBe(400);
  });

  it("limits how fast one user can bid with 429 and Retry-After", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 20; i++) {
      const res = await bid(session.id, user.id, 100 + i);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("Retry-After");
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(10);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe("GET /v1/sessions/{id}/bids/me", () => {
  it("answers 404 no_bid before the first bid", async () => {
    const session = await createSession();
    const res = await call("GET", `/v1/sessions/${session.id}/bids/me`, {
      token: await tokenFor(42, "user"),
    });
    expect(res.status).toBe(404);
    expect(res.problem.code).toBe("no_bid");
  });
});

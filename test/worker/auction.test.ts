// The v1.1 auction rules through the Worker (API.md, "Sessions gain auction
// rules"): soft close, proxy bids, units and reserve, results fixed once, the
// clock fields, and the bounds of every new field.
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { BidReceiptSchema, LeaderboardSchema, MyBidSchema } from "../../src/api/contract";
import { withDatabase } from "../../src/db/client";
import { biddingSessions } from "../../src/db/schema";
import { adminToken, bid, call, createUsers, type Session, tokenFor } from "../support/api";
import {
  auctionBody,
  createAuction,
  endNow,
  iso,
  maxBid,
  patchSession,
  readAuction,
  resultsOf,
  stableView,
  typesOf,
} from "../support/auction";
import { readResultsFromPostgres, readSessionFromPostgres } from "../support/database";
import { type Watcher, watch } from "../support/live";
import { fireAlarm, sessionStub, statsOf } from "../support/objects";

const SECOND = 1000;
const HOUR = 3_600 * SECOND;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function boardOf(id: string) {
  const res = await call("GET", `/v1/sessions/${id}/leaderboard?limit=100`, { schema: LeaderboardSchema });
  expect(res.status).toBe(200);
  return res;
}

/** The raw text of every message a watcher gets (the parsed ones lose fields the contract does not name). */
function rawMessages(watcher: Watcher): string[] {
  const texts: string[] = [];
  watcher.socket.addEventListener("message", (event) => {
    texts.push(String(event.data));
  });
  return texts;
}

async function twoUsers() {
  const [first, second] = await createUsers(2);
  if (!first || !second) throw new Error("users");
  return [first, second] as const;
}

describe("soft close", () => {
  it("a duel at the end: extends until one stops, then ends extendSeconds after the last accepted bid", async () => {
    const [alice, bob] = await twoUsers();
    const scheduledEnd = Date.now() + 1_500;
    const session = await createAuction({
      endsAt: iso(scheduledEnd),
      softClose: { windowSeconds: 2, extendSeconds: 2 },
    });
    const watcher = await watch(session.id);

    // Alternate raises every 250 ms until the original end is well behind.
    let accepted = 0;
    let lastAt = 0;
    let lastBidder = alice;
    let lastAmount = 0;
    let alarmChecked = false;
    while (lastAt < scheduledEnd + 500) {
      lastBidder = accepted % 2 === 0 ? alice : bob;
      lastAmount = 100 + accepted * 10;
      const headers: Record<string, string> = accepted === 0 ? { "Idempotency-Key": "duel-opening" } : {};
      const res = await bid(session.id, lastBidder.id, lastAmount, headers);
      expect(res.status).toBe(201);
      accepted += 1;
      lastAt = Date.parse(res.body.placedAt);
      // The very next read sees the new end; sockets are told at once, not with the next board.
      expect(await readAuction(session.id)).toMatchObject({
        status: "active",
        endsAt: iso(lastAt + 2_000),
        scheduledEndsAt: iso(scheduledEnd),
        extensions: accepted,
      });
      const told = await watcher.until((m) => m.type === "extended" && m.extensions === accepted, 1_000);
      expect(told).toMatchObject({ endsAt: iso(lastAt + 2_000) });

      if (!alarmChecked && Date.now() > scheduledEnd) {
        // The alarm set for the original end runs: it flushes, and the session stays open. The runtime
        // may be running it on time already; then the alarm it sets next is the one fired here.
        alarmChecked = true;
        while (!(await fireAlarm(session.id))) await sleep(50);
        expect(await readAuction(session.id)).toMatchObject({ status: "active", extensions: accepted });
        expect((await boardOf(session.id)).body.status).toBe("active");
        const early = await resultsOf(session.id);
        expect(early.status).toBe(409);
        expect(early.problem.code).toBe("session_not_ended");
        // PostgreSQL's ends_at followed with that one flush.
        const stored = await readSessionFromPostgres(session.id);
        expect(stored.session?.endsAt.toISOString()).toBe(iso(lastAt + 2_000));
        expect(stored.session?.extensions).toBe(accepted);
        expect(stored.session?.closedAt).toBeNull();
      }
      await sleep(250);
    }
    expect(alarmChecked).toBe(true);
    expect(accepted).toBeGreaterThanOrEqual(4);
    const endsAt = lastAt + 2_000;

    // Neither a refused bid nor a replayed retry extends, though both arrive inside the window.
    const refused = await bid(session.id, lastBidder.id, lastAmount);
    expect(refused.status).toBe(422);
    expect(refused.problem.code).toBe("bid_increment_too_small");
    const replay = await bid(session.id, alice.id, 100, { "Idempotency-Key": "duel-opening" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await readAuction(session.id)).toMatchObject({ endsAt: iso(endsAt), extensions: accepted });

    // The end in force passes; a bid after it is refused and moves nothing.
    await sleep(endsAt - Date.now() + 20);
    const late = await bid(session.id, bob.id, 10_000);
    expect(late.status).toBe(409);
    expect(late.problem.code).toBe("session_ended");
    expect(await readAuction(session.id)).toMatchObject({
      status: "ended",
      endsAt: iso(endsAt),
      extensions: accepted,
      endsInMs: 0,
    });

    // At the real end the results are fixed (by the alarm due then, or this one).
    await fireAlarm(session.id);
    await watcher.until((m) => m.type === "status" && m.status === "ended");
    const results = await resultsOf(session.id);
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({
      closedAt: iso(endsAt),
      finalSeq: accepted,
      winners: [{ rank: 1, userId: lastBidder.id, amount: lastAmount }],
    });
    expect(watcher.messages.filter((m) => m.message.type === "extended")).toHaveLength(accepted);
    const types = typesOf(watcher);
    expect(types.indexOf("result")).toBeGreaterThan(-1);
    expect(types.indexOf("result")).toBeLessThan(types.indexOf("status"));

    const stored = await readSessionFromPostgres(session.id);
    expect(stored.session).toMatchObject({ extensions: accepted, finalSeq: accepted });
    expect(stored.session?.endsAt.toISOString()).toBe(iso(endsAt));
    expect(stored.session?.scheduledEndsAt?.toISOString()).toBe(iso(scheduledEnd));
    expect(stored.session?.closedAt?.toISOString()).toBe(iso(endsAt));
  });

  it("never extends past hardEndsAt, nor for an accepted bid outside the window", async () => {
    const [alice, bob] = await twoUsers();
    const endsAt = Date.now() + 30 * SECOND;
    const hardEndsAt = endsAt + 3 * SECOND;
    const capped = await createAuction({
      endsAt: iso(endsAt),
      hardEndsAt: iso(hardEndsAt),
      softClose: { windowSeconds: 60, extendSeconds: 60 },
    });
    expect(capped).toMatchObject({ hardEndsAt: iso(hardEndsAt), extensions: 0 });
    const watcher = await watch(capped.id);
    expect((await bid(capped.id, alice.id, 100)).status).toBe(201);
    expect(await readAuction(capped.id)).toMatchObject({ endsAt: iso(hardEndsAt), extensions: 1 });
    await watcher.until((m) => m.type === "extended" && m.endsAt === iso(hardEndsAt));
    // At the cap already: accepted, but nothing moves and nothing is counted or sent.
    expect((await bid(capped.id, bob.id, 110)).status).toBe(201);
    await watcher.until((m) => m.type === "leaderboard" && m.seq === 2);
    expect(await readAuction(capped.id)).toMatchObject({ endsAt: iso(hardEndsAt), extensions: 1 });
    expect(watcher.messages.filter((m) => m.message.type === "extended")).toHaveLength(1);

    // The extension is stored with the bid: an evicted object comes back with the end in force.
    await evictDurableObject(sessionStub(capped.id));
    expect(await readAuction(capped.id)).toMatchObject({
      endsAt: iso(hardEndsAt),
      scheduledEndsAt: iso(endsAt),
      extensions: 1,
    });
    expect((await statsOf(capped.id)).nextAlarmAt).not.toBeNull();

    const farEnd = Date.now() + HOUR;
    const open = await createAuction({
      endsAt: iso(farEnd),
      softClose: { windowSeconds: 60, extendSeconds: 3_600 },
    });
    expect((await bid(open.id, alice.id, 100)).status).toBe(201);
    expect(await readAuction(open.id)).toMatchObject({ endsAt: iso(farEnd), extensions: 0 });
    watcher.socket.close(1000);
  });
  it("a maximum bid, and a bid a maximum answers at once, extend a soft close like any accepted bid", async () => {
    const [alice, bob] = await twoUsers();
    const endsAt = Date.now() + 30 * SECOND;
    const session = await createAuction({
      endsAt: iso(endsAt),
      softClose: { windowSeconds: 60, extendSeconds: 45 },
    });
    const watcher = await watch(session.id);
    const opening = await maxBid(session.id, alice.id, 500);
    expect(opening.status).toBe(201);
    const firstEnd = Date.parse(opening.body.placedAt) + 45 * SECOND;
    expect(await readAuction(session.id)).toMatchObject({ endsAt: iso(firstEnd), extensions: 1 });
    // bob's bid and alice's automatic raise over it: two seqs at the same instant, one move of the end.
    const rival = await bid(session.id, bob.id, 200);
    expect(rival.body).toMatchObject({ rank: 2, seq: 2 });
    const secondEnd = Date.parse(rival.body.placedAt) + 45 * SECOND;
    expect(await readAuction(session.id)).toMatchObject({
      endsAt: iso(Math.max(firstEnd, secondEnd)),
      extensions: secondEnd > firstEnd ? 2 : 1,
    });
    await watcher.until((m) => m.type === "leaderboard" && m.seq === 3);
    const extensions = watcher.messages.filter((m) => m.message.type === "extended");
    expect(extensions).toHaveLength(secondEnd > firstEnd ? 2 : 1);
    expect((await boardOf(session.id)).body.entries.map((e) => e.amount)).toEqual([210, 200]);
    watcher.socket.close(1000);
  });
});

describe("proxy bids through HTTP", () => {
  it("bids for the caller up to the maximum, each raise its own seq, and shows the maximum to its owner only", async () => {
    const [alice, bob, carol] = await createUsers(3);
    if (!alice || !bob || !carol) throw new Error("users");
    const session = await createAuction();
    const watcher = await watch(session.id);
    const texts = rawMessages(watcher);

    const opening = await maxBid(session.id, alice.id, 500);
    expect(opening.status).toBe(201);
    expect(opening.body).toMatchObject({ amount: 100, maxAmount: 500, rank: 1, seq: 1 });
    // Overtaken at once by alice's maximum: accepted, but not leading.
    const plain = await bid(session.id, bob.id, 200);
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ amount: 200, maxAmount: null, rank: 2, seq: 2 });
    const rival = await maxBid(session.id, carol.id, 400);
    expect(rival.status).toBe(201);
    expect(rival.body).toMatchObject({ amount: 400, maxAmount: 400, rank: 2, seq: 4 });

    const board = await boardOf(session.id);
    expect(board.body.entries.map((e) => [e.userId, e.amount])).toEqual([
      [alice.id, 410],
      [carol.id, 400],
      [bob.id, 200],
    ]);
    expect(board.body.seq).toBe(5);
    // No maximum on the board, in the session, or on the sockets.
    expect(board.text).not.toContain("maxAmount");
    const view = await call("GET", `/v1/sessions/${session.id}`, { token: await tokenFor(bob.id, "user") });
    expect(view.text).not.toContain("maxAmount");
    expect(view.json()).toMatchObject({ highestBid: 410 });
    await watcher.until((m) => m.type === "leaderboard" && m.seq === 5);
    expect(texts.join("\n")).not.toContain("maxAmount");

    // Each owner sees their own maximum in GET /bids/me, and nobody else's.
    const mine = async (userId: number) =>
      (
        await call("GET", `/v1/sessions/${session.id}/bids/me`, {
          token: await tokenFor(userId, "user"),
          schema: MyBidSchema,
        })
      ).body;
    expect(await mine(alice.id)).toMatchObject({ amount: 410, maxAmount: 500, rank: 1, seq: 5 });
    expect(await mine(carol.id)).toMatchObject({ amount: 400, maxAmount: 400, rank: 2 });
    expect(await mine(bob.id)).toMatchObject({ amount: 200, maxAmount: null, rank: 3 });

    // A maximum at or below one's own is refused.
    const lower = await maxBid(session.id, alice.id, 500);
    expect(lower.status).toBe(422);
    expect(lower.problem.code).toBe("bid_increment_too_small");

    // A retry with the same Idempotency-Key replays the receipt; the key with another body is refused.
    const retry = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await tokenFor(carol.id, "user"),
      body: { maxAmount: 450 },
      headers: { "Idempotency-Key": "carol-max" },
      schema: BidReceiptSchema,
    });
    expect(retry.body).toMatchObject({ amount: 450, maxAmount: 450, rank: 2, seq: 6 });
    const again = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await tokenFor(carol.id, "user"),
      body: { maxAmount: 450 },
      headers: { "Idempotency-Key": "carol-max" },
      schema: BidReceiptSchema,
    });
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body).toEqual(retry.body);
    const otherBody = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await tokenFor(carol.id, "user"),
      body: { amount: 450 },
      headers: { "Idempotency-Key": "carol-max" },
    });
    expect(otherBody.status).toBe(422);
    expect(otherBody.problem.code).toBe("idempotency_key_reused");

    // Evicted, the object still knows who bids by proxy: the next rival bid raises alice again.
    await evictDurableObject(sessionStub(session.id));
    expect((await bid(session.id, bob.id, 480)).body).toMatchObject({ amount: 480, rank: 2, seq: 8 });
    expect((await boardOf(session.id)).body.entries.map((e) => [e.userId, e.amount])).toEqual([
      [alice.id, 490],
      [bob.id, 480],
      [carol.id, 450],
    ]);

    // PostgreSQL after one flush: every raise a history row of its own, marked auto.
    await fireAlarm(session.id);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => [e.seq, e.userId, e.amount, e.auto])).toEqual([
      [1, alice.id, 100, false],
      [2, bob.id, 200, false],
      [3, alice.id, 210, true],
      [4, carol.id, 400, false],
      [5, alice.id, 410, true],
      [6, carol.id, 450, false],
      [7, alice.id, 460, true],
      [8, bob.id, 480, false],
      [9, alice.id, 490, true],
    ]);
    const live = new Map(stored.bids.map((b) => [b.userId, b]));
    expect(live.get(alice.id)).toMatchObject({ amount: 490, maxAmount: 500, seq: 9 });
    expect(live.get(carol.id)).toMatchObject({ amount: 450, maxAmount: 450, seq: 6 });
    expect(live.get(bob.id)).toMatchObject({ amount: 480, maxAmount: null, seq: 8 });
    watcher.socket.close(1000);
  });

  it("a maximum bid's batch sent again after an eviction gets the same receipt, maximum included", async () => {
    const [alice, bob] = await twoUsers();
    const session = await createAuction();
    const stub = sessionStub(session.id);
    const batch = [{ userId: alice.id, maxAmount: 500, requestId: "max-1" }];
    const [first] = await stub.placeBids(batch);
    expect(first).toMatchObject({ ok: true, value: { receipt: { amount: 100, maxAmount: 500, seq: 1 } } });
    // A rival's bid raises alice automatically: her live bid has another seq now.
    expect((await bid(session.id, bob.id, 200)).status).toBe(201);
    await evictDurableObject(stub);
    const [resent] = await stub.placeBids(batch.map((r) => ({ ...r, resend: true })));
    expect(resent).toMatchObject({ ok: true, value: { receipt: { amount: 100, maxAmount: 500, seq: 1 } } });
    expect((await statsOf(session.id)).seq).toBe(3);
  });

  it("refuses a maximum in a session of several units (422) and a body with both figures (400)", async () => {
    const [alice] = await createUsers(1);
    if (!alice) throw new Error("users");
    const multi = await createAuction({ units: 3 });
    const refused = await maxBid(multi.id, alice.id, 500);
    expect(refused.status).toBe(422);
    expect(refused.problem.code).toBe("proxy_bids_need_single_unit");

    const single = await createAuction();
    const both = await call("POST", `/v1/sessions/${single.id}/bids`, {
      token: await tokenFor(alice.id, "user"),
      body: { amount: 200, maxAmount: 500 },
    });
    expect(both.status).toBe(400);
    expect(both.problem.code).toBe("invalid_request");
    for (const id of [multi.id, single.id]) {
      expect(await readAuction(id)).toMatchObject({ bidders: 0, highestBid: null });
      expect((await statsOf(id)).seq).toBe(0);
    }
  });
});

describe("units and reserve", () => {
  it("with 3 units and a reserve, only bids at or above the reserve win, in board order", async () => {
    const users = await createUsers(5);
    const session = await createAuction({ units: 3, reservePrice: 300 });
    expect(await readAuction(session.id)).toMatchObject({ units: 3, reserveMet: false });
    const amounts = [250, 500, 350, 200, 250];
    for (const [i, user] of users.entries()) {
      expect((await bid(session.id, user.id, amounts[i] ?? 0)).status).toBe(201);
    }
    expect(await readAuction(session.id)).toMatchObject({ reserveMet: true, highestBid: 500 });
    const [u0, u1, u2, , u4] = users;
    if (!u0 || !u1 || !u2 || !u4) throw new Error("users");
    // The board's third place (250) is under the reserve: two winners, not three.
    const board = (await boardOf(session.id)).body.entries.map((e) => e.userId);
    expect(board.slice(0, 4)).toEqual([u1.id, u2.id, u0.id, u4.id]);

    await endNow(session.id);
    // Asked for before the alarm: fixed here, and the alarm writes the same.
    const results = await resultsOf(session.id);
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({
      finalSeq: 5,
      reserveMet: true,
      winners: [
        { rank: 1, userId: u1.id, username: u1.username, amount: 500 },
        { rank: 2, userId: u2.id, username: u2.username, amount: 350 },
      ],
    });
    expect(results.body.winners).toHaveLength(2);
    await fireAlarm(session.id);
    expect(
      (await readResultsFromPostgres(session.id)).map((r) => [r.rank, r.userId, r.amount, r.seq]),
    ).toEqual([
      [1, u1.id, 500, 2],
      [2, u2.id, 350, 3],
    ]);
    expect((await resultsOf(session.id)).body).toEqual(results.body);
  });

  it("a reserve nobody reaches: reserveMet false, no winners, the session still closed in PostgreSQL", async () => {
    const [alice] = await createUsers(1);
    if (!alice) throw new Error("users");
    const session = await createAuction({ reservePrice: 1_000 });
    expect((await bid(session.id, alice.id, 999)).status).toBe(201);
    expect(await readAuction(session.id)).toMatchObject({ reserveMet: false, highestBid: 999 });
    const ended = await endNow(session.id);
    await fireAlarm(session.id);
    expect((await resultsOf(session.id)).body).toMatchObject({ reserveMet: false, winners: [], finalSeq: 1 });
    expect(await readResultsFromPostgres(session.id)).toEqual([]);
    const row = (await readSessionFromPostgres(session.id)).session;
    expect(row?.closedAt?.toISOString()).toBe(ended.endsAt);
    expect(row?.finalSeq).toBe(1);
  });

  it("shows reservePrice and hardEndsAt to admins only; everyone sees reserveMet", async () => {
    const [alice] = await createUsers(1);
    if (!alice) throw new Error("users");
    const endsAt = Date.now() + HOUR;
    const session = await createAuction({
      endsAt: iso(endsAt),
      reservePrice: 300,
      hardEndsAt: iso(endsAt + HOUR),
    });
    expect((await bid(session.id, alice.id, 200)).status).toBe(201);
    for (const token of [undefined, await tokenFor(alice.id, "user")]) {
      const res = await call("GET", `/v1/sessions/${session.id}`, { token });
      expect(res.status).toBe(200);
      const json = res.json();
      expect(json).toMatchObject({ reserveMet: false, units: 1 });
      expect(json).not.toHaveProperty("reservePrice");
      expect(json).not.toHaveProperty("hardEndsAt");
    }
    expect(await readAuction(session.id, await adminToken())).toMatchObject({
      reservePrice: 300,
      hardEndsAt: iso(endsAt + HOUR),
      reserveMet: false,
    });
  });
});

describe("the clock in every session view", () => {
  it("serverTime and endsInMs: endsInMs = endsAt - serverTime, and 0 once ended", async () => {
    const consistent = (view: Session) =>
      expect(view.endsInMs).toBe(Math.max(0, Date.parse(view.endsAt) - Date.parse(view.serverTime)));
    const before = Date.now();
    const created = await createAuction({ endsAt: iso(before + 60 * SECOND) });
    consistent(created);
    expect(created.endsInMs).toBeGreaterThan(50 * SECOND);
    const read = await readAuction(created.id);
    consistent(read);
    expect(Date.parse(read.serverTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(read.serverTime)).toBeLessThanOrEqual(Date.now());
    const renamed = await patchSession(created.id, { title: "Renamed" });
    consistent(renamed.body);

    const scheduled = await createAuction({
      startsAt: iso(Date.now() + HOUR),
      endsAt: iso(Date.now() + 2 * HOUR),
    });
    consistent(await readAuction(scheduled.id));

    const ended = await endNow(created.id);
    expect(ended.endsInMs).toBe(0);
    const afterEnd = await readAuction(created.id);
    expect(afterEnd).toMatchObject({ status: "ended", endsInMs: 0 });
    expect(Date.parse(afterEnd.serverTime)).toBeGreaterThanOrEqual(Date.parse(afterEnd.endsAt));
  });
});

describe("PATCH softClose and reservePrice", () => {
  it("changes them while scheduled, and answers 409 session_already_started after the start, changing nothing", async () => {
    const scheduled = await createAuction({
      startsAt: iso(Date.now() + HOUR),
      endsAt: iso(Date.now() + 2 * HOUR),
    });
    const rule = { windowSeconds: 30, extendSeconds: 15 };
    const set = await patchSession(scheduled.id, { softClose: rule, reservePrice: 500 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ softClose: rule, reservePrice: 500, reserveMet: false });
    await fireAlarm(scheduled.id);
    expect((await readSessionFromPostgres(scheduled.id)).session).toMatchObject({
      softCloseWindowSeconds: 30,
      softCloseExtendSeconds: 15,
      reservePrice: 500,
    });
    const cleared = await patchSession(scheduled.id, { softClose: null, reservePrice: null });
    expect(cleared.body).toMatchObject({ softClose: null, reservePrice: null, reserveMet: true });

    const active = await createAuction({ softClose: rule, reservePrice: 200 });
    const before = await stableView(active.id);
    for (const body of [
      { softClose: { windowSeconds: 60, extendSeconds: 60 } },
      { softClose: null },
      { reservePrice: 300 },
      { reservePrice: null },
      { title: "Renamed", reservePrice: 300 },
      { endsAt: iso(Date.now() + 2 * HOUR), softClose: null },
    ]) {
      const res = await patchSession(active.id, body);
      expect(res.status).toBe(409);
      expect(res.problem.code).toBe("session_already_started");
    }
    expect(await stableView(active.id)).toEqual(before);
  });

  it.each([
    ["windowSeconds 0", { softClose: { windowSeconds: 0, extendSeconds: 10 } }],
    ["windowSeconds 3601", { softClose: { windowSeconds: 3601, extendSeconds: 10 } }],
    ["extendSeconds 0", { softClose: { windowSeconds: 10, extendSeconds: 0 } }],
    ["extendSeconds 3601", { softClose: { windowSeconds: 10, extendSeconds: 3601 } }],
    ["windowSeconds 1.5", { softClose: { windowSeconds: 1.5, extendSeconds: 10 } }],
    ["softClose without extendSeconds", { softClose: { windowSeconds: 10 } }],
    ["softClose with another field", { softClose: { windowSeconds: 10, extendSeconds: 10, resetTo: 5 } }],
    ["units 0", { units: 0 }],
    ["units 1001", { units: 1001 }],
    ["units 2.5", { units: 2.5 }],
    ["reservePrice under minBid", { reservePrice: 99 }],
    ["reservePrice 0", { reservePrice: 0 }],
    [
      "hardEndsAt equal to endsAt",
      { endsAt: "2031-01-01T00:00:00.000Z", hardEndsAt: "2031-01-01T00:00:00.000Z" },
    ],
    [
      "hardEndsAt before endsAt",
      { endsAt: "2031-01-01T00:00:00.000Z", hardEndsAt: "2030-12-31T00:00:00.000Z" },
    ],
  ])("POST /v1/sessions: %s is a 400 and creates nothing", async (_label, fields) => {
    const body = auctionBody(fields);
    const res = await call("POST", "/v1/sessions", { token: await adminToken(), body });
    expect(res.status).toBe(400);
    expect(res.problem.code).toBe("invalid_request");
    const rows = await withDatabase(env, (db) =>
      db
        .select()
        .from(biddingSessions)
        .where(eq(biddingSessions.title, String(body.title))),
    );
    expect(rows).toEqual([]);
  });

  it("PATCH: out-of-bounds rules are 400 before the start and change nothing", async () => {
    const endsAt = Date.now() + 2 * HOUR;
    const scheduled = await createAuction({
      startsAt: iso(Date.now() + HOUR),
      endsAt: iso(endsAt),
      hardEndsAt: iso(endsAt + HOUR),
      softClose: { windowSeconds: 30, extendSeconds: 15 },
      reservePrice: 500,
    });
    const before = await stableView(scheduled.id);
    for (const body of [
      { softClose: { windowSeconds: 0, extendSeconds: 10 } },
      { softClose: { windowSeconds: 3601, extendSeconds: 10 } },
      { softClose: { windowSeconds: 10 } },
      { reservePrice: 99 },
      { reservePrice: 0 },
      { reservePrice: "500" },
      { endsAt: iso(endsAt + HOUR + 1) },
      { units: 2 },
      { hardEndsAt: iso(endsAt + 2 * HOUR) },
    ]) {
      const res = await patchSession(scheduled.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.problem.code).toBe("invalid_request");
    }
    expect(await stableView(scheduled.id)).toEqual(before);
  });
});

import { describe, expect, it } from "vitest";
import type { BidRequest, Outcome, PlacedBid } from "../../src/api/session-protocol";
import { type BiddingState, decideBatch } from "../../src/bidding/batch-decision";
import { BidBook } from "../../src/bidding/bid-book";
import { RateLimiter } from "../../src/bidding/rate-limit";
import { type NewSessionParams, withAuctionDefaults } from "../../src/bidding/rules";
import { genesisLink, nextLink } from "../../src/history/chain";

const NOW = 1_000_000;

function stateFor(
  session: Partial<NewSessionParams> = {},
  limiter = new RateLimiter(100, 100),
): BiddingState {
  const params = withAuctionDefaults({
    id: "s",
    title: "t",
    startsAt: 0,
    endsAt: NOW + 3_600_000,
    minBid: 100,
    minIncrement: 10,
    createdAt: 0,
    currency: "USD",
    ...session,
  });
  return {
    record: { params, version: 1, endHandledAt: null, results: null },
    seq: 0,
    head: genesisLink(params.id),
    book: new BidBook(),
    limiter,
    bidsPerSecond: 100,
  };
}

const bidderOf = (userId: number) => `Bidder ${userId}`;

const decide = (
  state: BiddingState,
  requests: BidRequest[],
  answeredBefore: () => Outcome<PlacedBid> | undefined = () => undefined,
) => decideBatch(state, { requests, bidders: new Map(), now: NOW, bidderOf, answeredBefore });

/** What the object does once the batch is stored. */
function commit(state: BiddingState, decision: ReturnType<typeof decideBatch>): void {
  state.record = decision.record;
  state.seq = decision.seq;
  state.head = decision.head;
}

const summary = (outcome: Outcome<PlacedBid> | undefined) =>
  outcome?.ok
    ? { seq: outcome.value.receipt.seq, replayed: outcome.value.replayed }
    : { code: outcome?.code };

describe("decideBatch", () => {
  it("decides bids in arrival order, each against what the earlier ones left", () => {
    const state = stateFor();
    const decision = decide(state, [
      { userId: 1, amount: 100 },
      { userId: 2, amount: 105 },
      { userId: 1, amount: 110 },
      { userId: 2, amount: 110 },
    ]);
    // Each bidder raises only their own bid: user 2's 110 is not 10 above their own 105.
    expect(decision.outcomes.map(summary)).toEqual([
      { seq: 1, replayed: false },
      { seq: 2, replayed: false },
      { seq: 3, replayed: false },
      { code: "bid_increment_too_small" },
    ]);
    expect(decision.seq).toBe(3);
    // A bidder's first bid is marked so: the Worker records it for GET /v1/me/bids.
    expect(decision.outcomes.map((o) => o.ok && o.value.first)).toEqual([true, true, false, false]);
    expect(decision.accepted.map((a) => [a.bid.userId, a.bid.amount, a.bid.seq])).toEqual([
      [1, 100, 1],
      [2, 105, 2],
      [1, 110, 3],
    ]);
    // The decision stored nothing and changed no record: the caller commits.
    expect(state.seq).toBe(0);
    expect(decision.extended).toBe(false);
  });

  it("undoes every change it made to the book and the rate limits", () => {
    const state = stateFor({}, new RateLimiter(1, 1));
    // User 1 holds 100 and has no token left.
    commit(state, decide(state, [{ userId: 1, amount: 100 }]));
    const before = state.book.top(10);
    const decision = decide(state, [
      { userId: 2, amount: 200 },
      { userId: 1, amount: 300 },
    ]);
    expect(decision.outcomes.map(summary)).toEqual([{ seq: 2, replayed: false }, { code: "rate_limited" }]);
    decision.undo();
    expect(state.book.top(10)).toEqual(before);
    // User 2's token is back: the undone bid is decided again the same way.
    expect(decide(state, [{ userId: 2, amount: 200 }]).outcomes.map(summary)).toEqual([
      { seq: 2, replayed: false },
    ]);
  });

  it("refuses what it cannot accept and changes nothing for it", () => {
    const state = stateFor();
    const bidders = new Map([
      [7, "missing" as const],
      [8, "unavailable" as const],
    ]);
    const decision = decideBatch(state, {
      requests: [
        { userId: 1, amount: 50 },
        { userId: 1, amount: 100, maxAmount: 200 },
        { userId: 7, amount: 100 },
        { userId: 8, amount: 100 },
      ],
      bidders,
      now: NOW,
      bidderOf,
      answeredBefore: () => undefined,
    });
    expect(decision.outcomes.map(summary)).toEqual([
      { code: "bid_below_minimum" },
      { code: "invalid_request" },
      { code: "user_not_found" },
      { code: "database_unavailable" },
    ]);
    expect(decision.accepted).toEqual([]);
    expect(state.book.size).toBe(0);
  });

  it("answers a request id or an Idempotency-Key met again in the batch as the first time", () => {
    const state = stateFor();
    const decision = decide(state, [
      { userId: 1, amount: 100, requestId: "r1" },
      { userId: 1, amount: 100, requestId: "r1", resend: true },
      { userId: 2, amount: 120, idempotencyKey: "k" },
      { userId: 2, amount: 120, idempotencyKey: "k" },
      { userId: 2, amount: 130, idempotencyKey: "k" },
    ]);
    expect(decision.outcomes.map(summary)).toEqual([
      { seq: 1, replayed: false },
      { seq: 1, replayed: false },
      { seq: 2, replayed: false },
      { seq: 2, replayed: true },
      { code: "idempotency_key_reused" },
    ]);
    expect(decision.accepted).toHaveLength(2);
  });

  it("takes an answer from an earlier batch before deciding again", () => {
    const state = stateFor();
    const earlier: Outcome<PlacedBid> = { ok: false, code: "session_ended", detail: "before" };
    const decision = decide(state, [{ userId: 1, amount: 100, requestId: "old" }], () => earlier);
    expect(decision.outcomes).toEqual([earlier]);
    expect(decision.accepted).toEqual([]);
  });

  it("moves a soft close's end and names the new record", () => {
    const state = stateFor({ endsAt: NOW + 10_000, softClose: { windowSeconds: 60, extendSeconds: 120 } });
    const decision = decide(state, [{ userId: 1, amount: 100 }]);
    expect(decision.extended).toBe(true);
    expect(decision.record.params.endsAt).toBe(NOW + 120_000);
    expect(decision.record.params.extensions).toBe(1);
    expect(decision.record.version).toBe(2);
    expect(state.record.params.endsAt).toBe(NOW + 10_000);
  });

  it("names who was winning and is not: before the batch, or accepted in it and passed within it", () => {
    const state = stateFor({ units: 1 });
    commit(state, decide(state, [{ userId: 1, amount: 100 }]));
    const decision = decide(state, [
      { userId: 2, amount: 110 },
      { userId: 3, amount: 120 },
    ]);
    expect(decision.outbid.map((d) => [d.userId, d.amount, d.rank]).sort()).toEqual([
      [1, 100, 3],
      [2, 110, 2],
    ]);
  });

  it("puts a maximum's automatic raises after the bid that provoked them, each with its seq", () => {
    const state = stateFor({ units: 1 });
    commit(state, decide(state, [{ userId: 1, maxAmount: 500 }]));
    const decision = decide(state, [{ userId: 2, amount: 200 }]);
    expect(
      decision.accepted.map((a) => [
        a.bid.userId,
        a.bid.amount,
        a.bid.seq,
        a.bid.auto,
        a.receipt !== undefined,
      ]),
    ).toEqual([
      [2, 200, 2, false, true],
      [1, 210, 3, true, false],
    ]);
    // The maximum answered at once: user 2 never held the lead, so nobody was outbid.
    expect(decision.outcomes.map((o) => (o.ok ? o.value.receipt.rank : null))).toEqual([2]);
    expect(decision.outbid).toEqual([]);
  });

  it("links every accepted bid into the bid log, automatic raises included, from the head it was given", () => {
    const state = stateFor({ units: 1 });
    commit(state, decide(state, [{ userId: 1, maxAmount: 500 }]));
    const decision = decide(state, [
      { userId: 2, amount: 200, requestId: "r2" },
      { userId: 2, amount: 200, requestId: "r2", resend: true },
      { userId: 3, amount: 250 },
    ]);
    // Recomputed as a client would from the public history: h0, then each row in seq order.
    let link = genesisLink("s");
    const rows = [
      { seq: 1, bidder: "Bidder 1", amount: 100, auto: false },
      { seq: 2, bidder: "Bidder 2", amount: 200, auto: false },
      { seq: 3, bidder: "Bidder 1", amount: 210, auto: true },
      { seq: 4, bidder: "Bidder 3", amount: 250, auto: false },
      { seq: 5, bidder: "Bidder 1", amount: 260, auto: true },
    ].map((row) => {
      link = nextLink(link, { ...row, placedAt: new Date(NOW).toISOString() });
      return link;
    });
    expect(decision.accepted.map((a) => [a.bid.seq, a.bidder, a.hash])).toEqual([
      [2, "Bidder 2", rows[1]],
      [3, "Bidder 1", rows[2]],
      [4, "Bidder 3", rows[3]],
      [5, "Bidder 1", rows[4]],
    ]);
    expect(decision.head).toBe(rows[4]);
    // The receipts carry their own bid's link; the bid sent again in the batch gets the same one.
    expect(
      decision.outcomes.map((o) => (o.ok ? [o.value.receipt.bidder, o.value.receipt.hash] : null)),
    ).toEqual([
      ["Bidder 2", rows[1]],
      ["Bidder 2", rows[1]],
      ["Bidder 3", rows[3]],
    ]);
    // Nothing is stored: the state keeps the head it had until the caller commits.
    expect(state.head).toBe(rows[0]);
  });

  it("changes nothing in the book when a bidder's pseudonym cannot be had (no secret)", () => {
    const state = stateFor();
    const noSecret = () => {
      throw new Error("JWT_SECRET is required");
    };
    expect(() =>
      decideBatch(state, {
        requests: [{ userId: 1, amount: 100 }],
        bidders: new Map(),
        now: NOW,
        bidderOf: noSecret,
        answeredBefore: () => undefined,
      }),
    ).toThrow(/JWT_SECRET/);
    expect(state.book.size).toBe(0);
  });

  it("links nothing in a session that took bids before the bid log", () => {
    const state = { ...stateFor(), seq: 7, head: null };
    const decision = decide(state, [{ userId: 1, amount: 100 }]);
    expect(decision.accepted.map((a) => [a.bid.seq, a.bidder, a.hash])).toEqual([[8, "Bidder 1", null]]);
    expect(decision.head).toBeNull();
  });
});

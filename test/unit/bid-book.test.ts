import { describe, expect, it } from "vitest";
import { BidBook, type BidOrder, type LiveBid } from "../../src/bidding/bid-book";
import { refuseBid, refuseMaximum, type SessionParams, withAuctionDefaults } from "../../src/bidding/rules";

const sessionWith = (minBid: number, minIncrement: number): SessionParams =>
  withAuctionDefaults({
    id: "s",
    title: "t",
    startsAt: 0,
    endsAt: 10 ** 12,
    minBid,
    minIncrement,
    createdAt: 0,
  });

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

/**
 * One bidding session as the object runs it: refuse with the rules first,
 * then settle, then put each settled bid in order, seqs increasing.
 */
class Auction {
  readonly book = new BidBook();
  readonly history: LiveBid[] = [];
  seq = 0;

  constructor(readonly session: SessionParams) {}

  /** The settled bids, or the refusal code. */
  place(order: BidOrder, at: number): LiveBid[] | string {
    const previous = this.book.bidOf(order.userId);
    const refusal =
      "maxAmount" in order
        ? refuseMaximum(this.session, previous, order.maxAmount, at)
        : refuseBid(this.session, previous?.amount, order.amount, at);
    if (refusal) return refusal.code;
    const settled = this.book.settle(order, this.seq + 1, at, this.session);
    for (const bid of settled) {
      this.book.put(bid);
      this.seq = bid.seq;
      this.history.push(bid);
    }
    return settled;
  }

  /** Every live bid, best first. */
  state(): LiveBid[] {
    return this.book.top(this.book.size);
  }
}

const ceilingOf = (bid: LiveBid) => Math.max(bid.amount, bid.maxAmount ?? 0);

/** The highest ceiling, the earliest commitment to it on ties. */
const byCeiling = (a: LiveBid, b: LiveBid) => ceilingOf(b) - ceilingOf(a) || a.tieSeq - b.tieSeq;

interface Step {
  order: BidOrder;
  at: number;
}

/** Orders near the action: around the leading amount, at rivals' exact ceilings, and some that must be refused. */
function nextOrder(random: (below: number) => number, auction: Auction, bidders: number, step: number): Step {
  const userId = 1 + random(bidders);
  const { minBid, minIncrement } = auction.session;
  const live = auction.state();
  const own = auction.book.bidOf(userId);
  const leading = live[0]?.amount ?? minBid;
  const roll = random(100);
  let figure: number;
  if (roll < 20 && live.length > 0) {
    // Exactly a rival's ceiling: equal maxima, equal plain bids.
    const rival = live[random(live.length)];
    figure = rival ? ceilingOf(rival) : leading;
  } else if (roll < 30) {
    // Around the caller's own bid and maximum: too small raises, raises under their own maximum.
    const base = own ? Math.max(own.amount, own.maxAmount ?? 0) : minBid;
    figure = base + (random(5) - 2) * minIncrement;
  } else {
    figure = leading + (random(16) - 3) * Math.max(1, Math.ceil(minIncrement / 2));
  }
  figure = Math.max(1, figure);
  const order: BidOrder = random(2) === 0 ? { userId, amount: figure } : { userId, maxAmount: figure };
  return { order, at: step };
}

/** What the rules say must hold after a step; returns the first broken rule, or null. */
function brokenRule(
  auction: Auction,
  before: Map<number, LiveBid>,
  step: Step,
  seqBefore: number,
  accepted: boolean,
): string | null {
  const live = auction.state();
  if (live.length === 0) return null;
  const [leader] = live;
  const [expected] = [...live].sort(byCeiling);
  if (!leader || !expected) return "no leader";
  if (leader.userId !== expected.userId) {
    return `leader ${leader.userId} (${leader.amount}), expected ${expected.userId} (ceiling ${ceilingOf(expected)})`;
  }
  const { minBid, minIncrement } = auction.session;
  if (leader.maxAmount !== null) {
    const second = live.filter((b) => b.userId !== leader.userId).sort(byCeiling)[0];
    const acted = accepted && step.order.userId === leader.userId;
    const floor =
      acted && "amount" in step.order ? step.order.amount : (before.get(leader.userId)?.amount ?? 0);
    const lowestLeading = Math.max(floor, minBid, second ? ceilingOf(second) + minIncrement : 0);
    const amount = Math.min(leader.maxAmount, lowestLeading);
    if (leader.amount !== amount) return `proxy leader at ${leader.amount}, the rules say ${amount}`;
  }
  for (const bid of live) {
    const earlier = before.get(bid.userId);
    if (earlier && bid.amount < earlier.amount) {
      return `user ${bid.userId} went down from ${earlier.amount} to ${bid.amount}`;
    }
    if (bid !== leader && bid.maxAmount !== null && bid.amount !== bid.maxAmount) {
      return `outbid proxy ${bid.userId} at ${bid.amount}, not at its maximum ${bid.maxAmount}`;
    }
    if (bid.maxAmount !== null && bid.maxAmount < bid.amount) return `user ${bid.userId} above its maximum`;
  }
  const settled = auction.history.filter((b) => b.seq > seqBefore);
  for (const [i, bid] of settled.entries()) {
    if (bid.seq !== seqBefore + 1 + i) return `seq ${bid.seq} after ${seqBefore + i}`;
    // The bidder's own bid first, then only automatic raises.
    const raise = i > 0;
    if (bid.auto !== raise) return `bid ${bid.seq}: auto ${bid.auto}`;
    const earlier = before.get(bid.userId);
    // An automatic raise always changes something.
    if (bid.auto && earlier && bid.amount <= earlier.amount)
      return `raise of ${bid.userId} that changes nothing`;
  }
  if (settled[0] && settled[0].userId !== step.order.userId) return "the bidder's own bid is not first";
  return null;
}

/** Runs `steps` random orders from `seed`; every rule is checked after every step. */
function run(seed: number, steps: number, bidders: number, session: SessionParams) {
  const random = prng(seed);
  const auction = new Auction(session);
  const orders: Step[] = [];
  for (let i = 1; i <= steps; i += 1) {
    const step = nextOrder(random, auction, bidders, i);
    orders.push(step);
    const before = new Map(auction.state().map((b) => [b.userId, b]));
    const seqBefore = auction.seq;
    const accepted = typeof auction.place(step.order, step.at) !== "string";
    const broken = brokenRule(auction, before, step, seqBefore, accepted);
    if (broken) {
      const trail = orders.map((s) => JSON.stringify(s.order)).join("\n");
      throw new Error(`seed ${seed}, step ${i}: ${broken}\norders:\n${trail}`);
    }
  }
  return { auction, orders };
}

const replay = (session: SessionParams, orders: readonly Step[]) => {
  const auction = new Auction(session);
  const outcomes = orders.map((s) => auction.place(s.order, s.at));
  return { auction, outcomes };
};

describe("BidBook.settle over random plain and maximum bids", () => {
  const increments = [1, 5, 10, 25];

  it("holds the proxy rules after every step, for 400 seeded runs", () => {
    let accepted = 0;
    let raises = 0;
    for (let seed = 1; seed <= 400; seed += 1) {
      const session = sessionWith(100, increments[seed % increments.length] ?? 10);
      const { auction } = run(seed, 150, 2 + (seed % 7), session);
      accepted += auction.history.filter((b) => !b.auto).length;
      raises += auction.history.filter((b) => b.auto).length;
    }
    // The generator reaches the interesting cases, or the rules were never tested.
    expect(accepted).toBeGreaterThan(20_000);
    expect(raises).toBeGreaterThan(5_000);
  });

  it("holds them with many bidders, where only some plain bidders can come second", () => {
    const { auction } = run(20_260_101, 4_000, 60, sessionWith(100, 10));
    expect(auction.book.size).toBe(60);
    expect(auction.history.some((b) => b.auto)).toBe(true);
  });

  it("gives the identical state and history when the same orders are replayed into a fresh book", () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      const session = sessionWith(100, increments[seed % increments.length] ?? 10);
      const { auction, orders } = run(seed, 200, 5, session);
      const again = replay(session, orders).auction;
      expect(again.state()).toEqual(auction.state());
      expect(again.history).toEqual(auction.history);
    }
  });

  it("continues identically from a book rebuilt from its live bids in any order (the object after eviction)", () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      const session = sessionWith(100, 10);
      const { auction, orders } = run(seed, 200, 6, session);
      const cut = 100;
      const first = replay(session, orders.slice(0, cut)).auction;
      const restored = new Auction(session);
      const shuffle = prng(seed * 31);
      const stored = [...first.state()].sort(() => shuffle(3) - 1);
      for (const bid of stored) restored.book.put(bid);
      restored.seq = first.seq;
      restored.history.push(...first.history);
      for (const step of orders.slice(cut)) restored.place(step.order, step.at);
      expect(restored.state()).toEqual(auction.state());
      expect(restored.history).toEqual(auction.history);
    }
  });
});

/** The live bids of an auction by user: amount, maximum, and whether the last change was automatic. */
const summary = (auction: Auction) =>
  auction.state().map((b) => ({ userId: b.userId, amount: b.amount, maxAmount: b.maxAmount }));

const settledOf = (outcome: LiveBid[] | string): LiveBid[] => {
  if (typeof outcome === "string") throw new Error(`refused: ${outcome}`);
  return outcome;
};

describe("worked examples (eBay's proxy bidding, minimum 100, increment 10)", () => {
  const A = 1;
  const B = 2;
  const C = 3;
  const auctionOf = () => new Auction(sessionWith(100, 10));

  it("proxy against plain: the maximum answers each plain bid with one increment more", () => {
    const auction = auctionOf();
    expect(settledOf(auction.place({ userId: A, maxAmount: 500 }, 1))).toMatchObject([
      { userId: A, amount: 100, maxAmount: 500, seq: 1, auto: false },
    ]);
    expect(settledOf(auction.place({ userId: B, amount: 200 }, 2))).toMatchObject([
      { userId: B, amount: 200, seq: 2, auto: false },
      { userId: A, amount: 210, seq: 3, auto: true, maxAmount: 500 },
    ]);
    // Over the maximum: the plain bid leads and the proxy stands at its maximum.
    expect(settledOf(auction.place({ userId: B, amount: 600 }, 3))).toMatchObject([
      { userId: B, amount: 600, seq: 4 },
      { userId: A, amount: 500, seq: 5, auto: true },
    ]);
    expect(summary(auction)).toEqual([
      { userId: B, amount: 600, maxAmount: null },
      { userId: A, amount: 500, maxAmount: 500 },
    ]);
  });

  it("a plain bid equal to a maximum loses to the earlier maximum", () => {
    const auction = auctionOf();
    auction.place({ userId: A, maxAmount: 500 }, 1);
    expect(settledOf(auction.place({ userId: B, amount: 500 }, 2))).toMatchObject([
      { userId: B, amount: 500 },
      { userId: A, amount: 500, auto: true },
    ]);
    expect(auction.book.rankOf(A)).toBe(1);
    expect(auction.book.rankOf(B)).toBe(2);
  });

  it("a leading maximum is never raised past itself: one increment over a close rival is capped", () => {
    const auction = auctionOf();
    auction.place({ userId: A, maxAmount: 505 }, 1);
    auction.place({ userId: B, amount: 500 }, 2);
    expect(summary(auction)[0]).toEqual({ userId: A, amount: 505, maxAmount: 505 });
  });

  it("proxy against proxy: the higher maximum leads at one increment over the other", () => {
    const auction = auctionOf();
    auction.place({ userId: A, maxAmount: 500 }, 1);
    // B's maximum is lower: B stands at it, A is raised over it at once.
    expect(settledOf(auction.place({ userId: B, maxAmount: 300 }, 2))).toMatchObject([
      { userId: B, amount: 300, maxAmount: 300, seq: 2 },
      { userId: A, amount: 310, seq: 3, auto: true },
    ]);
    expect(auction.book.rankOf(B)).toBe(2);
    // B goes over A's maximum.
    expect(settledOf(auction.place({ userId: B, maxAmount: 700 }, 3))).toMatchObject([
      { userId: B, amount: 510, maxAmount: 700, seq: 4 },
      { userId: A, amount: 500, seq: 5, auto: true },
    ]);
    expect(summary(auction)).toEqual([
      { userId: B, amount: 510, maxAmount: 700 },
      { userId: A, amount: 500, maxAmount: 500 },
    ]);
  });

  it("equal maxima: the earlier leads, at the maximum", () => {
    const auction = auctionOf();
    auction.place({ userId: A, maxAmount: 500 }, 1);
    auction.place({ userId: B, maxAmount: 500 }, 2);
    expect(summary(auction)).toEqual([
      { userId: A, amount: 500, maxAmount: 500 },
      { userId: B, amount: 500, maxAmount: 500 },
    ]);
    // A third equal maximum changes nobody's place.
    auction.place({ userId: C, maxAmount: 500 }, 3);
    expect(auction.state().map((b) => b.userId)).toEqual([A, B, C]);
  });

  it("raising one's own maximum while leading raises nothing visible", () => {
    const auction = auctionOf();
    auction.place({ userId: A, maxAmount: 500 }, 1);
    auction.place({ userId: B, amount: 200 }, 2);
    expect(settledOf(auction.place({ userId: A, maxAmount: 800 }, 3))).toMatchObject([
      { userId: A, amount: 210, maxAmount: 800 },
    ]);
    // A maximum at or below the caller's current one is refused.
    expect(auction.place({ userId: A, maxAmount: 800 }, 4)).toBe("bid_increment_too_small");
    expect(settledOf(auction.place({ userId: B, amount: 600 }, 5))).toMatchObject([
      { userId: B, amount: 600 },
      { userId: A, amount: 610, auto: true },
    ]);
  });

  it("a plain bid under one's own maximum keeps the maximum; one over it drops it", () => {
    const auction = auctionOf();
    auction.place({ userId: A, maxAmount: 500 }, 1);
    auction.place({ userId: B, amount: 200 }, 2);
    expect(settledOf(auction.place({ userId: A, amount: 300 }, 3))).toMatchObject([
      { userId: A, amount: 300, maxAmount: 500, auto: false },
    ]);
    expect(settledOf(auction.place({ userId: B, amount: 400 }, 4))).toMatchObject([
      { userId: B, amount: 400 },
      { userId: A, amount: 410, maxAmount: 500, auto: true },
    ]);
    expect(settledOf(auction.place({ userId: A, amount: 600 }, 5))).toMatchObject([
      { userId: A, amount: 600, maxAmount: null },
    ]);
    // A plain bidder again: B's next bid raises nothing.
    expect(settledOf(auction.place({ userId: B, amount: 700 }, 6))).toHaveLength(1);
  });

  it("a maximum below the leader's plain bid stands at itself, ranked below", () => {
    const auction = auctionOf();
    auction.place({ userId: A, amount: 300 }, 1);
    expect(settledOf(auction.place({ userId: B, maxAmount: 250 }, 2))).toMatchObject([
      { userId: B, amount: 250, maxAmount: 250 },
    ]);
    expect(auction.book.rankOf(B)).toBe(2);
  });
});

import { type Contender, proxyAmounts } from "./auction";
import { type RankedBid, Ranking } from "./ranking";

/** A user's live bid in a session. */
export interface LiveBid extends RankedBid {
  bidCount: number;
  /** A proxy bidder's maximum: private to them. */
  maxAmount: number | null;
  /** Set by the proxy rules, not by the bidder's own request. */
  auto: boolean;
}

/** What a bidder asks for: a plain amount, or a maximum the system bids up to. */
export type BidOrder = { userId: number; amount: number } | { userId: number; maxAmount: number };

/**
 * Every live bid of a session in board order, and who bids by proxy. It
 * decides nothing (the rules do) and stores nothing (the object does): it
 * says which live bids an accepted order sets.
 */
export class BidBook {
  private readonly ranking = new Ranking<LiveBid>();
  private readonly proxyBidders = new Set<number>();

  get size(): number {
    return this.ranking.size;
  }

  get highest(): LiveBid | undefined {
    return this.ranking.highest;
  }

  bidOf(userId: number): LiveBid | undefined {
    return this.ranking.bidOf(userId);
  }

  rankOf(userId: number): number | undefined {
    return this.ranking.rankOf(userId);
  }

  top(limit: number): LiveBid[] {
    return this.ranking.top(limit);
  }

  /** Records `bid` as its user's live bid; returns its rank. */
  put(bid: LiveBid): number {
    if (bid.maxAmount === null) this.proxyBidders.delete(bid.userId);
    else this.proxyBidders.add(bid.userId);
    return this.ranking.place(bid);
  }

  remove(userId: number): void {
    this.proxyBidders.delete(userId);
    this.ranking.remove(userId);
  }

  /**
   * The live bids an accepted `order` sets, in the order they happen and
   * numbered from `seq`: the bidder's own first, then the automatic raises
   * of proxy bidders it provokes (sessions of one unit). Nothing is put yet.
   */
  settle(
    order: BidOrder,
    seq: number,
    at: number,
    rules: { minBid: number; minIncrement: number },
  ): LiveBid[] {
    const previous = this.bidOf(order.userId);
    const own = this.contenderFor(order, previous, seq);
    const base = { placedAt: at, auto: false };
    if (!own.proxy && this.proxyBidders.size === 0) {
      // No proxy anywhere: exactly the v1 bid.
      const amount = own.amount ?? own.ceiling;
      return [
        {
          ...base,
          userId: order.userId,
          amount,
          seq,
          tieSeq: seq,
          bidCount: (previous?.bidCount ?? 0) + 1,
          maxAmount: null,
        },
      ];
    }
    const changes = proxyAmounts(this.contenders(own), rules.minBid, rules.minIncrement);
    const settled: LiveBid[] = [
      {
        ...base,
        userId: order.userId,
        amount: changes.get(order.userId) ?? own.amount ?? own.ceiling,
        seq,
        tieSeq: own.ceilingSeq,
        bidCount: (previous?.bidCount ?? 0) + 1,
        maxAmount: own.proxy ? own.ceiling : null,
      },
    ];
    let next = seq;
    for (const [userId, amount] of changes) {
      const rival = this.bidOf(userId);
      if (userId === order.userId || !rival) continue;
      next += 1;
      settled.push({ ...rival, amount, seq: next, placedAt: at, bidCount: rival.bidCount + 1, auto: true });
    }
    return settled;
  }

  private contenderFor(order: BidOrder, previous: LiveBid | undefined, seq: number): Contender {
    if ("maxAmount" in order) {
      return {
        userId: order.userId,
        amount: previous?.amount ?? null,
        ceiling: order.maxAmount,
        ceilingSeq: seq,
        proxy: true,
      };
    }
    // A plain bid under the bidder's own maximum keeps the maximum (and when it was set).
    const keptMax = previous?.maxAmount != null && previous.maxAmount > order.amount ? previous : undefined;
    return {
      userId: order.userId,
      amount: order.amount,
      ceiling: keptMax?.maxAmount ?? order.amount,
      ceilingSeq: keptMax?.tieSeq ?? seq,
      proxy: keptMax !== undefined,
    };
  }

  /** The bidder placing `own`, every proxy bidder, and the two best plain bidders: all who can lead or come second. */
  private contenders(own: Contender): Contender[] {
    const found = new Map<number, Contender>([[own.userId, own]]);
    const asContender = (bid: LiveBid): Contender => ({
      userId: bid.userId,
      amount: bid.amount,
      ceiling: Math.max(bid.amount, bid.maxAmount ?? 0),
      ceilingSeq: bid.tieSeq,
      proxy: bid.maxAmount !== null,
    });
    for (const userId of this.proxyBidders) {
      const bid = this.bidOf(userId);
      if (bid && !found.has(userId)) found.set(userId, asContender(bid));
    }
    let plain = 0;
    for (const bid of this.ranking.top(this.proxyBidders.size + 3)) {
      if (plain === 2) break;
      if (bid.maxAmount !== null || found.has(bid.userId)) continue;
      found.set(bid.userId, asContender(bid));
      plain += 1;
    }
    return [...found.values()];
  }
}

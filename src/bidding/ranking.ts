/** A user's live bid as the ranking sees it. */
export interface RankedBid {
  userId: number;
  amount: number;
  /** The session's sequence number of the bid that set this amount. */
  seq: number;
  /**
   * Who reached an amount first: the seq at which the bidder committed to it.
   * For a plain bid that is its own seq; for an automatic raise, the seq of
   * the maximum that made it (so of equal maxima the earlier leads).
   */
  tieSeq: number;
  placedAt: number;
}

/** Highest amount first; equal amounts by who reached them first. */
export function compareBids(a: RankedBid, b: RankedBid): number {
  return b.amount - a.amount || a.tieSeq - b.tieSeq;
}

/**
 * The leaderboard order of every live bid, kept sorted in memory. Lookups are
 * binary searches; an update moves one entry (an array splice: fast enough for
 * the tens of thousands of bidders one session sees).
 */
export class Ranking<Bid extends RankedBid = RankedBid> {
  private readonly sorted: Bid[] = [];
  private readonly byUser = new Map<number, Bid>();

  get size(): number {
    return this.sorted.length;
  }

  get highest(): Bid | undefined {
    return this.sorted[0];
  }

  bidOf(userId: number): Bid | undefined {
    return this.byUser.get(userId);
  }

  /**
   * Records `bid` as its user's live bid and returns its 1-based rank. A raise
   * shifts only the entries between its old and new place, in one move
   * (removing and inserting with splice moved up to the whole array twice and
   * allocated the removed entry's array: 5 % of a busy isolate).
   */
  place(bid: Bid): number {
    const previous = this.byUser.get(bid.userId);
    this.byUser.set(bid.userId, bid);
    let to = this.insertionPoint(bid);
    if (!previous) {
      this.sorted.splice(to, 0, bid);
      return to + 1;
    }
    const from = this.indexOf(previous);
    // `to` counted the previous entry when it stands before it.
    if (to > from) to -= 1;
    if (to < from) this.sorted.copyWithin(to + 1, to, from);
    else if (to > from) this.sorted.copyWithin(from, from + 1, to + 1);
    this.sorted[to] = bid;
    return to + 1;
  }

  /** Takes `userId` off the ranking (undoing a bid that was never stored). */
  remove(userId: number): void {
    const bid = this.byUser.get(userId);
    if (!bid) return;
    this.sorted.splice(this.indexOf(bid), 1);
    this.byUser.delete(userId);
  }

  rankOf(userId: number): number | undefined {
    const bid = this.byUser.get(userId);
    return bid ? this.indexOf(bid) + 1 : undefined;
  }

  top(limit: number): Bid[] {
    return this.sorted.slice(0, limit);
  }

  private insertionPoint(bid: RankedBid): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.sorted[middle];
      if (other && compareBids(other, bid) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private indexOf(bid: RankedBid): number {
    // tieSeq is unique across bidders, so the insertion point of an entry is where it stands.
    return this.insertionPoint(bid);
  }
}

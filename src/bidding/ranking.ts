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

  /** Records `bid` as its user's live bid and returns its 1-based rank. */
  place(bid: Bid): number {
    const previous = this.byUser.get(bid.userId);
    if (previous) this.sorted.splice(this.indexOf(previous), 1);
    const index = this.insertionPoint(bid);
    this.sorted.splice(index, 0, bid);
    this.byUser.set(bid.userId, bid);
    return index + 1;
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

/**
 * The auction rules of v1.1: soft close, proxy (maximum) bids, units and
 * reserve. Plain functions over plain data, like the v1 rules beside them.
 */

export interface SoftClose {
  windowSeconds: number;
  extendSeconds: number;
}

/**
 * The end after a bid accepted at `at`: inside the window it moves to
 * `at + extendSeconds`, never earlier than it was and never past the hard end.
 */
export function endAfterBid(
  endsAt: number,
  at: number,
  softClose: SoftClose | null,
  hardEndsAt: number,
): number {
  if (!softClose || endsAt - at >= softClose.windowSeconds * 1000) return endsAt;
  return Math.min(hardEndsAt, Math.max(endsAt, at + softClose.extendSeconds * 1000));
}

/** The highest live bid is at or above the reserve; true when there is none. */
export function isReserveMet(reservePrice: number | null, highest: number | undefined): boolean {
  return reservePrice === null || (highest !== undefined && highest >= reservePrice);
}

/** The top `units` bids at or above the reserve, in board order (`board` is in board order). */
export function winnersOf<Bid extends { amount: number }>(
  board: readonly Bid[],
  units: number,
  reservePrice: number | null,
): Bid[] {
  return board.filter((bid) => reservePrice === null || bid.amount >= reservePrice).slice(0, units);
}

/** A bidder as the proxy rules see them. */
export interface Contender {
  userId: number;
  /** The live amount; null for a first bid being placed as a maximum. */
  amount: number | null;
  /** How far the bidder goes: their maximum, or their plain amount. */
  ceiling: number;
  /** The seq at which they committed to that ceiling: of equal ceilings the earlier leads. */
  ceilingSeq: number;
  /** Whether the system raises their amount for them, up to the ceiling. */
  proxy: boolean;
}

/**
 * The amounts the proxy rules set, for the contenders whose amount changes
 * (sessions with one unit, as eBay runs them). The leader is the highest
 * ceiling, the earlier on ties; a proxy leader's amount becomes the lowest
 * that leads (`second ceiling + minIncrement`, at least `minBid`, never
 * above its ceiling, never below what it already is); every other proxy was
 * outbid and stands at its ceiling. Contenders must include every proxy
 * bidder and the best plain bidders.
 */
export function proxyAmounts(
  contenders: readonly Contender[],
  minBid: number,
  minIncrement: number,
): Map<number, number> {
  const order = [...contenders].sort((a, b) => b.ceiling - a.ceiling || a.ceilingSeq - b.ceilingSeq);
  const changes = new Map<number, number>();
  const [leader, second] = order;
  if (!leader) return changes;
  if (leader.proxy) {
    const lowestLeading = Math.max(leader.amount ?? 0, minBid, second ? second.ceiling + minIncrement : 0);
    const amount = Math.min(leader.ceiling, lowestLeading);
    if (amount !== leader.amount) changes.set(leader.userId, amount);
  }
  for (const other of order.slice(1)) {
    if (other.proxy && other.amount !== other.ceiling) changes.set(other.userId, other.ceiling);
  }
  return changes;
}

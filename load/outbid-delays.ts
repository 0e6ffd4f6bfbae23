// Outbid messages timed against the bids that caused them, for `npm run load -- --watchers N
// --authenticated-watchers`: watcher i signs in as bidder i. After the run the acknowledged bids
// are replayed in seq order (one unit: the highest amount leads, the earlier seq keeps a tie);
// each bid that takes the lead from another signed-in user displaces them, and that user's
// sockets should be told {"type":"outbid","amount"} with the amount they lost with. A message's
// delay is its arrival minus the displacing bid's acceptance (the receipt's placedAt; same
// machine, same clock) and minus the displacing bid's 201.
import { type LatencySummary, summarize } from "./percentiles.js";

export interface OutbidTotals {
  /** Displacements of a signed-in user that the replay of this run's bids finds. */
  displaced: number;
  /** Of those, the ones whose outbid message arrived. */
  told: number;
  /** Outbid messages no displacement of this run explains (a bid from before the run, an answer lost). */
  unexplained: number;
  /** Outbid messages for a displacement already told. */
  repeated: number;
  fromAcceptanceMs: LatencySummary;
  fromAckMs: LatencySummary;
}

interface AcknowledgedBid {
  seq: number;
  userId: number;
  amount: number;
  /** Epoch ms: the object's acceptance, and the 201's arrival. */
  placedAt: number;
  at: number;
}

const keyOf = (userId: number, amount: number) => `${userId}:${amount}`;

export class OutbidDelays {
  private readonly bids: AcknowledgedBid[] = [];
  /** First arrival of each (user, amount) told it was outbid. */
  private readonly toldAt = new Map<string, number>();
  private repeated = 0;

  constructor(private readonly signedIn: ReadonlySet<number>) {}

  acknowledged(receipt: { seq: number; userId: number; amount: number; placedAt: string }, at: number): void {
    const { seq, userId, amount } = receipt;
    this.bids.push({ seq, userId, amount, placedAt: Date.parse(receipt.placedAt), at });
  }

  outbid(userId: number, amount: number, at: number): void {
    const key = keyOf(userId, amount);
    if (this.toldAt.has(key)) this.repeated += 1;
    else this.toldAt.set(key, at);
  }

  totals(): OutbidTotals {
    const fromAcceptance: number[] = [];
    const fromAck: number[] = [];
    const explained = new Set<string>();
    let displaced = 0;
    let leader: AcknowledgedBid | undefined;
    for (const bid of [...this.bids].sort((a, b) => a.seq - b.seq)) {
      if (leader && bid.amount <= leader.amount) continue;
      if (leader && leader.userId !== bid.userId && this.signedIn.has(leader.userId)) {
        displaced += 1;
        const key = keyOf(leader.userId, leader.amount);
        explained.add(key);
        const at = this.toldAt.get(key);
        if (at !== undefined) {
          fromAcceptance.push(at - bid.placedAt);
          fromAck.push(at - bid.at);
        }
      }
      leader = bid;
    }
    return {
      displaced,
      told: fromAck.length,
      unexplained: [...this.toldAt.keys()].filter((key) => !explained.has(key)).length,
      repeated: this.repeated,
      fromAcceptanceMs: summarize(fromAcceptance),
      fromAckMs: summarize(fromAck),
    };
  }
}

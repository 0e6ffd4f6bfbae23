// Outbid messages timed against the bids that caused them, for `npm run load -- --watchers N
// --authenticated-watchers`: watcher i signs in as bidder i. After the run the acknowledged bids
// are replayed in seq order, a batch at a time (the bids an object decided together share their
// placedAt), as the object decides who was outbid (one unit: the highest amount leads, the
// earlier seq keeps a tie): whoever led at some point of a batch and does not lead after it was
// displaced, and that user's sockets should be told {"type":"outbid","amount"} with their amount
// after the batch. A message's delay is its arrival minus the batch's acceptance (the receipts'
// placedAt; same machine, same clock) and minus the 201 of the bid that last passed that user.
import { type LatencySummary, summarize } from "../kit/report.js";

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
  /** Every acknowledged bid once, by seq (a replayed 201 repeats the first one's seq). */
  private readonly bids = new Map<number, AcknowledgedBid>();
  /** First arrival of each (user, amount) told it was outbid. */
  private readonly toldAt = new Map<string, number>();
  private repeated = 0;

  constructor(private readonly signedIn: ReadonlySet<number>) {}

  acknowledged(receipt: { seq: number; userId: number; amount: number; placedAt: string }, at: number): void {
    const { seq, userId, amount } = receipt;
    if (!this.bids.has(seq))
      this.bids.set(seq, { seq, userId, amount, placedAt: Date.parse(receipt.placedAt), at });
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
    const amounts = new Map<number, number>();
    let leader: AcknowledgedBid | undefined;
    const ordered = [...this.bids.values()].sort((a, b) => a.seq - b.seq);
    for (let start = 0; start < ordered.length; ) {
      const placedAt = ordered[start]?.placedAt;
      const passedBy = new Map<number, AcknowledgedBid>();
      const ledInBatch = new Set<number>(leader ? [leader.userId] : []);
      let end = start;
      for (let bid = ordered[end]; bid !== undefined && bid.placedAt === placedAt; bid = ordered[++end]) {
        amounts.set(bid.userId, bid.amount);
        if (leader && bid.amount <= leader.amount) continue;
        if (leader && leader.userId !== bid.userId) passedBy.set(leader.userId, bid);
        leader = bid;
        ledInBatch.add(bid.userId);
      }
      start = end;
      for (const userId of ledInBatch) {
        const by = passedBy.get(userId);
        if (userId === leader?.userId || !by || !this.signedIn.has(userId)) continue;
        displaced += 1;
        const key = keyOf(userId, amounts.get(userId) ?? 0);
        explained.add(key);
        const at = this.toldAt.get(key);
        if (at !== undefined) {
          fromAcceptance.push(at - by.placedAt);
          fromAck.push(at - by.at);
        }
      }
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

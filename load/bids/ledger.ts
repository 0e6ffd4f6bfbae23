// What the clients sent and what they were told: the next raise of each user,
// the receipts (201s), and the bids whose outcome no client learned. The
// consistency check compares this with PostgreSQL.
import { randomBytes } from "node:crypto";
import { type BidReceipt, firstRaise, type Session } from "../kit/api.js";

export interface PlannedBid {
  userId: number;
  amount: number;
  idempotencyKey: string;
}

export interface AcknowledgedBid {
  seq: number;
  userId: number;
  amount: number;
}

/** A raise is 1–5 increments, so the board keeps reordering like a real auction. */
const MAX_INCREMENTS_PER_RAISE = 5;

/**
 * `own`: each user raises their own bid, and the lead changes now and then.
 * `top`: every bid goes above every bid planned before it, so each one takes
 * the lead (unless overtaken in flight) and outbids the leader.
 */
export type Raises = "own" | "top";

export class BidLedger {
  private readonly nextAmount = new Map<number, number>();
  private nextTop: number;
  private readonly open = new Map<string, PlannedBid>();
  private readonly acks = new Map<number, AcknowledgedBid>();
  private planned = 0;
  /** 201s that were not replays. */
  accepted = 0;
  /** 201s with `Idempotent-Replayed: true`. */
  replayed = 0;
  refused = 0;
  /** Receipts naming another user or amount than the bid sent: a service bug. */
  readonly foreignReceipts: { sent: PlannedBid; receipt: BidReceipt }[] = [];

  private readonly firstAmount: number;
  private readonly minIncrement: number;
  /** Makes idempotency keys unique per run. */
  private readonly runTag = randomBytes(4).toString("hex");

  constructor(
    session: Session,
    private readonly options: {
      /** Called with every receipt as it arrives (e.g. to time what follows a 201). */
      onAcknowledged?: (receipt: BidReceipt, replayed: boolean) => void;
      raises?: Raises;
    } = {},
  ) {
    this.firstAmount = firstRaise(session);
    this.minIncrement = session.minIncrement;
    this.nextTop = this.firstAmount;
  }

  /** The user's next bid: always above every amount planned for them before, even while those are in flight. */
  plan(userId: number): PlannedBid {
    const top = this.options.raises === "top";
    const own = this.nextAmount.get(userId) ?? this.firstAmount;
    const amount = top ? Math.max(own, this.nextTop) : own;
    const steps = top ? 1 : 1 + Math.floor(Math.random() * MAX_INCREMENTS_PER_RAISE);
    this.nextAmount.set(userId, amount + steps * this.minIncrement);
    if (top) this.nextTop = amount + this.minIncrement;
    this.planned += 1;
    const bid = { userId, amount, idempotencyKey: `${this.runTag}-${userId}-${this.planned}` };
    this.open.set(bid.idempotencyKey, bid);
    return bid;
  }

  acknowledge(idempotencyKey: string, receipt: BidReceipt, replayed: boolean): void {
    const sent = this.open.get(idempotencyKey);
    this.open.delete(idempotencyKey);
    if (replayed) this.replayed += 1;
    else this.accepted += 1;
    if (sent && (sent.userId !== receipt.userId || sent.amount !== receipt.amount)) {
      this.foreignReceipts.push({ sent, receipt });
    }
    this.acks.set(receipt.seq, { seq: receipt.seq, userId: receipt.userId, amount: receipt.amount });
    this.options.onAcknowledged?.(receipt, replayed);
  }

  /** The receipt of a maximum (proxy) bid: the object chose its amount, up to the maximum, so it names no planned bid. */
  acknowledgeMaximum(receipt: BidReceipt): void {
    this.accepted += 1;
    this.acks.set(receipt.seq, { seq: receipt.seq, userId: receipt.userId, amount: receipt.amount });
    this.options.onAcknowledged?.(receipt, false);
  }

  /** A definite refusal (4xx): nothing was stored. */
  refuse(idempotencyKey: string): void {
    if (this.open.delete(idempotencyKey)) this.refused += 1;
  }

  /** Every acknowledged bid once, by seq. */
  acknowledged(): AcknowledgedBid[] {
    return [...this.acks.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Sent, but neither acknowledged nor refused: may or may not be stored. */
  unresolved(): PlannedBid[] {
    return [...this.open.values()];
  }
}

import type { BidRequest, Outcome, PlacedBid } from "../api/session-protocol";

/**
 * Bids that requests of this isolate place in one session at the same time
 * reach its object in one call (`placeBids`), with at most one call in
 * flight per session: whatever arrives meanwhile forms the next call. Fewer
 * calls per bid is the Worker's biggest saving, and it keeps a hot session
 * under an object's request rate.
 *
 * Requests may not share promises (workerd cancels a promise along with the
 * request that made it, and a request waiting on nothing of its own counts as
 * hung), so each bid waits on a promise of its own, made before any await,
 * beside a timer of its own. One of the waiting requests makes the call, with
 * its own stub and `waitUntil`, and every bid is answered with plain data;
 * when the call returns, the first bid still waiting leads the next one (it
 * does not wait for what the answers still wait on, `settled`), so no
 * request outlives its own bid by more than one call. A bid whose call
 * failed, or that waited too long, is the caller's to send alone again under
 * the same request id: the object recognises the id and answers what it
 * decided the first time.
 */

/** A bid waits this long for a call made by another request, then goes alone. */
const WAIT_MS = 10_000;
/** The most bids one call carries. */
const MAX_CALL_BIDS = 500;

/** One call with the bids; `settled`: what their answers still wait for once it has returned (never rejects). */
export type SendBids = (
  requests: BidRequest[],
) => Promise<{ outcomes: Outcome<PlacedBid>[]; settled?: Promise<void> }>;

type Turn =
  | { kind: "waiting" }
  | { kind: "lead" }
  | { kind: "answered"; outcome: Outcome<PlacedBid> }
  | { kind: "alone" };

interface WaitingBid {
  request: BidRequest;
  turn: Turn;
  /** Wakes the bid's own request, which then reads `turn`. */
  wake: () => void;
}

interface SessionQueue {
  waiting: WaitingBid[];
  /** When the call under way started; null when none is. */
  callingSince: number | null;
}

export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

export class BidCoalescer {
  private readonly queues = new Map<string, SessionQueue>();

  constructor(
    private readonly waitMs = WAIT_MS,
    /**
     * The wait beside each bid's own promise. workerd's `scheduler.wait` needs
     * no clearing: a timer left when the request has answered goes with it.
     */
    private readonly sleep: (ms: number) => Promise<void> = typeof scheduler === "undefined"
      ? (ms) => new Promise((resolve) => setTimeout(resolve, ms))
      : (ms) => scheduler.wait(ms),
  ) {}

  /**
   * Places `request` together with the other bids waiting for the same
   * session. `send` is this request's own way to the object, used if it leads
   * a call. Undefined: no answer came, send the bid alone.
   */
  async place(
    ctx: WaitUntil,
    sessionId: string,
    request: BidRequest,
    send: SendBids,
  ): Promise<Outcome<PlacedBid> | undefined> {
    const queue = this.queueOf(sessionId);
    const bid: WaitingBid = { request, turn: { kind: "waiting" }, wake: () => {} };
    const woken = this.nextWake(bid);
    queue.waiting.push(bid);
    // A call that never returned (its request cancelled with its waitUntil) does not hold the queue.
    const stalled = queue.callingSince !== null && Date.now() - queue.callingSince > this.waitMs;
    if (queue.callingSince === null || stalled) this.lead(ctx, queue, send);
    let turn = await this.waitForTurn(queue, bid, woken);
    if (turn.kind === "lead") {
      bid.turn = { kind: "waiting" };
      const answered = this.nextWake(bid);
      this.lead(ctx, queue, send);
      turn = await this.waitForTurn(queue, bid, answered);
    }
    if (this.queues.get(sessionId) === queue && queue.callingSince === null && queue.waiting.length === 0) {
      this.queues.delete(sessionId);
    }
    return turn.kind === "answered" ? turn.outcome : undefined;
  }

  private queueOf(sessionId: string): SessionQueue {
    let queue = this.queues.get(sessionId);
    if (!queue) {
      queue = { waiting: [], callingSince: null };
      this.queues.set(sessionId, queue);
    }
    return queue;
  }

  private nextWake(bid: WaitingBid): Promise<void> {
    return new Promise<void>((resolve) => {
      bid.wake = resolve;
    });
  }

  /** Until the bid is answered, told to lead, or has waited too long (then it leaves the queue). */
  private async waitForTurn(queue: SessionQueue, bid: WaitingBid, woken: Promise<void>): Promise<Turn> {
    await Promise.race([woken, this.sleep(this.waitMs)]);
    if (bid.turn.kind === "waiting") {
      bid.turn = { kind: "alone" };
      const at = queue.waiting.indexOf(bid);
      if (at >= 0) queue.waiting.splice(at, 1);
    }
    return bid.turn;
  }

  /** One call for the bids waiting now, made in the caller's request: `waitUntil` before the first await. */
  private lead(ctx: WaitUntil, queue: SessionQueue, send: SendBids): void {
    queue.callingSince = Date.now();
    const batch = queue.waiting.splice(0, MAX_CALL_BIDS);
    ctx.waitUntil(this.call(queue, batch, send));
  }

  private async call(queue: SessionQueue, batch: WaitingBid[], send: SendBids): Promise<void> {
    let sent: Awaited<ReturnType<SendBids>> = { outcomes: [] };
    try {
      sent = await send(batch.map((bid) => bid.request));
    } catch {
      // Every bid of the batch goes alone.
    }
    const next = queue.waiting[0];
    if (next) {
      next.turn = { kind: "lead" };
      next.wake();
    } else {
      queue.callingSince = null;
    }
    await sent.settled;
    batch.forEach((bid, i) => {
      if (bid.turn.kind !== "waiting") return;
      const outcome = sent.outcomes[i];
      bid.turn = outcome ? { kind: "answered", outcome } : { kind: "alone" };
      bid.wake();
    });
  }
}

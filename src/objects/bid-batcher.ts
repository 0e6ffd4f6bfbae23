import { Handoff } from "./handoff";
import type { BidRequest, Outcome, PlacedBid } from "./protocol";

/** Sends one batch to the session object; one outcome per bid, in order. */
export type SendBids = (requests: BidRequest[]) => Promise<Outcome<PlacedBid>[]>;
/** Keeps a call alive past its request's answer (the request's `waitUntil`). */
export type KeepAlive = (promise: Promise<unknown>) => void;

/** Enough to empty a 1000-bidder burst in two calls, far below RPC size limits. */
const MAX_BATCH = 500;
/** Tries per bid before it is answered 503; each retry is recognised by the object. */
const MAX_ATTEMPTS = 3;
/** Longer than any healthy object call; only a call lost with its request's context takes this long. */
const FLIGHT_TIMEOUT_MS = 10_000;

interface Entry {
  request: BidRequest;
  attempts: number;
  outcome?: Outcome<PlacedBid>;
}

const unavailable: Outcome<PlacedBid> = {
  ok: false,
  code: "service_unavailable",
  detail: "The session is briefly unavailable; retry shortly.",
  retryAfterSeconds: 1,
};

/**
 * Natural batching into one session's object, per isolate: at most one bid
 * call in flight; bids that arrive meanwhile travel together in the next
 * call. A lone bid waits for nothing. Each bid carries a request id, so a
 * batch whose answer was lost can be sent again without applying anything twice.
 */
export class BidBatcher {
  private readonly queue: Entry[] = [];
  /** The call in flight; its handoff tells the waiters it is over. */
  private flight: Handoff<void> | null = null;

  constructor(private readonly send: SendBids) {}

  get idle(): boolean {
    return this.flight === null && this.queue.length === 0;
  }

  async place(request: BidRequest, keepAlive: KeepAlive): Promise<Outcome<PlacedBid>> {
    const entry: Entry = {
      request: { ...request, requestId: request.requestId ?? crypto.randomUUID() },
      attempts: 0,
    };
    this.queue.push(entry);
    while (entry.outcome === undefined) {
      let flight = this.flight;
      if (flight === null) {
        // This request sends the batch (its own bid included) and keeps the
        // call alive even if its client goes away, for the others riding in it.
        const handoff = new Handoff<void>();
        this.flight = handoff;
        flight = handoff;
        keepAlive(
          this.dispatch().finally(() => {
            if (this.flight === handoff) this.flight = null;
            handoff.settle({ ok: true, value: undefined });
          }),
        );
      }
      const settled = await flight.wait(FLIGHT_TIMEOUT_MS);
      if (!settled.ok && entry.outcome === undefined) {
        // The flight was lost with another request's context: send this bid again.
        if (this.flight === flight) this.flight = null;
        if (!this.queue.includes(entry)) this.retryLater([entry]);
      }
    }
    return entry.outcome;
  }

  private async dispatch(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      const outcomes = await this.send(batch.map((entry) => entry.request));
      batch.forEach((entry, i) => {
        entry.outcome = outcomes[i] ?? unavailable;
      });
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          event: "bid_batch_failed",
          bids: batch.length,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      this.retryLater(batch);
    }
  }

  /** Back into the queue, ahead of what arrived since, so arrival order holds across the retry. */
  private retryLater(entries: Entry[]): void {
    const retries: Entry[] = [];
    for (const entry of entries) {
      entry.attempts += 1;
      if (entry.attempts >= MAX_ATTEMPTS) entry.outcome = unavailable;
      else {
        entry.request = { ...entry.request, resend: true };
        retries.push(entry);
      }
    }
    this.queue.unshift(...retries);
  }
}

const batchers = new Map<string, BidBatcher>();

/** The isolate's batcher for one session; dropped again once idle. */
export function placeBatched(
  sessionId: string,
  send: SendBids,
  request: BidRequest,
  keepAlive: KeepAlive,
): Promise<Outcome<PlacedBid>> {
  let batcher = batchers.get(sessionId);
  if (!batcher) {
    batcher = new BidBatcher(send);
    batchers.set(sessionId, batcher);
  }
  const own = batcher;
  return own.place(request, keepAlive).finally(() => {
    if (own.idle && batchers.get(sessionId) === own) batchers.delete(sessionId);
  });
}

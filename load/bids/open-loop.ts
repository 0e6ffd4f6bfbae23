// The open-loop bid generator: bids leave on a fixed schedule whatever the
// server's answers, each user raising its own bid. Latency is measured from
// the time a bid was due, so a slow server (or a slow client) shows up in
// the figures instead of quietly lowering the offered rate.

import { setTimeout as sleep } from "node:timers/promises";
import type { Bidder } from "../kit/api.js";
import { forEachConcurrently } from "../kit/concurrency.js";
import { HttpClient } from "../kit/http.js";
import { type LatencySummary, summarize } from "../kit/report.js";
import type { BidLedger } from "./ledger.js";
import type { RequestMetrics } from "./metrics.js";
import { type BidAttemptOptions, DEFAULT_BID_ATTEMPTS, placeBid } from "./place-bid.js";

export interface OpenLoopPlan {
  sessionId: string;
  ratePerSecond: number;
  durationMs: number;
  ledger: BidLedger;
  metrics: RequestMetrics;
  /** DEFAULT_BID_ATTEMPTS when left out. */
  attempts?: Omit<BidAttemptOptions, "onRetry">;
  signal: AbortSignal;
}

export interface OpenLoopResult {
  scheduled: number;
  sent: number;
  /** From the start to the last send: the duration, unless the run was stopped early. */
  scheduleMs: number;
  /** How late bids left against their schedule: large values mean the client could not keep up. */
  sendLagMs: LatencySummary;
  /** From the last scheduled bid to the last answer. */
  drainMs: number;
}

const CONNECT_CONCURRENCY = 50;

export class OpenLoopBidders {
  private readonly clients: HttpClient[];
  /** Bids sent or waiting for their bidder's connection, not yet answered. */
  private readonly pending = new Set<Promise<void>>();

  /**
   * `connectionPerBidder`: every bidder has its own keep-alive connection, as
   * separate clients would; otherwise all share one pool of as many sockets.
   * Either way there are at most as many connections as bidders: when the server
   * falls behind, bids wait in the client (their latency still counts from
   * when they were due) instead of piling up thousands of connections on it.
   */
  constructor(
    url: URL,
    private readonly bidders: readonly Bidder[],
    connectionPerBidder: boolean,
  ) {
    if (connectionPerBidder) {
      this.clients = bidders.map(() => new HttpClient(url, { maxSockets: 1 }));
    } else {
      const shared = new HttpClient(url, { maxSockets: bidders.length });
      this.clients = bidders.map(() => shared);
    }
  }

  /** Opens the connections (one per bidder, or the pool's first) before the clock starts; returns the failures. */
  async connect(sessionId: string): Promise<number> {
    let failures = 0;
    await forEachConcurrently([...new Set(this.clients)], CONNECT_CONCURRENCY, async (client) => {
      await client.request("GET", `/v1/sessions/${sessionId}`, { timeoutMs: 10_000 }).catch(() => {
        failures += 1;
      });
    });
    return failures;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async run(plan: OpenLoopPlan): Promise<OpenLoopResult> {
    const total = Math.max(1, Math.round((plan.ratePerSecond * plan.durationMs) / 1000));
    const intervalMs = 1000 / plan.ratePerSecond;
    const lags: number[] = [];
    const start = performance.now();

    const send = (index: number, dueAt: number) => {
      const slot = index % this.bidders.length;
      const bidder = this.bidders[slot];
      const client = this.clients[slot];
      if (!bidder || !client) return;
      const bid = plan.ledger.plan(bidder.id);
      plan.metrics.offer();
      lags.push(performance.now() - dueAt);
      const done = placeBid(client, plan.sessionId, bidder.token, bid, plan.ledger, {
        ...(plan.attempts ?? DEFAULT_BID_ATTEMPTS),
        onRetry: (outcome) => plan.metrics.attemptFailed(outcome),
      })
        .catch((error: unknown) => ({
          status: null,
          label: `client_error ${error instanceof Error ? error.message : String(error)}`,
        }))
        .then((outcome) => {
          plan.metrics.complete(performance.now() - dueAt, outcome);
          this.pending.delete(done);
        });
      this.pending.add(done);
    };

    for (let index = 0; ; ) {
      const now = performance.now();
      // Everything due by now leaves now, even after a stall: the schedule is not renegotiated.
      for (; index < total && start + index * intervalMs <= now; index++)
        send(index, start + index * intervalMs);
      if (index >= total || plan.signal.aborted) break;
      await sleep(Math.max(0, start + index * intervalMs - performance.now()));
    }
    const lastScheduledAt = performance.now();
    await Promise.all([...this.pending]);
    return {
      scheduled: total,
      sent: lags.length,
      scheduleMs: lastScheduledAt - start,
      sendLagMs: summarize(lags),
      drainMs: performance.now() - lastScheduledAt,
    };
  }

  close(): void {
    for (const client of new Set(this.clients)) client.close();
  }
}

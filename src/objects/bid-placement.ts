import type { BidRequest, Outcome, PlacedBid } from "../api/session-protocol";
import { toIso } from "../api/time";
import { decideBatch } from "../bidding/batch-decision";
import type { RateLimiter } from "../bidding/rate-limit";
import type { Pseudonyms } from "../history/pseudonym";
import { recordBid } from "../observability/analytics";
import { batchEvents } from "../webhooks/events";
import type { Alarm } from "./alarm";
import type { KnownUsers } from "./known-users";
import type { LiveBoard } from "./live-board";
import type { RequestMemory } from "./request-memory";
import type { SessionGate } from "./session-gate";
import type { SessionLog } from "./session-log";
import type { SessionMemory } from "./session-memory";
import type { SessionStore } from "./session-store";
import type { WebhookOutbox } from "./webhook-outbox";

export interface BidPlacementParts {
  env: Env;
  gate: SessionGate;
  memory: SessionMemory;
  users: KnownUsers;
  limiter: RateLimiter;
  pseudonyms: Pseudonyms;
  requests: RequestMemory;
  store: SessionStore;
  live: LiveBoard;
  outbox: WebhookOutbox;
  alarm: Alarm;
  log: SessionLog;
  config: { bidRatePerSecond: number; flushIntervalMs: number };
}

/**
 * One batch of bids through the object: its new bidders looked up (the one
 * await), then, in one synchronous step, decided and linked into the bid log
 * (src/bidding/batch-decision.ts) and stored with everything they caused in one transaction. Only after the
 * commit does anyone hear of them: the memory, the request memory, the
 * watchers, the outbox, the alarm. A failed write fails every bid of the
 * batch and leaves memory as it was.
 */
export class BidPlacement {
  constructor(private readonly parts: BidPlacementParts) {}

  async place(requests: readonly BidRequest[]): Promise<Outcome<PlacedBid>[]> {
    const { gate, users, env } = this.parts;
    const found = await gate.withSession(async (record) => {
      const unseen = requests.map((r) => r.userId).filter((id) => !users.has(id));
      return { ok: true, value: { sessionId: record.params.id, bidders: await users.lookUp(unseen) } };
    });
    if (!found.ok) return requests.map(() => found);
    const outcomes = this.decideAndStore(requests, found.value.bidders);
    requests.forEach((request, i) => {
      const outcome = outcomes[i];
      if (!outcome || (outcome.ok && outcome.value.replayed)) return;
      const amount = outcome.ok ? outcome.value.receipt.amount : (request.amount ?? request.maxAmount ?? 0);
      recordBid(env.BID_ANALYTICS, found.value.sessionId, outcome.ok ? "accepted" : outcome.code, amount);
    });
    return outcomes;
  }

  private decideAndStore(
    requests: readonly BidRequest[],
    bidders: Awaited<ReturnType<KnownUsers["lookUp"]>>,
  ): Outcome<PlacedBid>[] {
    const { memory, limiter, requests: answered, store, live, outbox, alarm, config } = this.parts;
    const { record, book, seq, headHash: head } = memory;
    const now = Date.now();
    if (!record) return requests.map(() => ({ ok: false, code: "session_not_found", detail: "No session." }));
    const decision = decideBatch(
      { record, seq, head, book, limiter, bidsPerSecond: config.bidRatePerSecond },
      {
        requests,
        bidders,
        now,
        bidderOf: (userId) => this.parts.pseudonyms.of(record.params.id, userId),
        answeredBefore: (request, body) => answered.answeredBefore(request, body),
      },
    );
    if (decision.accepted.length === 0) return decision.outcomes;
    const { params } = decision.record;
    const extension = decision.extended
      ? { endsAt: toIso(params.endsAt), extensions: params.extensions }
      : null;
    const events = batchEvents(params.id, decision.seq, decision.outbid, extension, toIso(now));
    try {
      store.recordBids(decision.accepted, decision.extended ? decision.record : undefined, events);
    } catch (error) {
      decision.undo();
      this.parts.log("error", "bid_write_failed", { bids: decision.accepted.length, error: String(error) });
      const detail = "The session could not store the bid; retry shortly.";
      return requests.map(() => ({ ok: false, code: "service_unavailable", detail, retryAfterSeconds: 1 }));
    }
    memory.record = decision.record;
    memory.seq = decision.seq;
    memory.lastLink = decision.head;
    answered.remember(requests, decision.outcomes);
    const ranks = decision.accepted.map((a) => book.rankOf(a.bid.userId) ?? Number.POSITIVE_INFINITY);
    live.tellBatch(ranks, extension, decision.outbid);
    if (events.length > 0) outbox.sendSoon();
    alarm.armBy(now + config.flushIntervalMs);
    return decision.outcomes;
  }
}

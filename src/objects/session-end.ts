import type { Results } from "../api/session-protocol";
import { toIso } from "../api/time";
import { isReserveMet, winnersOf } from "../bidding/auction";
import type { SessionResults } from "../bidding/session-record";
import { eventIds, type WebhookEvent } from "../webhooks/events";
import type { LiveBoard } from "./live-board";
import type { SessionMemory } from "./session-memory";
import type { SessionStore } from "./session-store";
import type { SessionViews } from "./session-views";
import type { WebhookOutbox } from "./webhook-outbox";

/**
 * The end of the session: the results, fixed once when the end has passed
 * and never computed again whatever arrives or replays (the end is the
 * object's: a soft close moves it here first), then the watchers told.
 */
export class SessionEnd {
  constructor(
    private readonly memory: SessionMemory,
    private readonly store: SessionStore,
    private readonly outbox: WebhookOutbox,
    private readonly live: LiveBoard,
    private readonly views: SessionViews,
  ) {}

  /** The results once the end has passed: fixed the first time they are asked for, read ever after. */
  results(): SessionResults | null {
    const record = this.memory.record;
    if (!record) return null;
    if (record.results !== null) return record.results;
    const { params } = record;
    if (Date.now() < params.endsAt) return null;
    // No bid can change them: the end has passed, and every later bid is refused.
    const { book, seq } = this.memory;
    const results: SessionResults = {
      closedAt: params.endsAt,
      finalSeq: seq,
      finalHash: this.memory.headHash,
      reserveMet: isReserveMet(params.reservePrice, book.highest?.amount),
      winners: winnersOf(book.top(params.units), params.units, params.reservePrice).map((bid, i) => ({
        rank: i + 1,
        userId: bid.userId,
        amount: bid.amount,
        seq: bid.seq,
      })),
    };
    const ended: WebhookEvent = {
      id: eventIds.ended(params.id),
      type: "session.ended",
      timestamp: toIso(Date.now()),
      data: {
        sessionId: params.id,
        closedAt: toIso(results.closedAt),
        finalSeq: results.finalSeq,
        reserveMet: results.reserveMet,
        winners: results.winners.map(({ rank, userId, amount }) => ({ rank, userId, amount })),
      },
    };
    const next = { ...record, results, version: record.version + 1 };
    // The results and their event are one write: neither exists without the other.
    this.store.recordResults(next, ended);
    this.memory.record = next;
    this.outbox.sendSoon();
    return results;
  }

  /** The results as the API shows them, once fixed. */
  announced(): Results | null {
    const record = this.memory.record;
    return record?.results ? this.views.results(record.params.id, record.results) : null;
  }

  /** Once the results are fixed (and the final flush sent): the watchers told, once. */
  handleOnce(): void {
    const record = this.memory.record;
    if (!record || record.results === null || record.endHandledAt !== null) return;
    this.memory.record = { ...record, endHandledAt: Date.now() };
    this.store.writeSession(this.memory.record);
    this.live.announceEnd(this.announced());
  }
}

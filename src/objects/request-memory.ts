import type { BidReceipt, BidRequest, Outcome, PlacedBid } from "../api/session-protocol";
import { toIso } from "../api/time";
import type { Pseudonyms } from "../history/pseudonym";
import type { RequestRows } from "./request-rows";
import type { SessionMemory } from "./session-memory";

/** Outcomes of recent bid requests kept in memory, refusals included, for batches sent again. */
const RECENT_REQUESTS = 20_000;

/**
 * The answers already given: to the Worker's request ids (a batch sent again
 * after its answer was lost) and to Idempotency-Keys (a client's retry). A
 * bid asked twice is answered as the first time, never applied twice.
 */
export class RequestMemory {
  /**
   * The latest answers in two generations: when the newer one is full it
   * becomes the older one and the oldest answers go, all at once (evicting
   * one entry at a time from a Map's front costs more the more were evicted).
   */
  private newer = new Map<string, Outcome<PlacedBid>>();
  private older = new Map<string, Outcome<PlacedBid>>();

  constructor(
    private readonly rows: RequestRows,
    private readonly memory: SessionMemory,
    private readonly pseudonyms: Pseudonyms,
  ) {}

  /** The answer `request` had in an earlier batch, if it had one. */
  answeredBefore(request: BidRequest, body: string): Outcome<PlacedBid> | undefined {
    const { requestId, resend, userId, idempotencyKey } = request;
    const sent = requestId === undefined ? undefined : this.answerTo(requestId, resend);
    if (sent) return sent;
    if (idempotencyKey === undefined) return undefined;
    const earlier = this.rows.findIdempotencyKey(userId, idempotencyKey);
    if (!earlier) return undefined;
    if (earlier.body !== body) {
      return {
        ok: false,
        code: "idempotency_key_reused",
        detail: "This Idempotency-Key was used with a different body.",
      };
    }
    // Receipts stored before proxy bids existed have no maxAmount; before the bid log, no bidder or link.
    const stored = earlier.receipt;
    const receipt: BidReceipt = {
      ...stored,
      maxAmount: stored.maxAmount ?? null,
      bidder: stored.bidder ?? this.pseudonyms.of(stored.sessionId, userId),
      hash: stored.hash ?? null,
    };
    return { ok: true, value: { receipt, replayed: true } };
  }

  /** Remembers what each request of a stored batch was answered. */
  remember(requests: readonly BidRequest[], outcomes: readonly Outcome<PlacedBid>[]): void {
    requests.forEach((request, i) => {
      const outcome = outcomes[i];
      if (request.requestId === undefined || !outcome) return;
      this.newer.set(request.requestId, outcome);
      if (this.newer.size >= RECENT_REQUESTS / 2) {
        this.older = this.newer;
        this.newer = new Map();
      }
    });
  }

  private answerTo(requestId: string, resend: boolean | undefined): Outcome<PlacedBid> | undefined {
    const remembered = this.newer.get(requestId) ?? this.older.get(requestId);
    if (remembered || !resend) return remembered;
    // Only the accepted ones survive an eviction, and only those matter: a
    // refusal decided again changes nothing that was stored. The rank is today's.
    const stored = this.rows.findBidRequest(requestId);
    const record = this.memory.record;
    if (!stored || !record) return undefined;
    const { book } = this.memory;
    const live = book.bidOf(stored.userId);
    const receipt: BidReceipt = {
      sessionId: record.params.id,
      userId: stored.userId,
      amount: stored.amount,
      rank: book.rankOf(stored.userId) ?? 0,
      placedAt: toIso(stored.placedAt),
      seq: stored.seq,
      // The maximum is still the one this request set if the live bid is its own, or an automatic raise of it.
      maxAmount: live && (live.seq === stored.seq || live.tieSeq === stored.seq) ? live.maxAmount : null,
      bidder: stored.bidder ?? this.pseudonyms.of(record.params.id, stored.userId),
      hash: stored.hash,
    };
    return { ok: true, value: { receipt, replayed: false } };
  }
}

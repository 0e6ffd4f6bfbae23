import type { BidReceipt, BidRequest, Outcome, PlacedBid } from "../api/session-protocol";
import { toIso } from "../api/time";
import { nextLink } from "../history/chain";
import { endAfterBid } from "./auction";
import type { BidBook, BidOrder, LiveBid } from "./bid-book";
import type { Bucket, RateLimiter } from "./rate-limit";
import { refuseBid, refuseMaximum } from "./rules";
import type { SessionRecord } from "./session-record";

/**
 * The decision on a batch of bids: pure code over the object's memory. The
 * bids are decided in arrival order, each against the state the earlier ones
 * left; the book and the rate limiter change as they go, and `undo` puts them
 * back if the batch cannot be stored. Nothing is stored or sent here.
 *
 * Each accepted bid, automatic raises included, is linked into the bid log
 * here (src/history/chain.ts), with the pseudonym it is fixed with, so the
 * receipt carries its link and the commit stores it with the row.
 */

/** Whether a bidder exists, as far as a batch of bids is concerned (KnownUsers looks them up). */
export type BidderLookup = "exists" | "missing" | "unavailable";

/** An accepted bid with everything stored alongside it; automatic raises have no receipt of their own. */
export interface AcceptedBid {
  bid: LiveBid;
  /** The pseudonym the public history shows the bid with, fixed now. */
  bidder: string;
  /** The bid's link in the bid log; null in a session that took bids before the log existed. */
  hash: string | null;
  receipt?: BidReceipt;
  /** The request body an Idempotency-Key is remembered with (see `bodyKey`). */
  idempotency?: { key: string; body: string };
  requestId?: string;
}

/** A bidder who held a winning rank during the batch and is ranked past the winners after it. */
export interface Displaced {
  userId: number;
  amount: number;
  rank: number;
}

/** What the decision reads and changes. */
export interface BiddingState {
  record: SessionRecord;
  seq: number;
  /** The bid log's link of `seq` (h0 before the first bid); null when the session took bids before the log existed. */
  head: string | null;
  book: BidBook;
  limiter: RateLimiter;
  /** For the refusal's words: the limiter's rate. */
  bidsPerSecond: number;
}

export interface BatchDecision {
  outcomes: Outcome<PlacedBid>[];
  /** To store, in order: each accepted bid, then the automatic raises it provoked. */
  accepted: AcceptedBid[];
  /** The record after the batch; not the one before when a soft close extended the end. */
  record: SessionRecord;
  extended: boolean;
  seq: number;
  /** The link of the new `seq`. */
  head: string | null;
  outbid: Displaced[];
  /** Puts the book and the limiter back as they were before the batch. */
  undo(): void;
}

/** What an Idempotency-Key retry must repeat: the kind of bid and its figure. */
export const bodyKey = (order: { amount?: number; maxAmount?: number }): string =>
  order.maxAmount === undefined ? `amount:${order.amount}` : `maxAmount:${order.maxAmount}`;

/** The order a request makes, when it makes exactly one. */
function orderOf({ userId, amount, maxAmount }: BidRequest): BidOrder | undefined {
  if (amount !== undefined && maxAmount === undefined) return { userId, amount };
  if (maxAmount !== undefined && amount === undefined) return { userId, maxAmount };
  return undefined;
}

/** The answer an earlier bid of this very batch already gave the request: the same request id or Idempotency-Key. */
function answeredInBatch(
  request: BidRequest,
  body: string,
  accepted: readonly AcceptedBid[],
): Outcome<PlacedBid> | undefined {
  const { requestId, idempotencyKey, userId } = request;
  // Sent again while the call that first carried it was still on its way.
  const resent = accepted.find((a) => requestId !== undefined && a.requestId === requestId)?.receipt;
  if (resent) return { ok: true, value: { receipt: resent, replayed: false } };
  const keyed = accepted.find(
    (a) => idempotencyKey !== undefined && a.idempotency?.key === idempotencyKey && a.bid.userId === userId,
  );
  if (!keyed?.idempotency || !keyed.receipt) return undefined;
  return keyed.idempotency.body === body
    ? { ok: true, value: { receipt: keyed.receipt, replayed: true } }
    : {
        ok: false,
        code: "idempotency_key_reused",
        detail: "This Idempotency-Key was used with a different body.",
      };
}

export interface BatchInputs {
  requests: readonly BidRequest[];
  bidders: ReadonlyMap<number, BidderLookup>;
  now: number;
  /** A bidder's pseudonym in this session. */
  bidderOf(userId: number): string;
  /** The answer a request had in an earlier batch (request memory), if it had one. */
  answeredBefore(request: BidRequest, body: string): Outcome<PlacedBid> | undefined;
}

export function decideBatch(state: BiddingState, inputs: BatchInputs): BatchDecision {
  const { book, limiter } = state;
  const { now, bidders } = inputs;
  const savedBids = new Map<number, LiveBid | undefined>();
  const savedBuckets = new Map<number, Bucket | undefined>();
  const accepted: AcceptedBid[] = [];
  let record = state.record;
  let seq = state.seq;
  let head = state.head;
  const units = record.params.units;
  const placedAtIso = toIso(now);
  // Everyone who held a winning rank at some point of the batch: a bid the batch
  // accepted at a winning rank and then passed was told that rank and must hear it was outbid.
  const everWinning = new Set(book.top(units).map((bid) => bid.userId));

  const decide = (request: BidRequest): Outcome<PlacedBid> => {
    const session = record.params;
    const { userId, idempotencyKey, requestId } = request;
    const order = orderOf(request);
    if (!order)
      return { ok: false, code: "invalid_request", detail: "Send exactly one of amount and maxAmount." };
    const body = bodyKey(request);
    const earlier = answeredInBatch(request, body, accepted) ?? inputs.answeredBefore(request, body);
    if (earlier) return earlier;

    if (!savedBuckets.has(userId)) savedBuckets.set(userId, limiter.save(userId));
    const retryAfterSeconds = limiter.take(userId, now);
    if (retryAfterSeconds > 0) {
      const detail = `At most ${state.bidsPerSecond} bids per second per user.`;
      return { ok: false, code: "rate_limited", detail, retryAfterSeconds };
    }
    const bidder = bidders.get(userId) ?? "exists";
    if (bidder === "missing")
      return { ok: false, code: "user_not_found", detail: `No user has id ${userId}.` };
    if (bidder === "unavailable") {
      const detail = "Your first bid in this session needs the user directory, which is unreachable.";
      return { ok: false, code: "database_unavailable", detail, retryAfterSeconds: 5 };
    }
    const previous = book.bidOf(userId);
    const refusal =
      "maxAmount" in order
        ? refuseMaximum(session, previous, order.maxAmount, now)
        : refuseBid(session, previous?.amount, order.amount, now);
    if (refusal) return { ok: false, ...refusal };

    // The bidder's own bid, then the automatic raises it provokes: each its own seq and link,
    // linked before the book changes (a pseudonym without its secret throws, and must change nothing).
    const linked = book.settle(order, seq + 1, now, session).map((bid) => {
      const bidder = inputs.bidderOf(bid.userId);
      // Every bid of the batch is placed at `now` (automatic raises too).
      head = head === null ? null : nextLink(head, { ...bid, bidder, placedAt: placedAtIso });
      return { bid, bidder, hash: head };
    });
    const settled = linked.map((one) => one.bid);
    for (const bid of settled) {
      if (!savedBids.has(bid.userId)) savedBids.set(bid.userId, book.bidOf(bid.userId));
      book.put(bid);
      seq = bid.seq;
    }
    // Only the settled bids move up; everyone else can only move down.
    for (const bid of settled) {
      if ((book.rankOf(bid.userId) ?? Number.POSITIVE_INFINITY) <= units) everWinning.add(bid.userId);
    }
    const endsAt = endAfterBid(session.endsAt, now, session.softClose, session.hardEndsAt);
    if (endsAt !== session.endsAt) {
      record = {
        ...record,
        params: { ...session, endsAt, extensions: session.extensions + 1 },
        version: record.version + 1,
      };
    }
    const [own, ...raises] = linked;
    if (!own) return { ok: false, code: "internal_error", detail: "The bid settled to nothing." };
    const receipt: BidReceipt = {
      sessionId: session.id,
      userId,
      amount: own.bid.amount,
      rank: book.rankOf(userId) ?? 0,
      placedAt: placedAtIso,
      seq: own.bid.seq,
      maxAmount: own.bid.maxAmount,
      bidder: own.bidder,
      hash: own.hash,
    };
    const idempotency = idempotencyKey === undefined ? undefined : { key: idempotencyKey, body };
    accepted.push({ ...own, receipt, idempotency, requestId });
    accepted.push(...raises);
    return { ok: true, value: { receipt, replayed: false, first: own.bid.bidCount === 1 } };
  };

  const outcomes = inputs.requests.map(decide);
  const outbid: Displaced[] = [];
  for (const userId of everWinning) {
    const rank = book.rankOf(userId);
    const bid = book.bidOf(userId);
    if (rank !== undefined && bid && rank > units) outbid.push({ userId, amount: bid.amount, rank });
  }
  return {
    outcomes,
    accepted,
    record,
    extended: record !== state.record,
    seq,
    head,
    outbid,
    undo() {
      for (const [userId, bid] of savedBids) {
        if (bid) book.put(bid);
        else book.remove(userId);
      }
      for (const [userId, bucket] of savedBuckets) limiter.restore(userId, bucket);
    },
  };
}

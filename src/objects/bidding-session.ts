import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { endAfterBid, isReserveMet, winnersOf } from "../bidding/auction";
import { BidBook, type BidOrder } from "../bidding/bid-book";
import { type Bucket, RateLimiter } from "../bidding/rate-limit";
import {
  changeSession,
  type NewSessionParams,
  refuseBid,
  refuseMaximum,
  type SessionChange,
  type SessionParams,
  sessionStatus,
  withAuctionDefaults,
} from "../bidding/rules";
import { type Config, readConfig } from "../config";
import { withDatabase } from "../db/client";
import { biddingSessions } from "../db/schema";
import { heldRun, MAX_PAGE_ROWS } from "../history/merge";
import { problemResponse } from "../http/problem";
import { recordBid, recordFlush } from "../observability/analytics";
import { eventIds, type WebhookEvent, type WebhookMessage } from "../webhooks/events";
import { type AlarmJob, AlarmSchedule, defaultScheduleSettings, type PlannedAlarm } from "./alarm-schedule";
import { type BidderLookup, KnownUsers } from "./known-users";
import { LiveBoard } from "./live-board";
import { writeBatchToPostgres } from "./postgres-flush";
import type {
  BidReceipt,
  BidRequest,
  BidStanding,
  HeldHistory,
  Leaderboard,
  MyBid,
  Outcome,
  PlacedBid,
  Results,
  SessionStats,
  SessionView,
} from "./protocol";
import {
  type AcceptedBid,
  bodyKey,
  type LiveBid,
  noProgress,
  type PostgresProgress,
  type SessionRecord,
  type SessionResults,
  SessionStore,
} from "./session-store";

export type { BidRequest };

/** The header on a forwarded /live upgrade that names the user its token authenticated. */
export const BIDDER_HEADER = "X-Bidder-Id";

/** Watchers see at most the top 100, so lower bids change nothing they see. */
const MAX_LIVE_DEPTH = 100;
/** Outcomes of recent bid requests kept in memory, refusals included, for batches sent again. */
const RECENT_REQUESTS = 20_000;
/** Events written this soon after one another leave in one `sendBatch`, off the bid path. */
const OUTBOX_SEND_DELAY_MS = 100;
/** The most messages one `sendBatch` takes. */
const QUEUE_BATCH_MESSAGES = 100;
/**
 * An alarm this far past its time that never started was lost (a reload of
 * the local runtime can drop one): the next bid sets it again rather than
 * trusting it, or flushes would stop for good.
 */
const LOST_ALARM_MS = 10_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** The order a request makes, when it makes exactly one. */
function orderOf({ userId, amount, maxAmount }: BidRequest): BidOrder | undefined {
  if (amount !== undefined && maxAmount === undefined) return { userId, amount };
  if (maxAmount !== undefined && amount === undefined) return { userId, maxAmount };
  return undefined;
}

/** Bid calls that arrived together, decided in one synchronous step and stored in one transaction. */
interface OpenBatch {
  requests: BidRequest[];
  outcomes: Promise<Outcome<PlacedBid>[]>;
  settle(outcomes: Promise<Outcome<PlacedBid>[]>): void;
}

/** What a batch changed in memory before its write, so a failed write can put it all back. */
interface BatchUndo {
  seq: number;
  record: SessionRecord;
  bids: Map<number, LiveBid | undefined>;
  buckets: Map<number, Bucket | undefined>;
}

/**
 * One bidding session. It serialises the session's bids, answers reads from
 * memory, stores every accepted bid in its SQLite before answering, and
 * flushes them to PostgreSQL from its alarm.
 *
 * The reference system cached session status in Redis with TTLs (10 s active,
 * 5 min ended, 1 h params) because every worker process had to re-read it.
 * Here the object is the only writer of its session's parameters (PATCH goes
 * through it) and status is a function of the clock, so nothing can change
 * behind its back and no TTL is needed.
 */
export class BiddingSession extends DurableObject<Env> {
  private readonly config: Config;
  private readonly store: SessionStore;
  private readonly users: KnownUsers;
  private readonly schedule: AlarmSchedule;
  /** Every user's live bid, in leaderboard order, and who bids by proxy. */
  private readonly book = new BidBook();
  private readonly rateLimiter: RateLimiter;
  private readonly live: LiveBoard;
  private readonly recentRequests = new Map<string, Outcome<PlacedBid>>();
  /** Bid calls waiting for the next decision. */
  private openBatch: OpenBatch | null = null;
  private record: SessionRecord | undefined;
  private seq = 0;
  private progress: PostgresProgress;
  private nextAlarm: { at: number; job: AlarmJob } | null = null;
  private flushing: Promise<void> | null = null;
  /** From the start of alarm() to its re-arming: the fired alarm is not lost, only busy. */
  private alarmRunning = false;
  /** The outbox's way to the queue: a send waiting to start, one under way, and failures in a row. */
  private outboxTimer: ReturnType<typeof setTimeout> | undefined;
  private sendingEvents: Promise<void> | null = null;
  private eventsWrittenWhileSending = false;
  private deliveryFailures = 0;
  private missingCheckedAt: number | null = null;
  private loadingSession: Promise<SessionRecord | undefined> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.store = new SessionStore(ctx.storage);
    this.users = new KnownUsers(env, this.store);
    this.schedule = new AlarmSchedule({
      ...defaultScheduleSettings,
      flushIntervalMs: this.config.flushIntervalMs,
    });
    this.rateLimiter = new RateLimiter(this.config.bidRatePerSecond, this.config.bidRateBurst);
    this.live = new LiveBoard(ctx, (limit) => this.board(limit));
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.progress = this.restoreFromStorage();
    void ctx.blockConcurrencyWhile(async () => {
      const at = await ctx.storage.getAlarm();
      // What the alarm was set for is not stored: name it by what is due first now.
      this.nextAlarm = at === null ? null : { at, job: this.plannedAlarm()?.job ?? "flush" };
    });
  }

  /**
   * Memory is a cache of storage: rebuilt once per instance, never per
   * request (SQLite reads are synchronous). A store created by an older
   * version is upgraded first; an object never created reads and writes nothing.
   */
  private restoreFromStorage(): PostgresProgress {
    if (!this.store.exists()) return { ...noProgress };
    this.store.migrate();
    this.record = this.store.readSession();
    this.users.restore();
    for (const bid of this.store.readLiveBids()) {
      this.book.put(bid);
      this.seq = Math.max(this.seq, bid.seq);
    }
    return this.store.readPostgresProgress();
  }

  // ---- RPC: session lifecycle -------------------------------------------------

  /**
   * Hands the object its parameters right after the row was written to
   * PostgreSQL. A Worker of the v1 version sends no auction rules: defaults.
   */
  async initialize(session: NewSessionParams): Promise<SessionView> {
    if (!this.record) {
      this.store.migrate();
      this.record = { params: withAuctionDefaults(session), version: 1, endHandledAt: null, results: null };
      // PostgreSQL already has this version.
      this.progress = { ...this.progress, flushedVersion: 1 };
      this.store.writeSession(this.record);
      this.store.writePostgresProgress(this.progress);
      await this.armAlarm();
    }
    return this.view(this.record.params);
  }

  async getSession(): Promise<Outcome<SessionView>> {
    const found = await this.requireSession();
    return found.ok ? { ok: true, value: this.view(found.value.params) } : found;
  }

  async updateSession(change: SessionChange): Promise<Outcome<SessionView>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const next = changeSession(found.value.params, change, Date.now());
    if ("refused" in next) return { ok: false, ...next.refused };
    this.record = { ...found.value, params: next, version: found.value.version + 1 };
    this.store.writeSession(this.record);
    await this.armAlarm();
    return { ok: true, value: this.view(next) };
  }

  // ---- RPC: bids ------------------------------------------------------------

  /** One bid; kept for Workers of the version before batching. */
  async placeBid(request: BidRequest): Promise<Outcome<PlacedBid>> {
    const [outcome] = await this.placeBids([request]);
    return outcome ?? { ok: false, code: "internal_error", detail: "No outcome for the bid." };
  }

  /**
   * Bids that reached the object together, decided in arrival order in one
   * synchronous step and stored in one transaction; one outcome each, in the
   * same order. If the write fails, every bid of the batch fails and memory
   * is as it was.
   */
  async placeBids(requests: BidRequest[]): Promise<Outcome<PlacedBid>[]> {
    // Calls that reach the object together join one batch. An object's calls
    // share its one context, so they may wait on each other's promises, which
    // requests in a stateless Worker may not safely do.
    let batch = this.openBatch;
    if (!batch) {
      let settle: OpenBatch["settle"] = () => {};
      const outcomes = new Promise<Outcome<PlacedBid>[]>((resolve) => {
        settle = resolve;
      });
      const opened: OpenBatch = { requests: [], outcomes, settle };
      this.openBatch = opened;
      batch = opened;
      setTimeout(() => {
        if (this.openBatch === opened) this.openBatch = null;
        opened.settle(this.placeBatch(opened.requests));
      }, 0);
    }
    const start = batch.requests.length;
    batch.requests.push(...requests);
    const outcomes = await batch.outcomes;
    return outcomes.slice(start, start + requests.length);
  }

  private async placeBatch(requests: BidRequest[]): Promise<Outcome<PlacedBid>[]> {
    const found = await this.requireSession();
    if (!found.ok) return requests.map(() => found);
    // Await first, then decide: after this line nothing awaits until the answer.
    const bidders = await this.users.lookUp(requests.map((r) => r.userId));
    const outcomes = this.decideAndStore(requests, bidders);
    const sessionId = found.value.params.id;
    requests.forEach((request, i) => {
      const outcome = outcomes[i];
      if (outcome && !(outcome.ok && outcome.value.replayed)) {
        const amount = outcome.ok ? outcome.value.receipt.amount : (request.amount ?? request.maxAmount ?? 0);
        recordBid(this.env.BID_ANALYTICS, sessionId, outcome.ok ? "accepted" : outcome.code, amount);
      }
    });
    return outcomes;
  }

  private decideAndStore(requests: BidRequest[], bidders: Map<number, BidderLookup>): Outcome<PlacedBid>[] {
    const record = this.record;
    if (!record) return requests.map(() => ({ ok: false, code: "session_not_found", detail: "No session." }));
    const now = Date.now();
    const undo: BatchUndo = { seq: this.seq, record, bids: new Map(), buckets: new Map() };
    const accepted: AcceptedBid[] = [];
    // Everyone who held a winning rank at some point of the batch: a bid the batch
    // accepted at a winning rank and then passed was told that rank and must hear it was outbid.
    const everWinning = new Set(this.book.top(record.params.units).map((bid) => bid.userId));
    const outcomes = requests.map((request) =>
      this.decide(request, bidders, now, undo, accepted, everWinning),
    );
    if (accepted.length === 0) return outcomes;
    const extended = this.record !== undo.record;
    const outbid = this.outbidBy(everWinning, record.params.units);
    const events = this.batchEvents(outbid, extended, now);
    try {
      this.store.recordBids(accepted, extended ? this.record : undefined, events);
    } catch (error) {
      this.undo(undo);
      this.log("error", "bid_write_failed", { bids: accepted.length, error: String(error) });
      return requests.map(() => ({
        ok: false,
        code: "service_unavailable",
        detail: "The session could not store the bid; retry shortly.",
        retryAfterSeconds: 1,
      }));
    }
    requests.forEach((request, i) => {
      const outcome = outcomes[i];
      if (request.requestId !== undefined && outcome) this.rememberRequest(request.requestId, outcome);
    });
    if (
      accepted.some((a) => (this.book.rankOf(a.bid.userId) ?? Number.POSITIVE_INFINITY) <= MAX_LIVE_DEPTH)
    ) {
      this.live.changed();
    }
    if (extended && this.record) {
      const { endsAt, extensions } = this.record.params;
      this.live.broadcast({ type: "extended", endsAt: iso(endsAt), extensions, serverTime: iso(Date.now()) });
    }
    // After the commit, at once and not coalesced: only the displaced users' own sockets.
    for (const { userId, amount, rank } of outbid)
      this.live.sendToUser(userId, { type: "outbid", amount, rank });
    if (events.length > 0) this.sendOutboxSoon();
    const interval = this.config.flushIntervalMs;
    if (this.nextAlarm === null || this.nextAlarm.at > now + interval || this.isLost(this.nextAlarm))
      void this.armAlarm();
    return outcomes;
  }

  /** Who held a winning rank during the batch and is ranked past `units` after it. */
  private outbidBy(
    everWinning: ReadonlySet<number>,
    units: number,
  ): { userId: number; amount: number; rank: number }[] {
    const displaced: { userId: number; amount: number; rank: number }[] = [];
    for (const userId of everWinning) {
      const rank = this.book.rankOf(userId);
      const bid = this.book.bidOf(userId);
      if (rank !== undefined && bid && rank > units) displaced.push({ userId, amount: bid.amount, rank });
    }
    return displaced;
  }

  /** The events a batch caused, for the outbox; ids follow from the batch's last seq. */
  private batchEvents(
    outbid: readonly { userId: number; amount: number; rank: number }[],
    extended: boolean,
    now: number,
  ): WebhookEvent[] {
    const record = this.record;
    if (!record) return [];
    const sessionId = record.params.id;
    const timestamp = iso(now);
    const events: WebhookEvent[] = outbid.map(({ userId, amount, rank }) => ({
      id: eventIds.outbid(sessionId, this.seq, userId),
      type: "bid.outbid",
      timestamp,
      data: { sessionId, userId, amount, rank },
    }));
    if (extended) {
      const { endsAt, extensions } = record.params;
      events.push({
        id: eventIds.extended(sessionId, extensions),
        type: "session.extended",
        timestamp,
        data: { sessionId, endsAt: iso(endsAt), extensions },
      });
    }
    return events;
  }

  /** Decides one bid of a batch against memory as the earlier bids of the batch left it. */
  private decide(
    request: BidRequest,
    bidders: Map<number, BidderLookup>,
    now: number,
    undo: BatchUndo,
    accepted: AcceptedBid[],
    everWinning: Set<number>,
  ): Outcome<PlacedBid> {
    const record = this.record ?? undo.record;
    const session = record.params;
    const { userId, idempotencyKey, requestId } = request;
    const order = orderOf(request);
    if (!order)
      return { ok: false, code: "invalid_request", detail: "Send exactly one of amount and maxAmount." };
    const sentBefore = requestId === undefined ? undefined : this.earlierOutcome(requestId, request.resend);
    if (sentBefore) return sentBefore;
    // Sent again while the call that first carried it was still on its way: in the same batch.
    const acceptedInBatch = accepted.find(
      (a) => requestId !== undefined && a.requestId === requestId,
    )?.receipt;
    if (acceptedInBatch) return { ok: true, value: { receipt: acceptedInBatch, replayed: false } };
    const body = bodyKey(request);
    const earlier = this.earlierAnswer(userId, body, idempotencyKey, accepted);
    if (earlier) return earlier;

    if (!undo.buckets.has(userId)) undo.buckets.set(userId, this.rateLimiter.save(userId));
    const retryAfterSeconds = this.rateLimiter.take(userId, now);
    if (retryAfterSeconds > 0) {
      return {
        ok: false,
        code: "rate_limited",
        detail: `At most ${this.config.bidRatePerSecond} bids per second per user.`,
        retryAfterSeconds,
      };
    }
    const bidder = bidders.get(userId) ?? "exists";
    if (bidder === "missing")
      return { ok: false, code: "user_not_found", detail: `No user has id ${userId}.` };
    if (bidder === "unavailable") {
      return {
        ok: false,
        code: "database_unavailable",
        detail: "Your first bid in this session needs the user directory, which is unreachable.",
        retryAfterSeconds: 5,
      };
    }
    const previous = this.book.bidOf(userId);
    const refusal =
      "maxAmount" in order
        ? refuseMaximum(session, previous, order.maxAmount, now)
        : refuseBid(session, previous?.amount, order.amount, now);
    if (refusal) return { ok: false, ...refusal };

    // The bidder's own bid, then the automatic raises it provokes: each its own seq.
    const settled = this.book.settle(order, this.seq + 1, now, session);
    for (const bid of settled) {
      if (!undo.bids.has(bid.userId)) undo.bids.set(bid.userId, this.book.bidOf(bid.userId));
      this.book.put(bid);
      this.seq = bid.seq;
    }
    // Only the settled bids move up; everyone else can only move down.
    for (const bid of settled) {
      if ((this.book.rankOf(bid.userId) ?? Number.POSITIVE_INFINITY) <= session.units)
        everWinning.add(bid.userId);
    }
    const endsAt = endAfterBid(session.endsAt, now, session.softClose, session.hardEndsAt);
    if (endsAt !== session.endsAt) {
      this.record = {
        ...record,
        params: { ...session, endsAt, extensions: session.extensions + 1 },
        version: record.version + 1,
      };
    }
    const [own, ...raises] = settled;
    if (!own) return { ok: false, code: "internal_error", detail: "The bid settled to nothing." };
    const receipt: BidReceipt = {
      sessionId: session.id,
      userId,
      amount: own.amount,
      rank: this.book.rankOf(userId) ?? 0,
      placedAt: iso(now),
      seq: own.seq,
      maxAmount: own.maxAmount,
    };
    const idempotency = idempotencyKey === undefined ? undefined : { key: idempotencyKey, body };
    accepted.push({ bid: own, receipt, idempotency, requestId });
    for (const bid of raises) accepted.push({ bid });
    return { ok: true, value: { receipt, replayed: false } };
  }

  private undo({ seq, record, bids, buckets }: BatchUndo): void {
    this.seq = seq;
    this.record = record;
    for (const [userId, bid] of bids) {
      if (bid) this.book.put(bid);
      else this.book.remove(userId);
    }
    for (const [userId, bucket] of buckets) this.rateLimiter.restore(userId, bucket);
  }

  /** The outcome a bid request already had, when its batch is sent again. */
  private earlierOutcome(requestId: string, resend: boolean | undefined): Outcome<PlacedBid> | undefined {
    const remembered = this.recentRequests.get(requestId);
    if (remembered || !resend) return remembered;
    // Only the accepted ones survive an eviction, and only those matter: a
    // refusal decided again changes nothing that was stored. The rank is today's.
    const stored = this.store.findBidRequest(requestId);
    const record = this.record;
    if (!stored || !record) return undefined;
    const live = this.book.bidOf(stored.userId);
    const receipt: BidReceipt = {
      sessionId: record.params.id,
      userId: stored.userId,
      amount: stored.amount,
      rank: this.book.rankOf(stored.userId) ?? 0,
      placedAt: iso(stored.placedAt),
      seq: stored.seq,
      // The maximum is still the one this request set if the live bid is its own, or an automatic raise of it.
      maxAmount: live && (live.seq === stored.seq || live.tieSeq === stored.seq) ? live.maxAmount : null,
    };
    return { ok: true, value: { receipt, replayed: false } };
  }

  private rememberRequest(requestId: string, outcome: Outcome<PlacedBid>): void {
    this.recentRequests.set(requestId, outcome);
    if (this.recentRequests.size > RECENT_REQUESTS) {
      const oldest = this.recentRequests.keys().next();
      if (!oldest.done) this.recentRequests.delete(oldest.value);
    }
  }

  /** The answer already given to this Idempotency-Key, if any: a replay, or a refusal for another body. */
  private earlierAnswer(
    userId: number,
    body: string,
    idempotencyKey: string | undefined,
    acceptedInBatch: readonly AcceptedBid[],
  ): Outcome<PlacedBid> | undefined {
    if (idempotencyKey === undefined) return undefined;
    const inBatch = acceptedInBatch.find(
      (a) => a.idempotency?.key === idempotencyKey && a.bid.userId === userId,
    );
    const earlier =
      inBatch?.idempotency && inBatch.receipt
        ? { body: inBatch.idempotency.body, receipt: inBatch.receipt }
        : this.store.findIdempotencyKey(userId, idempotencyKey);
    if (!earlier) return undefined;
    if (earlier.body !== body) {
      return {
        ok: false,
        code: "idempotency_key_reused",
        detail: "This Idempotency-Key was used with a different body.",
      };
    }
    // Receipts stored before proxy bids existed have no maxAmount.
    return {
      ok: true,
      value: {
        receipt: { ...earlier.receipt, maxAmount: earlier.receipt.maxAmount ?? null },
        replayed: true,
      },
    };
  }

  async myBid(userId: number): Promise<Outcome<MyBid>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const bid = this.book.bidOf(userId);
    const rank = this.book.rankOf(userId);
    if (!bid || rank === undefined) {
      return { ok: false, code: "no_bid", detail: "You have no bid in this session." };
    }
    return {
      ok: true,
      value: {
        sessionId: found.value.params.id,
        userId,
        amount: bid.amount,
        rank,
        placedAt: iso(bid.placedAt),
        seq: bid.seq,
        bidCount: bid.bidCount,
        maxAmount: bid.maxAmount,
      },
    };
  }

  /** The caller's live bid with its rank and whether it wins, as of this instant. */
  async standing(userId: number): Promise<Outcome<BidStanding>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const { params, results } = found.value;
    const bid = this.book.bidOf(userId);
    const rank = this.book.rankOf(userId);
    if (!bid || rank === undefined) {
      return { ok: false, code: "no_bid", detail: "You have no bid in this session." };
    }
    const winning = results
      ? results.winners.some((winner) => winner.userId === userId)
      : rank <= params.units && isReserveMet(params.reservePrice, bid.amount);
    return {
      ok: true,
      value: { status: sessionStatus(params, Date.now()), amount: bid.amount, rank, winning },
    };
  }

  /** The top `limit` with the usernames this object holds (null for any it lacks). */
  async leaderboard(limit: number): Promise<Outcome<Leaderboard>> {
    const found = await this.requireSession();
    return found.ok ? { ok: true, value: this.board(limit) } : found;
  }

  /**
   * What this object holds of the history page after `afterSeq`: its pending
   * rows (and flushed ones not yet pruned) that the page can use, read in the
   * same synchronous step as the watermark, so PostgreSQL is known to hold
   * everything before them (src/history/merge.ts).
   */
  async history(afterSeq: number, limit: number): Promise<Outcome<HeldHistory>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const size = Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_ROWS);
    const held = heldRun(this.store.readPendingBids(afterSeq, size), afterSeq, size);
    return {
      ok: true,
      value: {
        flushedSeq: this.progress.flushedSeq,
        seq: this.seq,
        bids: held.map((bid) => ({ ...bid, username: this.users.nameOf(bid.userId) ?? null })),
      },
    };
  }

  /** The results, fixed at the end (here, if no alarm has fixed them yet); usernames as the object holds them. */
  async results(): Promise<Outcome<Results>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const results = this.fixResultsIfEnded();
    if (!results) {
      return {
        ok: false,
        code: "session_not_ended",
        detail: `Results are fixed when the session ends, at ${iso(found.value.params.endsAt)}.`,
      };
    }
    return { ok: true, value: this.resultsView(found.value.params.id, results) };
  }

  async stats(): Promise<Outcome<SessionStats>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const oldest = this.store.oldestPendingAt(this.progress.flushedSeq);
    const p = this.progress;
    return {
      ok: true,
      value: {
        sessionId: found.value.params.id,
        seq: this.seq,
        flushedSeq: p.flushedSeq,
        pendingBids: this.seq - p.flushedSeq,
        oldestPendingAgeMs: oldest === null ? null : Date.now() - oldest,
        lastFlushAt: p.lastFlushAt === null ? null : iso(p.lastFlushAt),
        lastFlushDurationMs: p.lastFlushMs,
        lastFlushRows: p.lastFlushRows,
        totalFlushed: p.flushedTotal,
        consecutiveFlushFailures: p.consecutiveFailures,
        totalFlushFailures: p.totalFailures,
        lastFlushError: p.lastError,
        nextAlarmAt: this.nextAlarm === null ? null : iso(this.nextAlarm.at),
        nextAlarmJob: this.nextAlarm?.job ?? null,
        openSockets: this.live.sockets,
      },
    };
  }

  // ---- live updates: WebSockets through the hibernation API -------------------

  /** Only WebSocket upgrades reach `fetch`; everything else is RPC. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return problemResponse("upgrade_required", "Connect with a WebSocket upgrade.", {
        Upgrade: "websocket",
      });
    }
    const found = await this.requireSession();
    if (!found.ok) return problemResponse(found.code, found.detail);
    if (this.live.sockets >= this.config.liveSocketsPerSession) {
      return problemResponse(
        "service_unavailable",
        `This session has its ${this.config.liveSocketsPerSession} live watchers; poll the leaderboard instead.`,
        { "Retry-After": "30" },
      );
    }
    const limit = Number(new URL(request.url).searchParams.get("limit") ?? "50");
    // Set by the Worker once it verified the socket's token; only the Worker reaches this object.
    const bidder = request.headers.get(BIDDER_HEADER);
    const userId = bidder === null ? undefined : Number(bidder);
    const [client, server] = Object.values(new WebSocketPair());
    if (!client || !server) throw new Error("WebSocketPair gave no sockets");
    this.live.accept(server, limit, userId);
    if (found.value.endHandledAt !== null) this.live.announceEnd(this.announcedResults());
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: userId === undefined ? {} : { "Sec-WebSocket-Protocol": "bearer" },
    });
  }

  /** Watchers only listen: anything they send is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code, reason);
    } catch {
      // Already closed by the runtime's automatic reply.
    }
  }

  // ---- the alarm: flush, end of session, housekeeping -------------------------

  override async alarm(): Promise<void> {
    this.alarmRunning = true;
    try {
      if (!this.record) return;
      // Fixed before the flush, so the final flush carries them. No bid can
      // change them: the end has passed, and every later bid is refused.
      this.fixResultsIfEnded();
      await this.flushToPostgres();
      const record = this.record;
      if (record.results !== null && record.endHandledAt === null) {
        this.record = { ...record, endHandledAt: Date.now() };
        this.store.writeSession(this.record);
        this.live.announceEnd(this.announcedResults());
      }
      const before = this.schedule.forgetBefore();
      this.store.forgetIdempotencyKeysBefore(before.idempotencyKeys);
      this.store.forgetFlushedBefore(this.progress.flushedSeq, before.bidRequests);
      // Whatever an eviction or a failed send left in the outbox (and the end's event).
      await this.sendOutbox();
    } finally {
      // The fired alarm counts as set until here, so bids accepted during the
      // flush leave the next alarm to this point, where the backoff this
      // flush's outcome calls for is known. Never throw: the platform's own
      // retries run out, ours do not.
      this.nextAlarm = null;
      this.alarmRunning = false;
      await this.armAlarm();
    }
  }

  /**
   * Fixes the results once the end has passed, exactly once: afterwards they
   * are read, never computed again, whatever arrives or replays.
   */
  private fixResultsIfEnded(): SessionResults | null {
    const record = this.record;
    if (!record) return null;
    if (record.results !== null) return record.results;
    const { params } = record;
    if (Date.now() < params.endsAt) return null;
    const winners = winnersOf(this.book.top(params.units), params.units, params.reservePrice);
    const results: SessionResults = {
      closedAt: params.endsAt,
      finalSeq: this.seq,
      reserveMet: isReserveMet(params.reservePrice, this.book.highest?.amount),
      winners: winners.map((bid, i) => ({
        rank: i + 1,
        userId: bid.userId,
        amount: bid.amount,
        seq: bid.seq,
      })),
    };
    const next: SessionRecord = { ...record, results, version: record.version + 1 };
    const ended: WebhookEvent = {
      id: eventIds.ended(params.id),
      type: "session.ended",
      timestamp: iso(Date.now()),
      data: {
        sessionId: params.id,
        closedAt: iso(results.closedAt),
        finalSeq: results.finalSeq,
        reserveMet: results.reserveMet,
        winners: results.winners.map(({ rank, userId, amount }) => ({ rank, userId, amount })),
      },
    };
    // The results and their event are one write: neither exists without the other.
    this.store.recordResults(next, ended);
    this.record = next;
    this.sendOutboxSoon();
    return results;
  }

  private announcedResults(): Results | null {
    const record = this.record;
    return record?.results ? this.resultsView(record.params.id, record.results) : null;
  }

  private resultsView(sessionId: string, results: SessionResults): Results {
    return {
      sessionId,
      closedAt: iso(results.closedAt),
      finalSeq: results.finalSeq,
      reserveMet: results.reserveMet,
      winners: results.winners.map((w) => ({
        rank: w.rank,
        userId: w.userId,
        username: this.users.nameOf(w.userId) ?? null,
        amount: w.amount,
      })),
    };
  }

  /** Sends every pending row to PostgreSQL; on failure they stay pending. */
  private flushToPostgres(): Promise<void> {
    this.flushing ??= this.sendPendingToPostgres().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async sendPendingToPostgres(): Promise<void> {
    const record = this.record;
    if (!record) return;
    const session = record.params;
    const events = this.store.readPendingBids(this.progress.flushedSeq, defaultScheduleSettings.maxFlushRows);
    const sessionChanged = record.version > this.progress.flushedVersion;
    if (events.length === 0 && !sessionChanged && (record.results === null || this.progress.resultsFlushed))
      return;
    // Read in the same synchronous step as `events`, so each live bid matches
    // its user's last event in the batch... unless a later bid of that user is
    // beyond the batch limit; then the live bid is newer, which the seq guard
    // in PostgreSQL accepts and a later flush repeats harmlessly.
    const users = new Set(events.map((e) => e.userId));
    const liveBids = [...users].flatMap((id) => this.book.bidOf(id) ?? []);
    const results = this.progress.resultsFlushed ? null : record.results;
    const sentSeq = events.at(-1)?.seq ?? this.progress.flushedSeq;
    const sentVersion = record.version;
    const started = Date.now();
    try {
      await withDatabase(this.env, (db) =>
        writeBatchToPostgres(db, {
          sessionId: session.id,
          events,
          liveBids,
          session: sessionChanged ? session : undefined,
          results: results ?? undefined,
        }),
      );
    } catch (error) {
      const message =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      this.progress = {
        ...this.progress,
        consecutiveFailures: this.progress.consecutiveFailures + 1,
        totalFailures: this.progress.totalFailures + 1,
        lastError: message,
      };
      this.store.writePostgresProgress(this.progress);
      recordFlush(this.env.BID_ANALYTICS, session.id, {
        ok: false,
        rows: events.length,
        ms: Date.now() - started,
      });
      this.log("error", "flush_failed", {
        rows: events.length,
        error: message,
        failures: this.progress.consecutiveFailures,
      });
      return;
    }
    const finished = Date.now();
    // The watermark moves to what was sent, not to the current seq: bids that
    // arrived while PostgreSQL was busy stay pending for the next flush.
    this.progress = {
      ...this.progress,
      flushedSeq: Math.max(this.progress.flushedSeq, sentSeq),
      flushedVersion: Math.max(this.progress.flushedVersion, sentVersion),
      flushedTotal: this.progress.flushedTotal + events.length,
      lastFlushAt: finished,
      lastFlushMs: finished - started,
      lastFlushRows: events.length,
      consecutiveFailures: 0,
      lastError: null,
      resultsFlushed: this.progress.resultsFlushed || results !== null,
    };
    this.store.writePostgresProgress(this.progress);
    this.store.forgetFlushedBefore(this.progress.flushedSeq, this.schedule.forgetBefore().bidRequests);
    recordFlush(this.env.BID_ANALYTICS, session.id, {
      ok: true,
      rows: events.length,
      ms: finished - started,
    });
    this.log("info", "flush", {
      rows: events.length,
      users: liveBids.length,
      ms: finished - started,
      seq: sentSeq,
    });
  }

  // ---- the outbox: events to the webhook queue, at least once ----------------

  /** Starts a send shortly, so the events of batches close together share one `sendBatch`. */
  private sendOutboxSoon(): void {
    if (this.sendingEvents !== null) {
      this.eventsWrittenWhileSending = true;
      return;
    }
    this.outboxTimer ??= setTimeout(() => {
      this.outboxTimer = undefined;
      void this.sendOutbox();
    }, OUTBOX_SEND_DELAY_MS);
  }

  /** Sends the outbox, or joins the send under way; a failure arms the alarm to try again. */
  private sendOutbox(): Promise<void> {
    this.sendingEvents ??= this.sendOutboxToQueue().finally(() => {
      this.sendingEvents = null;
      // Armed once the send counts as finished, so the schedule plans the retry.
      if (this.deliveryFailures > 0) void this.armAlarm();
      if (this.eventsWrittenWhileSending) {
        this.eventsWrittenWhileSending = false;
        this.sendOutboxSoon();
      }
    });
    return this.sendingEvents;
  }

  /**
   * Rows leave the outbox only after the queue has taken them: an eviction
   * or a failure in between sends them again with the same ids (receivers
   * deduplicate on `webhook-id`).
   */
  private async sendOutboxToQueue(): Promise<void> {
    for (;;) {
      const { through, events } = this.store.readOutbox(QUEUE_BATCH_MESSAGES);
      if (events.length === 0) break;
      try {
        await this.env.WEBHOOK_EVENTS.sendBatch(
          events.map((event) => ({ body: { kind: "event", event } satisfies WebhookMessage })),
        );
      } catch (error) {
        this.deliveryFailures += 1;
        this.log("error", "outbox_send_failed", {
          events: events.length,
          failures: this.deliveryFailures,
          error: String(error),
        });
        return;
      }
      this.store.deleteOutboxThrough(through);
    }
    this.deliveryFailures = 0;
  }

  /** Sets the one alarm to the earliest due job, unless it is already set at or before it. */
  private async armAlarm(): Promise<void> {
    const planned = this.plannedAlarm();
    if (planned === null) return;
    const set = this.nextAlarm;
    if (set !== null && set.at <= planned.at && !this.isLost(set)) return;
    this.nextAlarm = planned;
    await this.ctx.storage.setAlarm(planned.at);
  }

  private isLost(alarm: { at: number }): boolean {
    return !this.alarmRunning && alarm.at < Date.now() - LOST_ALARM_MS;
  }

  /** The earliest due job and its time, by the schedule; null without a session or with nothing due. */
  private plannedAlarm(): PlannedAlarm | null {
    const record = this.record;
    if (!record) return null;
    return this.schedule.next({
      endsAt: record.params.endsAt,
      endHandled: record.endHandledAt !== null,
      pendingBids: this.seq - this.progress.flushedSeq,
      sessionChanged: record.version > this.progress.flushedVersion,
      consecutiveFailures: this.progress.consecutiveFailures,
      ...this.store.oldestRemembered(this.progress.flushedSeq),
      undeliveredEvents: this.store.outboxSize(),
      sendingEvents: this.sendingEvents !== null || this.outboxTimer !== undefined,
      deliveryFailures: this.deliveryFailures,
    });
  }

  // ---- helpers ---------------------------------------------------------------

  /**
   * The session's record. An object that was never initialised asks
   * PostgreSQL once; an unknown id is remembered in memory only, so random ids
   * leave nothing in storage.
   */
  private async loadSession(): Promise<SessionRecord | undefined> {
    if (this.record) return this.record;
    if (this.missingCheckedAt !== null && !this.schedule.mayRecheckMissing(this.missingCheckedAt))
      return undefined;
    this.loadingSession ??= this.readSessionFromPostgres().finally(() => {
      this.loadingSession = null;
    });
    return this.loadingSession;
  }

  private async readSessionFromPostgres(): Promise<SessionRecord | undefined> {
    const id = this.ctx.id.name;
    if (!id) return undefined;
    const [row] = await withDatabase(this.env, (db) =>
      db.select().from(biddingSessions).where(eq(biddingSessions.id, id)),
    );
    if (this.record) return this.record;
    if (!row) {
      this.missingCheckedAt = Date.now();
      return undefined;
    }
    await this.initialize({
      id: row.id,
      title: row.title,
      startsAt: row.startsAt.getTime(),
      endsAt: row.endsAt.getTime(),
      minBid: row.minBid,
      minIncrement: row.minIncrement,
      createdAt: row.createdAt.getTime(),
      units: row.units,
      reservePrice: row.reservePrice,
      softClose:
        row.softCloseWindowSeconds === null || row.softCloseExtendSeconds === null
          ? null
          : { windowSeconds: row.softCloseWindowSeconds, extendSeconds: row.softCloseExtendSeconds },
      hardEndsAt: row.hardEndsAt?.getTime(),
      currency: row.currency,
    });
    return this.record;
  }

  private async requireSession(): Promise<Outcome<SessionRecord>> {
    try {
      const record = await this.loadSession();
      return record
        ? { ok: true, value: record }
        : { ok: false, code: "session_not_found", detail: "No bidding session has this id." };
    } catch {
      return {
        ok: false,
        code: "database_unavailable",
        detail: "This session is not loaded yet and the database is unreachable.",
        retryAfterSeconds: 5,
      };
    }
  }

  /** The whole view, admin fields included: the Worker leaves those out for everyone else. */
  private view(session: SessionParams): SessionView {
    const now = Date.now();
    return {
      id: session.id,
      title: session.title,
      startsAt: iso(session.startsAt),
      endsAt: iso(session.endsAt),
      minBid: session.minBid,
      minIncrement: session.minIncrement,
      status: sessionStatus(session, now),
      bidders: this.book.size,
      highestBid: this.book.highest?.amount ?? null,
      createdAt: iso(session.createdAt),
      units: session.units,
      reserveMet: isReserveMet(session.reservePrice, this.book.highest?.amount),
      softClose: session.softClose,
      scheduledEndsAt: iso(session.scheduledEndsAt),
      extensions: session.extensions,
      serverTime: iso(now),
      endsInMs: Math.max(0, session.endsAt - now),
      reservePrice: session.reservePrice,
      hardEndsAt: iso(session.hardEndsAt),
      currency: session.currency,
    };
  }

  private board(limit: number): Leaderboard {
    const record = this.record;
    if (!record) throw new Error("no session to show");
    const now = Date.now();
    return {
      sessionId: record.params.id,
      status: sessionStatus(record.params, now),
      asOf: iso(now),
      total: this.book.size,
      seq: this.seq,
      // Every bidder's username was fetched once, in a batch, when they first bid.
      entries: this.book.top(limit).map((bid, i) => ({
        rank: i + 1,
        userId: bid.userId,
        username: this.users.nameOf(bid.userId) ?? null,
        amount: bid.amount,
        placedAt: iso(bid.placedAt),
      })),
    };
  }

  private log(level: "info" | "error", event: string, fields: Record<string, unknown>): void {
    const line = JSON.stringify({ level, event, sessionId: this.record?.params.id, ...fields });
    if (level === "error") console.error(line);
    else console.log(line);
  }
}

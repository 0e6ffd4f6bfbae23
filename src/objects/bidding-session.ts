import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { Ranking } from "../bidding/ranking";
import { RateLimiter } from "../bidding/rate-limit";
import {
  changeSession,
  refuseBid,
  type SessionChange,
  type SessionParams,
  sessionStatus,
} from "../bidding/rules";
import { type Config, readConfig } from "../config";
import { withDatabase } from "../db/client";
import { biddingSessions } from "../db/schema";
import { problemResponse } from "../http/problem";
import { recordBid, recordFlush } from "../observability/analytics";
import type { Leaderboard } from "../users/leaderboard";
import { writeFlushBatch } from "./flush";
import { KnownUsers } from "./known-users";
import { LiveBoard } from "./live-board";
import type {
  BidReceipt,
  BoardSnapshot,
  MyBid,
  Outcome,
  PlacedBid,
  SessionStats,
  SessionView,
} from "./protocol";
import { type FlushRecord, type LiveBid, SessionStore } from "./session-store";

/** Watchers see at most the top 100, so lower bids change nothing they see. */
const MAX_LIVE_DEPTH = 100;
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const MISSING_SESSION_RECHECK_MS = 30_000;
const MAX_FLUSH_BACKOFF_MS = 60_000;
/** Rows per flush transaction; a larger backlog is drained by back-to-back alarms. */
const MAX_FLUSH_ROWS = 20_000;

const iso = (ms: number) => new Date(ms).toISOString();

export interface BidRequest {
  userId: number;
  amount: number;
  idempotencyKey?: string;
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
  /** Every user's live bid, in leaderboard order. */
  private readonly ranking = new Ranking<LiveBid>();
  private readonly rateLimiter: RateLimiter;
  private session: SessionParams | undefined;
  private sessionVersion = 0;
  private seq = 0;
  private flush: FlushRecord;
  private alarmAt: number | null = null;
  private flushing: Promise<void> | null = null;
  private missingCheckedAt = 0;
  private loadingSession: Promise<SessionParams | undefined> | null = null;
  private readonly live: LiveBoard;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.store = new SessionStore(ctx.storage);
    this.users = new KnownUsers(env, this.store);
    this.rateLimiter = new RateLimiter(this.config.bidRatePerSecond, this.config.bidRateBurst);
    this.live = new LiveBoard(ctx, (limit) => this.namedBoard(limit));
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    // Memory is a cache of storage: rebuilt once per instance, never per
    // request. SQLite reads are synchronous, so only the alarm needs the gate.
    this.flush = this.store.readFlushRecord();
    this.restoreFromStorage();
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  private restoreFromStorage(): void {
    const stored = this.store.readSession();
    if (stored) {
      const { version, ...session } = stored;
      this.session = session;
      this.sessionVersion = version;
    }
    for (const bid of this.store.readLiveBids()) {
      this.ranking.place(bid);
      this.seq = Math.max(this.seq, bid.seq);
    }
  }

  // ---- RPC: session lifecycle -------------------------------------------------

  /** Hands the object its parameters right after the row was written to PostgreSQL. */
  async initialize(session: SessionParams): Promise<SessionView> {
    if (!this.session) {
      this.session = session;
      this.sessionVersion = 1;
      // PostgreSQL already has this version.
      this.flush = { ...this.flush, flushedVersion: 1 };
      this.store.writeSession(session, 1);
      this.store.writeFlushRecord(this.flush);
      await this.armAlarm();
    }
    return this.view(this.session);
  }

  async getSession(): Promise<Outcome<SessionView>> {
    const found = await this.requireSession();
    return found.ok ? { ok: true, value: this.view(found.value) } : found;
  }

  async updateSession(change: SessionChange): Promise<Outcome<SessionView>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const session = found.value;
    const next = changeSession(session, change);
    if ("invalid" in next) return { ok: false, code: "invalid_request", detail: next.invalid };
    this.session = next;
    this.sessionVersion += 1;
    this.store.writeSession(next, this.sessionVersion);
    if (next.endsAt > Date.now() && this.flush.endHandledAt !== null) {
      // Extended past its end: the new end must be handled again.
      this.flush = { ...this.flush, endHandledAt: null };
      this.store.writeFlushRecord(this.flush);
    }
    await this.armAlarm();
    return { ok: true, value: this.view(next) };
  }

  // ---- RPC: bids ------------------------------------------------------------

  async placeBid(request: BidRequest): Promise<Outcome<PlacedBid>> {
    const outcome = await this.decideBid(request);
    if (this.session && !(outcome.ok && outcome.value.replayed)) {
      recordBid(
        this.env.BID_ANALYTICS,
        this.session.id,
        outcome.ok ? "accepted" : outcome.code,
        request.amount,
      );
    }
    return outcome;
  }

  private async decideBid(request: BidRequest): Promise<Outcome<PlacedBid>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const session = found.value;
    const { userId, amount, idempotencyKey } = request;

    const earlier = this.earlierAnswer(userId, amount, idempotencyKey);
    if (earlier) return earlier;

    const retryAfterSeconds = this.rateLimiter.take(userId, Date.now());
    if (retryAfterSeconds > 0) {
      return {
        ok: false,
        code: "rate_limited",
        detail: `At most ${this.config.bidRatePerSecond} bids per second per user.`,
        retryAfterSeconds,
      };
    }

    let awaited = false;
    if (!this.users.has(userId)) {
      awaited = true;
      let exists: boolean;
      try {
        exists = await this.users.ensure(userId);
      } catch {
        return {
          ok: false,
          code: "database_unavailable",
          detail: "Your first bid in this session needs the user directory, which is unreachable.",
          retryAfterSeconds: 5,
        };
      }
      if (!exists) return { ok: false, code: "user_not_found", detail: `No user has id ${userId}.` };
    }

    // From here to the return nothing awaits: the checks and the write see one state.
    return this.acceptBid(this.session ?? session, userId, amount, idempotencyKey, awaited);
  }

  /** The answer already given to this Idempotency-Key, if any: a replay, or a refusal for another body. */
  private earlierAnswer(
    userId: number,
    amount: number,
    idempotencyKey: string | undefined,
  ): Outcome<PlacedBid> | undefined {
    if (idempotencyKey === undefined) return undefined;
    const earlier = this.store.findIdempotencyKey(userId, idempotencyKey);
    if (!earlier) return undefined;
    if (earlier.amount !== amount) {
      return {
        ok: false,
        code: "idempotency_key_reused",
        detail: "This Idempotency-Key was used with a different body.",
      };
    }
    return { ok: true, value: { receipt: JSON.parse(earlier.receipt), replayed: true } };
  }

  private acceptBid(
    session: SessionParams,
    userId: number,
    amount: number,
    idempotencyKey: string | undefined,
    awaited: boolean,
  ): Outcome<PlacedBid> {
    // A retry that raced its own first attempt across the user lookup's await.
    const earlier = awaited ? this.earlierAnswer(userId, amount, idempotencyKey) : undefined;
    if (earlier) return earlier;
    const now = Date.now();
    const previous = this.ranking.bidOf(userId);
    const refusal = refuseBid(session, previous?.amount, amount, now);
    if (refusal) return { ok: false, ...refusal };

    const bid: LiveBid = {
      userId,
      amount,
      seq: this.seq + 1,
      placedAt: now,
      bidCount: (previous?.bidCount ?? 0) + 1,
    };
    const receipt: BidReceipt = {
      sessionId: session.id,
      userId,
      amount,
      // Memory changes only after the write succeeded, so the rank is computed ahead.
      rank: this.ranking.rankIfPlaced(bid),
      placedAt: iso(now),
      seq: bid.seq,
    };
    const idempotency =
      idempotencyKey === undefined ? undefined : { key: idempotencyKey, receipt: JSON.stringify(receipt) };
    // Throws before anything is in memory if the write fails: no half-applied bid.
    this.store.recordBid(bid, idempotency);
    this.seq = bid.seq;
    this.ranking.place(bid);
    if (receipt.rank <= MAX_LIVE_DEPTH) this.live.changed();
    if (this.alarmAt === null || this.alarmAt > now + this.config.flushIntervalMs) void this.armAlarm();
    return { ok: true, value: { receipt, replayed: false } };
  }

  async myBid(userId: number): Promise<Outcome<MyBid>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const session = found.value;
    const bid = this.ranking.bidOf(userId);
    const rank = this.ranking.rankOf(userId);
    if (!bid || rank === undefined) {
      return { ok: false, code: "no_bid", detail: "You have no bid in this session." };
    }
    return {
      ok: true,
      value: {
        sessionId: session.id,
        userId,
        amount: bid.amount,
        rank,
        placedAt: iso(bid.placedAt),
        seq: bid.seq,
        bidCount: bid.bidCount,
      },
    };
  }

  async leaderboard(limit: number): Promise<Outcome<BoardSnapshot>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const session = found.value;
    return { ok: true, value: this.snapshot(session, limit) };
  }

  async stats(): Promise<Outcome<SessionStats>> {
    const found = await this.requireSession();
    if (!found.ok) return found;
    const session = found.value;
    const oldest = this.store.oldestPendingAt(this.flush.flushedSeq);
    const f = this.flush;
    return {
      ok: true,
      value: {
        sessionId: session.id,
        seq: this.seq,
        flushedSeq: f.flushedSeq,
        pendingBids: this.seq - f.flushedSeq,
        oldestPendingAgeMs: oldest === null ? null : Date.now() - oldest,
        lastFlushAt: f.lastFlushAt === null ? null : iso(f.lastFlushAt),
        lastFlushDurationMs: f.lastFlushMs,
        lastFlushRows: f.lastFlushRows,
        totalFlushed: f.flushedTotal,
        consecutiveFlushFailures: f.consecutiveFailures,
        totalFlushFailures: f.totalFailures,
        lastFlushError: f.lastError,
        nextAlarmAt: this.alarmAt === null ? null : iso(this.alarmAt),
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
    const limit = Number(new URL(request.url).searchParams.get("limit") ?? "50");
    const [client, server] = Object.values(new WebSocketPair());
    if (!client || !server) throw new Error("WebSocketPair gave no sockets");
    this.live.accept(server, limit);
    if (this.flush.endHandledAt !== null) this.live.announceEnd();
    return new Response(null, { status: 101, webSocket: client });
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

  private namedBoard(limit: number): Leaderboard {
    const session = this.session;
    if (!session) throw new Error("no session to show");
    const snapshot = this.snapshot(session, limit);
    // Every bidder's username was fetched once, in a batch, when they first bid.
    return {
      ...snapshot,
      entries: snapshot.entries.map((entry) => ({
        ...entry,
        username: this.users.nameOf(entry.userId) ?? null,
      })),
    };
  }

  // ---- the alarm: flush, end of session, housekeeping -------------------------

  override async alarm(): Promise<void> {
    try {
      const session = this.session;
      if (!session) return;
      await this.flushPending(session);
      const now = Date.now();
      if (this.flush.consecutiveFailures === 0 && now >= session.endsAt && this.flush.endHandledAt === null) {
        this.flush = { ...this.flush, endHandledAt: now };
        this.store.writeFlushRecord(this.flush);
        this.live.announceEnd();
      }
      this.store.forgetIdempotencyKeysBefore(now - IDEMPOTENCY_TTL_MS);
    } finally {
      // The fired alarm counts as set until here, so bids accepted during the
      // flush leave the next alarm to this point, where the backoff this
      // flush's outcome calls for is known. Never throw: the platform's own
      // retries run out, ours do not.
      this.alarmAt = null;
      await this.armAlarm();
    }
  }

  /** Sends every pending row to PostgreSQL; on failure they stay pending. */
  private flushPending(session: SessionParams): Promise<void> {
    this.flushing ??= this.writePending(session).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writePending(session: SessionParams): Promise<void> {
    const events = this.store.readPendingBids(this.flush.flushedSeq, MAX_FLUSH_ROWS);
    const sessionDirty = this.sessionVersion > this.flush.flushedVersion;
    if (events.length === 0 && !sessionDirty) return;
    // Read in the same synchronous step as `events`, so each live bid matches
    // its user's last event in the batch... unless a later bid of that user is
    // beyond the batch limit; then the live bid is newer, which the seq guard
    // in PostgreSQL accepts and a later flush repeats harmlessly.
    const users = new Set(events.map((e) => e.userId));
    const liveBids = [...users].flatMap((id) => this.ranking.bidOf(id) ?? []);
    const sentSeq = events.at(-1)?.seq ?? this.flush.flushedSeq;
    const sentVersion = this.sessionVersion;
    const started = Date.now();
    try {
      await withDatabase(this.env, (db) =>
        writeFlushBatch(db, {
          sessionId: session.id,
          events,
          liveBids,
          session: sessionDirty ? session : undefined,
        }),
      );
    } catch (error) {
      const message =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      this.flush = {
        ...this.flush,
        consecutiveFailures: this.flush.consecutiveFailures + 1,
        totalFailures: this.flush.totalFailures + 1,
        lastError: message,
      };
      this.store.writeFlushRecord(this.flush);
      recordFlush(this.env.BID_ANALYTICS, session.id, {
        ok: false,
        rows: events.length,
        ms: Date.now() - started,
      });
      this.log("error", "flush_failed", {
        rows: events.length,
        error: message,
        failures: this.flush.consecutiveFailures,
      });
      return;
    }
    const finished = Date.now();
    // The watermark moves to what was sent, not to the current seq: bids that
    // arrived while PostgreSQL was busy stay pending for the next flush.
    this.flush = {
      ...this.flush,
      flushedSeq: Math.max(this.flush.flushedSeq, sentSeq),
      flushedVersion: Math.max(this.flush.flushedVersion, sentVersion),
      flushedTotal: this.flush.flushedTotal + events.length,
      lastFlushAt: finished,
      lastFlushMs: finished - started,
      lastFlushRows: events.length,
      consecutiveFailures: 0,
      lastError: null,
    };
    this.store.writeFlushRecord(this.flush);
    this.store.forgetPendingThrough(this.flush.flushedSeq);
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

  /** One alarm serves every purpose; it is always set to the earliest due time. */
  private async armAlarm(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const now = Date.now();
    const { consecutiveFailures: failures, flushedSeq, flushedVersion, endHandledAt } = this.flush;
    const endDue = endHandledAt === null ? Math.max(now, session.endsAt) : Number.POSITIVE_INFINITY;
    let next = endDue;
    if (this.seq > flushedSeq || this.sessionVersion > flushedVersion) {
      if (failures > 0) {
        // Retry for as long as PostgreSQL is down, backing off to a minute.
        next = now + Math.min(this.config.flushIntervalMs * 2 ** (failures - 1), MAX_FLUSH_BACKOFF_MS);
      } else {
        // A backlog larger than one batch drains right away; the end of the session flushes at once.
        const backlog = this.seq - flushedSeq > MAX_FLUSH_ROWS;
        next = Math.min(backlog ? now : now + this.config.flushIntervalMs, endDue);
      }
    }
    if (!Number.isFinite(next)) return;
    if (this.alarmAt !== null && this.alarmAt <= next) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  // ---- helpers ---------------------------------------------------------------

  /**
   * The session's parameters. An object that was never initialised asks
   * PostgreSQL once; an unknown id is remembered in memory only, so random ids
   * leave nothing in storage.
   */
  private async loadSession(): Promise<SessionParams | undefined> {
    if (this.session) return this.session;
    if (Date.now() - this.missingCheckedAt < MISSING_SESSION_RECHECK_MS) return undefined;
    this.loadingSession ??= this.readSessionFromPostgres().finally(() => {
      this.loadingSession = null;
    });
    return this.loadingSession;
  }

  private async readSessionFromPostgres(): Promise<SessionParams | undefined> {
    const id = this.ctx.id.name;
    if (!id) return undefined;
    const [row] = await withDatabase(this.env, (db) =>
      db.select().from(biddingSessions).where(eq(biddingSessions.id, id)),
    );
    if (this.session) return this.session;
    if (!row) {
      this.missingCheckedAt = Date.now();
      return undefined;
    }
    const session: SessionParams = {
      id: row.id,
      title: row.title,
      startsAt: row.startsAt.getTime(),
      endsAt: row.endsAt.getTime(),
      minBid: row.minBid,
      minIncrement: row.minIncrement,
      createdAt: row.createdAt.getTime(),
    };
    return this.initialize(session).then(() => session);
  }

  private async requireSession(): Promise<Outcome<SessionParams>> {
    try {
      const session = await this.loadSession();
      return session
        ? { ok: true, value: session }
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

  private view(session: SessionParams): SessionView {
    return {
      id: session.id,
      title: session.title,
      startsAt: iso(session.startsAt),
      endsAt: iso(session.endsAt),
      minBid: session.minBid,
      minIncrement: session.minIncrement,
      status: sessionStatus(session, Date.now()),
      bidders: this.ranking.size,
      highestBid: this.ranking.highest?.amount ?? null,
      createdAt: iso(session.createdAt),
    };
  }

  private snapshot(session: SessionParams, limit: number): BoardSnapshot {
    const now = Date.now();
    return {
      sessionId: session.id,
      status: sessionStatus(session, now),
      asOf: iso(now),
      total: this.ranking.size,
      seq: this.seq,
      entries: this.ranking.top(limit).map((bid, i) => ({
        rank: i + 1,
        userId: bid.userId,
        amount: bid.amount,
        placedAt: iso(bid.placedAt),
      })),
    };
  }

  private log(level: "info" | "error", event: string, fields: Record<string, unknown>): void {
    const line = JSON.stringify({ level, event, sessionId: this.session?.id, ...fields });
    if (level === "error") console.error(line);
    else console.log(line);
  }
}

import { DurableObject } from "cloudflare:workers";
import { problemResponse } from "../api/problem";
import type {
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
} from "../api/session-protocol";
import { toIso } from "../api/time";
import { RateLimiter } from "../bidding/rate-limit";
import {
  changeSession,
  type NewSessionParams,
  type SessionChange,
  withAuctionDefaults,
} from "../bidding/rules";
import { type Config, readConfig } from "../config/config";
import { readSessionParams } from "../db/session-row";
import { Pseudonyms } from "../history/pseudonym";
import { Alarm } from "./alarm";
import { AlarmSchedule, defaultScheduleSettings, type ScheduleInputs } from "./alarm-schedule";
import { BidPlacement } from "./bid-placement";
import { CallBatcher } from "./call-batcher";
import { KnownUsers } from "./known-users";
import { LiveBoard } from "./live-board";
import { PostgresFlusher } from "./postgres-flusher";
import { RequestMemory } from "./request-memory";
import { SessionEnd } from "./session-end";
import { SessionGate } from "./session-gate";
import { sessionLog } from "./session-log";
import { SessionMemory } from "./session-memory";
import { SessionStore } from "./session-store";
import { SessionViews } from "./session-views";
import { WebhookOutbox } from "./webhook-outbox";

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });

/**
 * One bidding session. It serialises the session's bids, answers reads from
 * memory, stores every accepted bid in its SQLite before answering, and
 * flushes them to PostgreSQL from its alarm.
 *
 * This class is wiring: the platform's hooks and the RPC methods, each
 * handed to the part that owns the concern. The object is the only writer
 * of its session's parameters (PATCH goes through it) and status is a
 * function of the clock, so nothing changes behind its back and nothing it
 * holds needs a TTL.
 */
export class BiddingSession extends DurableObject<Env> {
  private readonly config: Config;
  private readonly store: SessionStore;
  private readonly memory = new SessionMemory();
  private readonly users: KnownUsers;
  private readonly views: SessionViews;
  private readonly live: LiveBoard;
  private readonly outbox: WebhookOutbox;
  private readonly flusher: PostgresFlusher;
  private readonly end: SessionEnd;
  private readonly schedule: AlarmSchedule;
  private readonly alarmClock: Alarm;
  private readonly gate: SessionGate;
  private readonly bids: CallBatcher<BidRequest, Outcome<PlacedBid>>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    const log = sessionLog(() => this.memory.sessionId);
    this.store = new SessionStore(ctx.storage);
    this.users = new KnownUsers(env, this.store);
    this.views = new SessionViews(this.memory, this.users, this.store);
    this.live = new LiveBoard(ctx, (limit) => this.views.liveBoard(limit));
    this.schedule = new AlarmSchedule({
      ...defaultScheduleSettings,
      flushIntervalMs: this.config.flushIntervalMs,
    });
    this.alarmClock = new Alarm(ctx.storage, this.schedule, () => this.scheduleInputs());
    this.outbox = new WebhookOutbox(
      this.store.outbox,
      env.WEBHOOK_EVENTS,
      () => void this.alarmClock.arm(),
      log,
    );
    this.flusher = new PostgresFlusher(
      env,
      this.store,
      ctx.storage.sql,
      this.memory,
      defaultScheduleSettings.maxFlushRows,
      log,
    );
    this.end = new SessionEnd(this.memory, this.store, this.outbox, this.live, this.views);
    this.gate = new SessionGate(
      this.memory,
      (checkedAt) => this.schedule.mayRecheckMissing(checkedAt),
      () => (ctx.id.name ? readSessionParams(env, ctx.id.name) : Promise.resolve(undefined)),
      (params) => this.create(params),
    );
    const pseudonyms = new Pseudonyms(env.JWT_SECRET);
    const placement = new BidPlacement({
      env,
      gate: this.gate,
      memory: this.memory,
      users: this.users,
      limiter: new RateLimiter(this.config.bidRatePerSecond, this.config.bidRateBurst),
      pseudonyms,
      requests: new RequestMemory(this.store.requests, this.memory, pseudonyms),
      store: this.store,
      live: this.live,
      outbox: this.outbox,
      alarm: this.alarmClock,
      log,
      config: this.config,
    });
    this.bids = new CallBatcher((requests) => placement.place(requests));
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    // Memory is a cache of storage, rebuilt once per instance; an object never created reads and writes nothing.
    if (this.store.exists()) {
      this.store.migrate();
      this.memory.restore(this.store);
      this.users.restore();
      this.flusher.restore();
    }
    void ctx.blockConcurrencyWhile(() => this.alarmClock.restore());
  }

  // ---- RPC: the session --------------------------------------------------------

  /** Hands the object its parameters right after the row was written to PostgreSQL (v1 Workers send no auction rules). */
  async initialize(session: NewSessionParams): Promise<SessionView> {
    await this.create(session);
    const record = this.memory.record;
    if (!record) throw new Error("the session was not created");
    return this.views.session(record.params);
  }

  getSession(): Promise<Outcome<SessionView>> {
    return this.gate.withSession((record) => ok(this.views.session(record.params)));
  }

  updateSession(change: SessionChange): Promise<Outcome<SessionView>> {
    return this.gate.withSession(async (record) => {
      const next = changeSession(record.params, change, Date.now());
      if ("refused" in next) return { ok: false, ...next.refused };
      this.memory.record = { ...record, params: next, version: record.version + 1 };
      this.store.writeSession(this.memory.record);
      await this.alarmClock.arm();
      return ok(this.views.session(next));
    });
  }

  // ---- RPC: bids ---------------------------------------------------------------

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
  placeBids(requests: BidRequest[]): Promise<Outcome<PlacedBid>[]> {
    return this.bids.join(requests);
  }

  myBid(userId: number): Promise<Outcome<MyBid>> {
    return this.gate.withSession((record) => this.views.myBid(record, userId));
  }

  standing(userId: number): Promise<Outcome<BidStanding>> {
    return this.gate.withSession((record) => this.views.standing(record, userId));
  }

  // ---- RPC: reads --------------------------------------------------------------

  leaderboard(limit: number): Promise<Outcome<Leaderboard>> {
    return this.gate.withSession((record) => ok(this.views.board(record, limit)));
  }

  /** What this object holds of the history page after `afterSeq` (src/history/merge.ts). */
  history(afterSeq: number, limit: number): Promise<Outcome<HeldHistory>> {
    return this.gate.withSession(() =>
      ok(this.views.history(afterSeq, limit, this.flusher.progress.flushedSeq)),
    );
  }

  /** The results, fixed at the end (here, if no alarm has fixed them yet). */
  results(): Promise<Outcome<Results>> {
    return this.gate.withSession((record) => {
      const results = this.end.results();
      if (!results) {
        const detail = `Results are fixed when the session ends, at ${toIso(record.params.endsAt)}.`;
        return { ok: false, code: "session_not_ended", detail };
      }
      return ok(this.views.results(record.params.id, results));
    });
  }

  stats(): Promise<Outcome<SessionStats>> {
    return this.gate.withSession((record) => {
      const oldestPendingAt = this.store.oldestPendingAt(this.flusher.progress.flushedSeq);
      const now = { oldestPendingAt, nextAlarm: this.alarmClock.next, openSockets: this.live.sockets };
      return ok(this.views.stats(record, this.flusher.progress, now));
    });
  }

  // ---- live updates: WebSockets through the hibernation API ---------------------

  /** Only WebSocket upgrades reach `fetch`; everything else is RPC. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return problemResponse("upgrade_required", "Connect with a WebSocket upgrade.", {
        Upgrade: "websocket",
      });
    }
    const found = await this.gate.withSession((record) => ok(record));
    if (!found.ok) return problemResponse(found.code, found.detail);
    const response = this.live.connect(request, this.config.liveSocketsPerSession);
    if (response.status === 101 && found.value.endHandledAt !== null)
      this.live.announceEnd(this.end.announced());
    return response;
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

  // ---- the alarm: the jobs that are due --------------------------------------------

  override async alarm(): Promise<void> {
    if (!this.memory.record) return;
    await this.alarmClock.run(async () => {
      // Fixed before the flush, so the final flush carries them.
      this.end.results();
      await this.flusher.flush();
      this.end.handleOnce();
      const before = this.schedule.forgetBefore();
      this.store.requests.forgetIdempotencyKeysBefore(before.idempotencyKeys);
      this.store.requests.forgetFlushedBefore(this.flusher.progress.flushedSeq, before.bidRequests);
      // Whatever an eviction or a failed send left in the outbox (and the end's event).
      await this.outbox.send();
    });
  }

  // ---- inside the object -----------------------------------------------------------

  /** Creates the session's storage once (PostgreSQL already has the row, this version of it). */
  private async create(session: NewSessionParams): Promise<void> {
    if (this.memory.record) return;
    this.store.migrate();
    this.memory.record = {
      params: withAuctionDefaults(session),
      version: 1,
      endHandledAt: null,
      results: null,
    };
    this.store.writeSession(this.memory.record);
    this.flusher.createdAt(1);
    await this.alarmClock.arm();
  }

  /** What the alarm schedule needs to know; null without a session. */
  private scheduleInputs(): ScheduleInputs | null {
    const record = this.memory.record;
    if (!record) return null;
    const progress = this.flusher.progress;
    return {
      endsAt: record.params.endsAt,
      endHandled: record.endHandledAt !== null,
      pendingBids: this.flusher.pendingBids,
      sessionChanged: record.version > progress.flushedVersion,
      consecutiveFailures: progress.consecutiveFailures,
      ...this.store.requests.oldestRemembered(progress.flushedSeq),
      undeliveredEvents: this.store.outbox.size(),
      sendingEvents: this.outbox.busy,
      deliveryFailures: this.outbox.failures,
    };
  }
}

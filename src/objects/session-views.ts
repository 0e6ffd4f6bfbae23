import type {
  BidStanding,
  HeldHistory,
  Leaderboard,
  LiveLeaderboard,
  MyBid,
  Outcome,
  Results,
  SessionStats,
  SessionView,
} from "../api/session-protocol";
import { toIso } from "../api/time";
import { isReserveMet } from "../bidding/auction";
import { type SessionParams, sessionStatus } from "../bidding/rules";
import type { SessionRecord, SessionResults } from "../bidding/session-record";
import { heldRun, MAX_PAGE_ROWS } from "../history/merge";
import type { PlannedAlarm } from "./alarm-schedule";
import type { PostgresProgress } from "./flush-progress";
import type { KnownUsers } from "./known-users";
import type { SessionMemory } from "./session-memory";
import type { SessionStore } from "./session-store";

const noBid = { ok: false, code: "no_bid", detail: "You have no bid in this session." } as const;

/**
 * What the object answers about its session, read from memory: the session,
 * the board, a bidder's own bid, the results, the rows it holds of a history
 * page, its flush stats. Usernames are the ones it holds (fetched once per bidder in a batch);
 * null for any it lacks.
 */
export class SessionViews {
  constructor(
    private readonly memory: SessionMemory,
    private readonly users: KnownUsers,
    private readonly store: SessionStore,
  ) {}

  /** The whole view, admin fields included: the Worker leaves those out for everyone else. */
  session(params: SessionParams): SessionView {
    const now = Date.now();
    const { book } = this.memory;
    return {
      id: params.id,
      title: params.title,
      startsAt: toIso(params.startsAt),
      endsAt: toIso(params.endsAt),
      minBid: params.minBid,
      minIncrement: params.minIncrement,
      status: sessionStatus(params, now),
      bidders: book.size,
      highestBid: book.highest?.amount ?? null,
      createdAt: toIso(params.createdAt),
      units: params.units,
      reserveMet: isReserveMet(params.reservePrice, book.highest?.amount),
      softClose: params.softClose,
      scheduledEndsAt: toIso(params.scheduledEndsAt),
      extensions: params.extensions,
      serverTime: toIso(now),
      endsInMs: Math.max(0, params.endsAt - now),
      reservePrice: params.reservePrice,
      hardEndsAt: toIso(params.hardEndsAt),
      currency: params.currency,
      headSeq: this.memory.seq,
      headHash: this.memory.headHash,
    };
  }

  board(record: SessionRecord, limit: number): Leaderboard {
    const now = Date.now();
    const { book, seq } = this.memory;
    return {
      sessionId: record.params.id,
      status: sessionStatus(record.params, now),
      asOf: toIso(now),
      total: book.size,
      seq,
      entries: book.top(limit).map((bid, i) => ({
        rank: i + 1,
        userId: bid.userId,
        username: this.users.nameOf(bid.userId) ?? null,
        amount: bid.amount,
        placedAt: toIso(bid.placedAt),
      })),
    };
  }

  /** The board of a live message: the bid log's head with it. */
  liveBoard(limit: number): LiveLeaderboard {
    const record = this.memory.record;
    if (!record) throw new Error("no session to show");
    return { ...this.board(record, limit), headHash: this.memory.headHash };
  }

  myBid(record: SessionRecord, userId: number): Outcome<MyBid> {
    const { book } = this.memory;
    const bid = book.bidOf(userId);
    const rank = book.rankOf(userId);
    if (!bid || rank === undefined) return noBid;
    return {
      ok: true,
      value: {
        sessionId: record.params.id,
        userId,
        amount: bid.amount,
        rank,
        placedAt: toIso(bid.placedAt),
        seq: bid.seq,
        bidCount: bid.bidCount,
        maxAmount: bid.maxAmount,
      },
    };
  }

  /** The caller's live bid with its rank and whether it wins, as of this instant. */
  standing(record: SessionRecord, userId: number): Outcome<BidStanding> {
    const { params, results } = record;
    const { book } = this.memory;
    const bid = book.bidOf(userId);
    const rank = book.rankOf(userId);
    if (!bid || rank === undefined) return noBid;
    const winning = results
      ? results.winners.some((winner) => winner.userId === userId)
      : rank <= params.units && isReserveMet(params.reservePrice, bid.amount);
    return {
      ok: true,
      value: { status: sessionStatus(params, Date.now()), amount: bid.amount, rank, winning },
    };
  }

  results(sessionId: string, results: SessionResults): Results {
    return {
      sessionId,
      closedAt: toIso(results.closedAt),
      finalSeq: results.finalSeq,
      finalHash: results.finalHash ?? null,
      reserveMet: results.reserveMet,
      winners: results.winners.map((w) => ({
        rank: w.rank,
        userId: w.userId,
        username: this.users.nameOf(w.userId) ?? null,
        amount: w.amount,
      })),
    };
  }

  /** How far PostgreSQL has caught up with the session, how the flushes went, what is due next. */
  stats(
    record: SessionRecord,
    progress: PostgresProgress,
    now: { oldestPendingAt: number | null; nextAlarm: PlannedAlarm | null; openSockets: number },
  ): SessionStats {
    const { oldestPendingAt, nextAlarm, openSockets } = now;
    return {
      sessionId: record.params.id,
      seq: this.memory.seq,
      flushedSeq: progress.flushedSeq,
      pendingBids: this.memory.seq - progress.flushedSeq,
      oldestPendingAgeMs: oldestPendingAt === null ? null : Date.now() - oldestPendingAt,
      lastFlushAt: progress.lastFlushAt === null ? null : toIso(progress.lastFlushAt),
      lastFlushDurationMs: progress.lastFlushMs,
      lastFlushRows: progress.lastFlushRows,
      totalFlushed: progress.flushedTotal,
      consecutiveFlushFailures: progress.consecutiveFailures,
      totalFlushFailures: progress.totalFailures,
      lastFlushError: progress.lastError,
      nextAlarmAt: nextAlarm === null ? null : toIso(nextAlarm.at),
      nextAlarmJob: nextAlarm?.job ?? null,
      openSockets,
    };
  }

  /**
   * What the object holds of the history page after `afterSeq`: its pending
   * rows (and flushed ones not yet pruned) that the page can use, read in the
   * same synchronous step as the watermark, so PostgreSQL is known to hold
   * everything before them (src/history/merge.ts).
   */
  history(afterSeq: number, limit: number, flushedSeq: number): HeldHistory {
    const size = Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_ROWS);
    const held = heldRun(this.store.readPendingBids(afterSeq, size), afterSeq, size);
    return {
      flushedSeq,
      seq: this.memory.seq,
      bids: held.map((bid) => ({ ...bid, username: this.users.nameOf(bid.userId) ?? null })),
    };
  }
}

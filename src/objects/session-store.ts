import type { SoftClose } from "../bidding/auction";
import type { LiveBid } from "../bidding/bid-book";
import type { SessionParams } from "../bidding/rules";
import type { WebhookEvent } from "../webhooks/events";
import type { BidReceipt } from "./protocol";

export type { LiveBid };

import { STORE_VERSION, storeMigrations } from "./store-migrations";

/** One accepted bid as stored in the object until it reaches PostgreSQL. */
export interface PendingBid {
  seq: number;
  userId: number;
  amount: number;
  placedAt: number;
  auto: boolean;
}

/** The winners, fixed once at the end. */
export interface SessionResults {
  closedAt: number;
  finalSeq: number;
  reserveMet: boolean;
  winners: { rank: number; userId: number; amount: number; seq: number }[];
}

/** The session's parameters as the object holds them. */
export interface SessionRecord {
  params: SessionParams;
  /** Bumped by every change; PostgreSQL has `PostgresProgress.flushedVersion`. */
  version: number;
  /** When the end was handled (final flush sent, sockets told); null while it is still ahead. */
  endHandledAt: number | null;
  /** Fixed once, at the end; never changed afterwards. */
  results: SessionResults | null;
}

/** How far PostgreSQL has caught up with this object, and how the flushes went. */
export interface PostgresProgress {
  /** Every bid up to this seq is in PostgreSQL. */
  flushedSeq: number;
  /** The session version PostgreSQL has (PATCHes are flushed like bids). */
  flushedVersion: number;
  flushedTotal: number;
  lastFlushAt: number | null;
  lastFlushMs: number | null;
  lastFlushRows: number | null;
  consecutiveFailures: number;
  totalFailures: number;
  lastError: string | null;
  /** PostgreSQL has the results. */
  resultsFlushed: boolean;
}

export const noProgress: PostgresProgress = {
  flushedSeq: 0,
  flushedVersion: 0,
  flushedTotal: 0,
  lastFlushAt: null,
  lastFlushMs: null,
  lastFlushRows: null,
  consecutiveFailures: 0,
  totalFailures: 0,
  lastError: null,
  resultsFlushed: false,
};

/** An accepted bid with everything stored alongside it; automatic raises have no receipt of their own. */
export interface AcceptedBid {
  bid: LiveBid;
  receipt?: BidReceipt;
  /** The request body an Idempotency-Key is remembered with (see `bodyKey`). */
  idempotency?: { key: string; body: string };
  requestId?: string;
}

/** What an Idempotency-Key retry must repeat: the kind of bid and its figure. */
export const bodyKey = (order: { amount?: number; maxAmount?: number }): string =>
  order.maxAmount === undefined ? `amount:${order.amount}` : `maxAmount:${order.maxAmount}`;

type Row = Record<string, SqlStorageValue>;

const num = (row: Row, column: string): number => Number(row[column]);
const pendingBidOf = (row: Row): PendingBid => ({
  seq: num(row, "seq"),
  userId: num(row, "user_id"),
  amount: num(row, "amount"),
  placedAt: num(row, "placed_at"),
  auto: row.auto === 1,
});
const numOrNull = (row: Row, column: string): number | null =>
  row[column] === null || row[column] === undefined ? null : Number(row[column]);

/**
 * The object's SQLite: every statement the session object runs, in one place.
 * Constructing it writes nothing: an object that is never created keeps an
 * empty storage (no tables), whatever is asked of it.
 */
export class SessionStore {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** True once `create` has run in this object, now or in an earlier life. */
  exists(): boolean {
    return (
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'").toArray()
        .length > 0
    );
  }

  /** The stored schema version: 0 for an empty store and for one made before versioning. */
  version(): number {
    const table = this.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_version'")
      .toArray();
    if (table.length === 0) return 0;
    const row = this.sql.exec<Row>("SELECT version FROM store_version").toArray()[0];
    return row ? num(row, "version") : 0;
  }

  /** Brings the schema to the latest version, in one transaction; creates it in an empty store. */
  migrate(): void {
    const from = this.version();
    if (from >= STORE_VERSION) return;
    this.storage.transactionSync(() => {
      for (const migration of storeMigrations.slice(from)) this.sql.exec(migration);
      this.sql.exec("CREATE TABLE IF NOT EXISTS store_version (version INTEGER NOT NULL)");
      this.sql.exec("DELETE FROM store_version");
      this.sql.exec("INSERT INTO store_version (version) VALUES (?)", STORE_VERSION);
    });
  }

  readSession(): SessionRecord | undefined {
    const row = this.sql.exec<Row>("SELECT * FROM session LIMIT 1").toArray()[0];
    if (!row) return undefined;
    const softClose: SoftClose | null = row.soft_close === null ? null : JSON.parse(String(row.soft_close));
    const results: SessionResults | null = row.results === null ? null : JSON.parse(String(row.results));
    return {
      params: {
        id: String(row.id),
        title: String(row.title),
        startsAt: num(row, "starts_at"),
        endsAt: num(row, "ends_at"),
        minBid: num(row, "min_bid"),
        minIncrement: num(row, "min_increment"),
        createdAt: num(row, "created_at"),
        units: num(row, "units"),
        reservePrice: numOrNull(row, "reserve_price"),
        softClose,
        hardEndsAt: num(row, "hard_ends_at"),
        scheduledEndsAt: num(row, "scheduled_ends_at"),
        extensions: num(row, "extensions"),
        currency: String(row.currency),
      },
      version: num(row, "version"),
      endHandledAt: numOrNull(row, "end_handled_at"),
      results,
    };
  }

  writeSession(record: SessionRecord): void {
    const { params: s, version, endHandledAt, results } = record;
    this.sql.exec(
      `INSERT OR REPLACE INTO session
         (id, title, starts_at, ends_at, min_bid, min_increment, created_at, version, end_handled_at,
          units, reserve_price, soft_close, hard_ends_at, scheduled_ends_at, extensions, results, currency)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.id,
      s.title,
      s.startsAt,
      s.endsAt,
      s.minBid,
      s.minIncrement,
      s.createdAt,
      version,
      endHandledAt,
      s.units,
      s.reservePrice,
      s.softClose === null ? null : JSON.stringify(s.softClose),
      s.hardEndsAt,
      s.scheduledEndsAt,
      s.extensions,
      results === null ? null : JSON.stringify(results),
      s.currency,
    );
  }

  readLiveBids(): LiveBid[] {
    return this.sql
      .exec<Row>(
        "SELECT user_id, amount, seq, tie_seq, bid_count, placed_at, max_amount, auto FROM live_bids",
      )
      .toArray()
      .map((row) => ({
        userId: num(row, "user_id"),
        amount: num(row, "amount"),
        seq: num(row, "seq"),
        tieSeq: num(row, "tie_seq"),
        bidCount: num(row, "bid_count"),
        placedAt: num(row, "placed_at"),
        maxAmount: numOrNull(row, "max_amount"),
        auto: row.auto === 1,
      }));
  }

  /**
   * Stores a batch of accepted bids in one transaction: each live bid, its
   * pending history row, its idempotency key and request id, the session
   * row when the batch changed it (a soft-close extension), and the events
   * the batch caused, in the outbox. All or nothing.
   */
  recordBids(
    accepted: readonly AcceptedBid[],
    session?: SessionRecord,
    events: readonly WebhookEvent[] = [],
  ): void {
    this.storage.transactionSync(() => {
      for (const one of accepted) this.writeBid(one);
      if (session) this.writeSession(session);
      this.writeEvents(events);
    });
  }

  /** The session row with its results and the `session.ended` event, in one transaction. */
  recordResults(session: SessionRecord, event: WebhookEvent): void {
    this.storage.transactionSync(() => {
      this.writeSession(session);
      this.writeEvents([event]);
    });
  }

  /** An event already in the outbox (the same id) is not written twice. */
  private writeEvents(events: readonly WebhookEvent[]): void {
    for (const event of events) {
      this.sql.exec(
        "INSERT OR IGNORE INTO outbox (id, event, created_at) VALUES (?, ?, ?)",
        event.id,
        JSON.stringify(event),
        Date.parse(event.timestamp),
      );
    }
  }

  /** The oldest `limit` events not yet taken by the queue, with the position to delete through. */
  readOutbox(limit: number): { through: number; events: WebhookEvent[] } {
    const rows = this.sql.exec<Row>("SELECT pos, event FROM outbox ORDER BY pos LIMIT ?", limit).toArray();
    const last = rows.at(-1);
    return {
      through: last ? num(last, "pos") : 0,
      events: rows.map((row) => JSON.parse(String(row.event))),
    };
  }

  /** The queue has the events up to `pos`. */
  deleteOutboxThrough(pos: number): void {
    this.sql.exec("DELETE FROM outbox WHERE pos <= ?", pos);
  }

  outboxSize(): number {
    const row = this.sql.exec<Row>("SELECT count(*) AS n FROM outbox").toArray()[0];
    return row ? num(row, "n") : 0;
  }

  private writeBid({ bid, receipt, idempotency, requestId }: AcceptedBid): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO live_bids (user_id, amount, seq, tie_seq, bid_count, placed_at, max_amount, auto)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      bid.userId,
      bid.amount,
      bid.seq,
      bid.tieSeq,
      bid.bidCount,
      bid.placedAt,
      bid.maxAmount,
      bid.auto ? 1 : 0,
    );
    this.sql.exec(
      "INSERT INTO pending_bids (seq, user_id, amount, placed_at, auto, request_id) VALUES (?, ?, ?, ?, ?, ?)",
      bid.seq,
      bid.userId,
      bid.amount,
      bid.placedAt,
      bid.auto ? 1 : 0,
      requestId ?? null,
    );
    if (receipt === undefined || idempotency === undefined) return;
    this.sql.exec(
      "INSERT INTO idempotency_keys (user_id, key, amount, body, receipt, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      bid.userId,
      idempotency.key,
      receipt.amount,
      idempotency.body,
      JSON.stringify(receipt),
      bid.placedAt,
    );
  }

  /** The body and receipt an Idempotency-Key was first used with. */
  findIdempotencyKey(userId: number, key: string): { body: string; receipt: BidReceipt } | undefined {
    const row = this.sql
      .exec<Row>(
        "SELECT amount, body, receipt FROM idempotency_keys WHERE user_id = ? AND key = ?",
        userId,
        key,
      )
      .toArray()[0];
    if (!row) return undefined;
    // Keys stored before proxy bids existed were always plain amounts.
    const body = row.body === null ? bodyKey({ amount: num(row, "amount") }) : String(row.body);
    return { body, receipt: JSON.parse(String(row.receipt)) };
  }

  /** The bid a request of the Worker's was accepted as, while its history row is kept. */
  findBidRequest(requestId: string): PendingBid | undefined {
    const row = this.sql
      .exec<Row>(
        "SELECT seq, user_id, amount, placed_at, auto FROM pending_bids WHERE request_id = ?",
        requestId,
      )
      .toArray()[0];
    return row ? pendingBidOf(row) : undefined;
  }

  /** When the oldest idempotency key and the oldest flushed history row were stored (null: none). */
  oldestRemembered(flushedSeq: number): {
    oldestIdempotencyKeyAt: number | null;
    oldestBidRequestAt: number | null;
  } {
    const row = this.sql
      .exec<Row>(
        `SELECT (SELECT min(created_at) FROM idempotency_keys) AS keys,
                (SELECT min(placed_at) FROM pending_bids WHERE seq <= ?) AS requests`,
        flushedSeq,
      )
      .toArray()[0];
    return {
      oldestIdempotencyKeyAt: row ? numOrNull(row, "keys") : null,
      oldestBidRequestAt: row ? numOrNull(row, "requests") : null,
    };
  }

  forgetIdempotencyKeysBefore(time: number): void {
    this.sql.exec("DELETE FROM idempotency_keys WHERE created_at < ?", time);
  }

  /** Pending bids after `afterSeq`, oldest first, at most `limit`. */
  readPendingBids(afterSeq: number, limit: number): PendingBid[] {
    return this.sql
      .exec<Row>(
        "SELECT seq, user_id, amount, placed_at, auto FROM pending_bids WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .toArray()
      .map(pendingBidOf);
  }

  oldestPendingAt(afterSeq: number): number | null {
    const row = this.sql
      .exec<Row>("SELECT placed_at FROM pending_bids WHERE seq > ? ORDER BY seq LIMIT 1", afterSeq)
      .toArray()[0];
    return row ? num(row, "placed_at") : null;
  }

  /** History up to `seq` is in PostgreSQL; rows stored before `before` no longer answer a resent request either. */
  forgetFlushedBefore(seq: number, before: number): void {
    this.sql.exec("DELETE FROM pending_bids WHERE seq <= ? AND placed_at < ?", seq, before);
  }

  readKnownUsers(): Map<number, string> {
    const rows = this.sql.exec<Row>("SELECT user_id, username FROM known_users").toArray();
    return new Map(rows.map((row) => [num(row, "user_id"), String(row.username)]));
  }

  rememberUsers(users: Map<number, string>): void {
    for (const [id, name] of users) {
      this.sql.exec("INSERT OR REPLACE INTO known_users (user_id, username) VALUES (?, ?)", id, name);
    }
  }

  readPostgresProgress(): PostgresProgress {
    const row = this.sql.exec<Row>("SELECT record FROM flush_record WHERE id = 1").toArray()[0];
    if (!row) return { ...noProgress };
    const stored: Partial<PostgresProgress> = JSON.parse(String(row.record));
    return {
      flushedSeq: stored.flushedSeq ?? 0,
      flushedVersion: stored.flushedVersion ?? 0,
      flushedTotal: stored.flushedTotal ?? 0,
      lastFlushAt: stored.lastFlushAt ?? null,
      lastFlushMs: stored.lastFlushMs ?? null,
      lastFlushRows: stored.lastFlushRows ?? null,
      consecutiveFailures: stored.consecutiveFailures ?? 0,
      totalFailures: stored.totalFailures ?? 0,
      lastError: stored.lastError ?? null,
      resultsFlushed: stored.resultsFlushed ?? false,
    };
  }

  writePostgresProgress(progress: PostgresProgress): void {
    this.sql.exec("INSERT OR REPLACE INTO flush_record (id, record) VALUES (1, ?)", JSON.stringify(progress));
  }
}

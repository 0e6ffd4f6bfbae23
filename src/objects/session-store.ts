import type { RankedBid } from "../bidding/ranking";
import type { SessionParams } from "../bidding/rules";

/** One accepted bid as stored in the object until it reaches PostgreSQL. */
export interface PendingBid {
  seq: number;
  userId: number;
  amount: number;
  placedAt: number;
}

export interface LiveBid extends RankedBid {
  bidCount: number;
}

/** Flush figures that survive eviction. */
export interface FlushRecord {
  flushedSeq: number;
  flushedTotal: number;
  lastFlushAt: number | null;
  lastFlushMs: number | null;
  lastFlushRows: number | null;
  consecutiveFailures: number;
  totalFailures: number;
  lastError: string | null;
  /** The session version PostgreSQL has (PATCHes are flushed like bids). */
  flushedVersion: number;
  /** When the end of the session was handled (final flush, sockets told). */
  endHandledAt: number | null;
}

const initialFlushRecord: FlushRecord = {
  flushedSeq: 0,
  flushedTotal: 0,
  lastFlushAt: null,
  lastFlushMs: null,
  lastFlushRows: null,
  consecutiveFailures: 0,
  totalFailures: 0,
  lastError: null,
  flushedVersion: 0,
  endHandledAt: null,
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS session (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
  min_bid INTEGER NOT NULL, min_increment INTEGER NOT NULL, created_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS live_bids (
  user_id INTEGER PRIMARY KEY, amount INTEGER NOT NULL, seq INTEGER NOT NULL UNIQUE,
  bid_count INTEGER NOT NULL, placed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_bids (
  seq INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, amount INTEGER NOT NULL, placed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  user_id INTEGER NOT NULL, key TEXT NOT NULL, amount INTEGER NOT NULL, receipt TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (user_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
CREATE TABLE IF NOT EXISTS known_users (user_id INTEGER PRIMARY KEY, username TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flush_record (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
`;

type Row = Record<string, SqlStorageValue>;

const num = (row: Row, column: string): number => Number(row[column]);

/** The object's SQLite: every statement the session object runs, in one place. */
export class SessionStore {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(SCHEMA);
  }

  readSession(): (SessionParams & { version: number }) | undefined {
    const row = this.sql.exec<Row>("SELECT * FROM session LIMIT 1").toArray()[0];
    if (!row) return undefined;
    return {
      id: String(row.id),
      title: String(row.title),
      startsAt: num(row, "starts_at"),
      endsAt: num(row, "ends_at"),
      minBid: num(row, "min_bid"),
      minIncrement: num(row, "min_increment"),
      createdAt: num(row, "created_at"),
      version: num(row, "version"),
    };
  }

  writeSession(session: SessionParams, version: number): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO session (id, title, starts_at, ends_at, min_bid, min_increment, created_at, version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      session.id,
      session.title,
      session.startsAt,
      session.endsAt,
      session.minBid,
      session.minIncrement,
      session.createdAt,
      version,
    );
  }

  readLiveBids(): LiveBid[] {
    return this.sql
      .exec<Row>("SELECT user_id, amount, seq, bid_count, placed_at FROM live_bids")
      .toArray()
      .map((row) => ({
        userId: num(row, "user_id"),
        amount: num(row, "amount"),
        seq: num(row, "seq"),
        bidCount: num(row, "bid_count"),
        placedAt: num(row, "placed_at"),
      }));
  }

  /** Stores an accepted bid: the live bid and its pending history row, in one transaction. */
  recordBid(bid: LiveBid, idempotency?: { key: string; receipt: string }): void {
    this.storage.transactionSync(() => this.writeBid(bid, idempotency));
  }

  private writeBid(bid: LiveBid, idempotency?: { key: string; receipt: string }): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO live_bids (user_id, amount, seq, bid_count, placed_at) VALUES (?, ?, ?, ?, ?)`,
      bid.userId,
      bid.amount,
      bid.seq,
      bid.bidCount,
      bid.placedAt,
    );
    this.sql.exec(
      "INSERT INTO pending_bids (seq, user_id, amount, placed_at) VALUES (?, ?, ?, ?)",
      bid.seq,
      bid.userId,
      bid.amount,
      bid.placedAt,
    );
    if (idempotency) {
      this.sql.exec(
        "INSERT INTO idempotency_keys (user_id, key, amount, receipt, created_at) VALUES (?, ?, ?, ?, ?)",
        bid.userId,
        idempotency.key,
        bid.amount,
        idempotency.receipt,
        bid.placedAt,
      );
    }
  }

  findIdempotencyKey(userId: number, key: string): { amount: number; receipt: string } | undefined {
    const row = this.sql
      .exec<Row>("SELECT amount, receipt FROM idempotency_keys WHERE user_id = ? AND key = ?", userId, key)
      .toArray()[0];
    return row ? { amount: num(row, "amount"), receipt: String(row.receipt) } : undefined;
  }

  forgetIdempotencyKeysBefore(time: number): void {
    this.sql.exec("DELETE FROM idempotency_keys WHERE created_at < ?", time);
  }

  /** Pending bids after `afterSeq`, oldest first, at most `limit`. */
  readPendingBids(afterSeq: number, limit: number): PendingBid[] {
    return this.sql
      .exec<Row>(
        "SELECT seq, user_id, amount, placed_at FROM pending_bids WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .toArray()
      .map((row) => ({
        seq: num(row, "seq"),
        userId: num(row, "user_id"),
        amount: num(row, "amount"),
        placedAt: num(row, "placed_at"),
      }));
  }

  oldestPendingAt(afterSeq: number): number | null {
    const row = this.sql
      .exec<Row>("SELECT placed_at FROM pending_bids WHERE seq > ? ORDER BY seq LIMIT 1", afterSeq)
      .toArray()[0];
    return row ? num(row, "placed_at") : null;
  }

  /** History up to `seq` is in PostgreSQL now; the object need not keep it. */
  forgetPendingThrough(seq: number): void {
    this.sql.exec("DELETE FROM pending_bids WHERE seq <= ?", seq);
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

  readFlushRecord(): FlushRecord {
    const row = this.sql.exec<Row>("SELECT record FROM flush_record WHERE id = 1").toArray()[0];
    return row ? { ...initialFlushRecord, ...JSON.parse(String(row.record)) } : { ...initialFlushRecord };
  }

  writeFlushRecord(record: FlushRecord): void {
    this.sql.exec("INSERT OR REPLACE INTO flush_record (id, record) VALUES (1, ?)", JSON.stringify(record));
  }
}

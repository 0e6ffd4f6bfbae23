import type { SoftClose } from "../bidding/auction";
import type { AcceptedBid } from "../bidding/batch-decision";
import type { LiveBid } from "../bidding/bid-book";
import type { PendingBid, SessionRecord, SessionResults } from "../bidding/session-record";
import type { WebhookEvent } from "../webhooks/events";
import { OutboxRows } from "./outbox-rows";
import { RequestRows } from "./request-rows";
import { insertJsonRows, num, numOrNull, pendingBidOf, type Row, textOrNull } from "./sql-rows";
import { STORE_VERSION, storeMigrations } from "./store-migrations";

/**
 * The object's SQLite: its schema, the session row, the live bids and their
 * history rows, the users it has seen, and the transactions that write a
 * batch of bids or the results with everything that goes with them (the
 * outbox's and the requests' rows live in their own modules). Constructing
 * it writes nothing: an object that is never created keeps an empty storage
 * (no tables), whatever is asked of it.
 */
export class SessionStore {
  private readonly sql: SqlStorage;
  readonly outbox: OutboxRows;
  readonly requests: RequestRows;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.outbox = new OutboxRows(this.sql);
    this.requests = new RequestRows(this.sql);
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
   * pending history row with its pseudonym and link, its idempotency key and request id, the session
   * row when the batch changed it (a soft-close extension), and the events
   * the batch caused, in the outbox. All or nothing.
   */
  recordBids(
    accepted: readonly AcceptedBid[],
    session?: SessionRecord,
    events: readonly WebhookEvent[] = [],
  ): void {
    this.storage.transactionSync(() => {
      this.writeBids(accepted);
      // The head once per batch, not a link on every live bid.
      const head = accepted.at(-1)?.hash;
      if (head) this.sql.exec("INSERT OR REPLACE INTO bid_log_head (id, hash) VALUES (1, ?)", head);
      if (session) this.writeSession(session);
      this.outbox.write(events);
    });
  }

  /** The session row with its results and the `session.ended` event, in one transaction. */
  recordResults(session: SessionRecord, event: WebhookEvent): void {
    this.storage.transactionSync(() => {
      this.writeSession(session);
      this.outbox.write([event]);
    });
  }

  /**
   * The bid log's link of the last seq, written with each batch; null when
   * there is no bid yet, or the bids predate the log (no head was ever written).
   */
  readHeadLink(): string | null {
    const row = this.sql.exec<Row>("SELECT hash FROM bid_log_head WHERE id = 1").toArray()[0];
    return row ? textOrNull(row, "hash") : null;
  }

  /**
   * The batch's live bids and history rows, a statement per table and 1,000
   * rows (JSON arrays, in order; a user who bid twice ends with the later):
   * two statements per bid were ~12 % of a busy isolate.
   */
  private writeBids(accepted: readonly AcceptedBid[]): void {
    const live = accepted.map(({ bid }) => [
      bid.userId,
      bid.amount,
      bid.seq,
      bid.tieSeq,
      bid.bidCount,
      bid.placedAt,
      bid.maxAmount,
      bid.auto ? 1 : 0,
    ]);
    insertJsonRows(
      this.sql,
      `INSERT INTO live_bids (user_id, amount, seq, tie_seq, bid_count, placed_at, max_amount, auto)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7
       FROM json_each(?) WHERE true ORDER BY key
       ON CONFLICT (user_id) DO UPDATE SET amount = excluded.amount, seq = excluded.seq,
         tie_seq = excluded.tie_seq, bid_count = excluded.bid_count, placed_at = excluded.placed_at,
         max_amount = excluded.max_amount, auto = excluded.auto`,
      live,
    );
    const history = accepted.map(({ bid, requestId, bidder, hash }) => [
      bid.seq,
      bid.userId,
      bid.amount,
      bid.placedAt,
      bid.auto ? 1 : 0,
      requestId ?? null,
      bidder,
      hash,
    ]);
    insertJsonRows(
      this.sql,
      `INSERT INTO pending_bids (seq, user_id, amount, placed_at, auto, request_id, bidder, hash)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7
       FROM json_each(?) ORDER BY key`,
      history,
    );
    for (const { bid, receipt, idempotency } of accepted) {
      if (receipt === undefined || idempotency === undefined) continue;
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
  }

  /** Pending bids after `afterSeq`, oldest first, at most `limit`. */
  readPendingBids(afterSeq: number, limit: number): PendingBid[] {
    return this.sql
      .exec<Row>(
        "SELECT seq, user_id, amount, placed_at, auto, bidder, hash FROM pending_bids WHERE seq > ? ORDER BY seq LIMIT ?",
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

  readKnownUsers(): Map<number, string> {
    const rows = this.sql.exec<Row>("SELECT user_id, username FROM known_users").toArray();
    return new Map(rows.map((row) => [num(row, "user_id"), String(row.username)]));
  }

  rememberUsers(users: Map<number, string>): void {
    insertJsonRows(
      this.sql,
      "INSERT OR REPLACE INTO known_users (user_id, username) SELECT value->>0, value->>1 FROM json_each(?)",
      [...users],
    );
  }
}

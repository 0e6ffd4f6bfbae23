/**
 * The session object's own SQLite schema, as an append-only list: entry N
 * brings a store from version N to N + 1. Never edit an entry that has
 * shipped; objects in production hold data in every earlier shape.
 *
 * Version 1 is the schema objects were created with before versioning
 * existed; its statements are idempotent, so an unversioned store that
 * already has those tables is brought to version 1 by running it again.
 */
export const storeMigrations: readonly string[] = [
  // 1: session parameters, live bids, pending history, idempotency keys, usernames, flush figures.
  `
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
  `,
  // 2: the end of the session is the session's fact, not a flush figure.
  `
  ALTER TABLE session ADD COLUMN end_handled_at INTEGER;
  UPDATE session SET end_handled_at =
    (SELECT json_extract(record, '$.endHandledAt') FROM flush_record WHERE id = 1);
  `,
  // 3: auction rules (units, reserve, soft close, the end in force apart from
  // the scheduled one), proxy maxima, automatic raises, and the results fixed at the end.
  `
  ALTER TABLE session ADD COLUMN units INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE session ADD COLUMN reserve_price INTEGER;
  ALTER TABLE session ADD COLUMN soft_close TEXT;
  ALTER TABLE session ADD COLUMN hard_ends_at INTEGER;
  ALTER TABLE session ADD COLUMN scheduled_ends_at INTEGER;
  ALTER TABLE session ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE session ADD COLUMN results TEXT;
  UPDATE session SET hard_ends_at = ends_at + 86400000, scheduled_ends_at = ends_at;
  ALTER TABLE live_bids ADD COLUMN tie_seq INTEGER;
  UPDATE live_bids SET tie_seq = seq;
  ALTER TABLE live_bids ADD COLUMN max_amount INTEGER;
  ALTER TABLE live_bids ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE pending_bids ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE idempotency_keys ADD COLUMN body TEXT;
  -- Each history row keeps the Worker's request id, and stays a while after the
  -- flush, so a batch sent again is answered from it instead of applied twice.
  ALTER TABLE pending_bids ADD COLUMN request_id TEXT;
  CREATE UNIQUE INDEX pending_bids_request_id ON pending_bids (request_id) WHERE request_id IS NOT NULL;
  `,
  // 4: the outbox. Events for the world (webhooks) are written in the same
  // transaction as the bids or results that caused them, and deleted only
  // once the queue has taken them; `id` is the event's stable id. `pos` is
  // the rowid: a position may be reused only once every row is gone.
  `
  CREATE TABLE outbox (
    pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, event TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 5: the currency of the amounts (v1.2); sessions created before it are USD.
  `
  ALTER TABLE session ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
  `,
  // 6: the bid log (v1.2). Each history row keeps the pseudonym fixed when it
  // was accepted and its link; the head (the link of the last seq) is one row,
  // written with each batch, so it outlives the pruned history rows. A store
  // with bids and no head holds bids from before the log: no chain.
  `
  ALTER TABLE pending_bids ADD COLUMN bidder TEXT;
  ALTER TABLE pending_bids ADD COLUMN hash TEXT;
  CREATE TABLE bid_log_head (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL);
  `,
];

export const STORE_VERSION = storeMigrations.length;

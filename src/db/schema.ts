import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";

// Money is bigint minor units; every amount fits in a JS number (<= 10^12 < 2^53).
const money = (name: string) => bigint(name, { mode: "number" });
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

export const users = pgTable("users", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  username: text("username").notNull().unique("users_username_key"),
  createdAt: instant("created_at").notNull().defaultNow(),
});

// Who a provider token names (API.md v1.2, "Identities"): the provider's
// (iss, sub) pair, one user each. `subject` is the provider's opaque string,
// compared as it is and never read as a user id.
export const identities = pgTable(
  "identities",
  {
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    createdAt: instant("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.issuer, t.subject], name: "identities_pkey" }),
    index("identities_user_id_idx").on(t.userId),
  ],
);

export const biddingSessions = pgTable(
  "bidding_sessions",
  {
    id: uuid("id").primaryKey(),
    title: text("title").notNull(),
    startsAt: instant("starts_at").notNull(),
    endsAt: instant("ends_at").notNull(),
    minBid: money("min_bid").notNull(),
    minIncrement: money("min_increment").notNull(),
    createdAt: instant("created_at").notNull().defaultNow(),
    updatedAt: instant("updated_at").notNull().defaultNow(),
    // Auction rules (v1.1). `ends_at` is the end in force, moved by soft-close
    // extensions; `scheduled_ends_at` the end as created or last PATCHed.
    units: integer("units").notNull().default(1),
    reservePrice: money("reserve_price"),
    softCloseWindowSeconds: integer("soft_close_window_seconds"),
    softCloseExtendSeconds: integer("soft_close_extend_seconds"),
    hardEndsAt: instant("hard_ends_at"),
    scheduledEndsAt: instant("scheduled_ends_at"),
    extensions: integer("extensions").notNull().default(0),
    // Set once, with the final flush.
    closedAt: instant("closed_at"),
    finalSeq: bigint("final_seq", { mode: "number" }),
    // ISO 4217 code of the amounts (v1.2); rows made before it are USD.
    currency: text("currency").notNull().default("USD"),
  },
  (t) => [
    check("bidding_sessions_window", sql`${t.endsAt} > ${t.startsAt}`),
    check("bidding_sessions_min_bid", sql`${t.minBid} >= 1`),
    check("bidding_sessions_min_increment", sql`${t.minIncrement} >= 1`),
    check("bidding_sessions_units", sql`${t.units} BETWEEN 1 AND 1000`),
    check("bidding_sessions_currency", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    // The orders of GET /v1/sessions, keyset-paged on (time, id): scheduled by
    // start, active and ended by the end in force (read forwards and
    // backwards), everything by creation.
    index("bidding_sessions_starts_at_idx").on(t.startsAt, t.id),
    index("bidding_sessions_ends_at_idx").on(t.endsAt, t.id),
    index("bidding_sessions_created_at_idx").on(t.createdAt, t.id),
  ],
);

// One live bid per user and session. `seq` is the session object's sequence
// number of the bid that set this row: upserts only move it forward.
export const bids = pgTable(
  "bids",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => biddingSessions.id),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    amount: money("amount").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    bidCount: integer("bid_count").notNull(),
    placedAt: instant("placed_at").notNull(),
    // A proxy bidder's maximum: private, never served but to its owner.
    maxAmount: money("max_amount"),
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  (t) => [
    unique("bids_session_id_user_id_key").on(t.sessionId, t.userId),
    // Leaderboard order: highest amount first, then who reached it first.
    index("bids_leaderboard_idx").on(t.sessionId, t.amount.desc(), t.seq),
    // GET /v1/me/bids: one user's live bids, most recent first, keyset-paged.
    index("bids_user_placed_at_idx").on(t.userId, t.placedAt, t.sessionId),
  ],
);

// Append-only history: one row per accepted bid.
export const bidEvents = pgTable(
  "bid_events",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => biddingSessions.id),
    seq: bigint("seq", { mode: "number" }).notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    amount: money("amount").notNull(),
    placedAt: instant("placed_at").notNull(),
    // Placed by the proxy rules on the bidder's behalf.
    auto: boolean("auto").notNull().default(false),
    // The bid log (v1.2): the pseudonym fixed when the object accepted the bid,
    // and the link it computed then. Written once by the flush and never
    // recomputed; null on rows flushed before the log existed.
    bidder: text("bidder"),
    hash: text("hash"),
  },
  (t) => [
    unique("bid_events_session_id_seq_key").on(t.sessionId, t.seq),
    index("bid_events_user_idx").on(t.sessionId, t.userId),
  ],
);

// The winners of an ended session, fixed once by its object: written with the
// final flush, never changed afterwards.
export const sessionResults = pgTable(
  "session_results",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => biddingSessions.id),
    rank: integer("rank").notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    amount: money("amount").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.rank], name: "session_results_pkey" })],
);

// Webhook endpoints (API.md, "Notifications") and how delivering to each goes.
// The secret signs every delivery, so it is kept (the API shows it once).
export const webhookSubscriptions = pgTable("webhook_subscriptions", {
  id: uuid("id").primaryKey().defaultRandom(),
  url: text("url").notNull(),
  events: text("events").array().notNull(),
  secret: text("secret").notNull(),
  createdAt: instant("created_at").notNull().defaultNow(),
  lastAttemptAt: instant("last_attempt_at"),
  lastSuccessAt: instant("last_success_at"),
  lastError: text("last_error"),
  deliveredCount: bigint("delivered_count", { mode: "number" }).notNull().default(0),
  failedAttempts: bigint("failed_attempts", { mode: "number" }).notNull().default(0),
  deadLettered: bigint("dead_lettered", { mode: "number" }).notNull().default(0),
});

import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

// Money is bigint minor units; every amount fits in a JS number (<= 10^12 < 2^53).
const money = (name: string) => bigint(name, { mode: "number" });
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

export const users = pgTable("users", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  username: text("username").notNull().unique("users_username_key"),
  createdAt: instant("created_at").notNull().defaultNow(),
});

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
  },
  (t) => [
    check("bidding_sessions_window", sql`${t.endsAt} > ${t.startsAt}`),
    check("bidding_sessions_min_bid", sql`${t.minBid} >= 1`),
    check("bidding_sessions_min_increment", sql`${t.minIncrement} >= 1`),
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
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  (t) => [
    unique("bids_session_id_user_id_key").on(t.sessionId, t.userId),
    // Leaderboard order: highest amount first, then who reached it first.
    index("bids_leaderboard_idx").on(t.sessionId, t.amount.desc(), t.seq),
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
  },
  (t) => [
    unique("bid_events_session_id_seq_key").on(t.sessionId, t.seq),
    index("bid_events_user_idx").on(t.sessionId, t.userId),
  ],
);

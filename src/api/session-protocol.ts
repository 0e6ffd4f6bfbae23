import type { z } from "@hono/zod-openapi";
import type {
  BidReceiptSchema,
  LeaderboardMessageSchema,
  LeaderboardSchema,
  MyBidSchema,
  ResultsSchema,
  SessionSchema,
  SessionStatsSchema,
} from "./contract";
import type { ProblemCode } from "./problem";

/**
 * What the session object's RPC methods take and return: the very shapes the
 * routes serve (inferred from the contract's zod schemas), plus the Outcome
 * wrapper. This is the compatibility boundary between Worker and object
 * versions during a deploy: add fields and methods, never change the meaning
 * of existing ones.
 */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: ProblemCode; detail: string; retryAfterSeconds?: number };

export type SessionView = z.infer<typeof SessionSchema>;
export type BidReceipt = z.infer<typeof BidReceiptSchema>;
export type MyBid = z.infer<typeof MyBidSchema>;
export type SessionStats = z.infer<typeof SessionStatsSchema>;
/** Usernames are the object's own (fetched once per bidder); null where it has none. */
export type Leaderboard = z.infer<typeof LeaderboardSchema>;
export type Results = z.infer<typeof ResultsSchema>;
/** The board a live message carries, with the bid log's head. */
export type LiveLeaderboard = Omit<z.infer<typeof LeaderboardMessageSchema>, "type">;

/** Where the caller's live bid stands right now (GET /v1/me/bids reads it for sessions not yet closed). */
export interface BidStanding {
  status: SessionView["status"];
  amount: number;
  rank: number;
  /** Among the winners once the results are fixed; before, within the units and at or above the reserve. */
  winning: boolean;
}

/** A plain `amount`, or (v1.1) a `maxAmount` the object bids up to for the caller: exactly one. */
export interface BidRequest {
  userId: number;
  amount?: number;
  maxAmount?: number;
  idempotencyKey?: string;
  /**
   * The Worker's id for this bid. Sent again (with `resend`) when the batch
   * that carried it got no answer; the object then answers with the outcome
   * it gave the first time instead of applying the bid twice.
   */
  requestId?: string;
  resend?: boolean;
}

export interface PlacedBid {
  receipt: BidReceipt;
  replayed: boolean;
  /** The caller's first bid in this session, accepted now: the Worker records it for `GET /v1/me/bids`. */
  first?: boolean;
}

/** A history row as either holder has it (the object, PostgreSQL): times in epoch ms. */
export interface HistoryRow {
  seq: number;
  userId: number;
  amount: number;
  placedAt: number;
  auto: boolean;
  /** null where the holder does not know the name. */
  username: string | null;
  /** The pseudonym fixed at acceptance; null on rows stored before the bid log. */
  bidder: string | null;
  /** The row's link in the bid log; null on rows of a session that took bids before it. */
  hash: string | null;
}

/** What the object holds of one history page (GET /v1/sessions/{id}/bids); the Worker adds PostgreSQL's part. */
export interface HeldHistory {
  /** Every bid up to this seq is in PostgreSQL. */
  flushedSeq: number;
  /** The session's last seq. */
  seq: number;
  /** A run of consecutive seqs ending the page's range, or nothing when the page is PostgreSQL's. */
  bids: HistoryRow[];
}

/** The header on a forwarded /live upgrade that names the user its token authenticated. */
export const BIDDER_HEADER = "X-Bidder-Id";

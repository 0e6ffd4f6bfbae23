import type { SessionStatus } from "../bidding/rules";
import type { ProblemCode } from "../http/problem";

/**
 * What the session object's RPC methods return. This is the compatibility
 * boundary between Worker and object versions during a deploy: add fields and
 * methods, never change the meaning of existing ones.
 */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: ProblemCode; detail: string; retryAfterSeconds?: number };

export interface SessionView {
  id: string;
  title: string;
  startsAt: string;
  endsAt: string;
  minBid: number;
  minIncrement: number;
  status: SessionStatus;
  bidders: number;
  highestBid: number | null;
  createdAt: string;
}

export interface BidReceipt {
  sessionId: string;
  userId: number;
  amount: number;
  rank: number;
  placedAt: string;
  seq: number;
}

export interface PlacedBid {
  receipt: BidReceipt;
  replayed: boolean;
}

export interface MyBid extends BidReceipt {
  bidCount: number;
}

export interface BoardEntry {
  rank: number;
  userId: number;
  amount: number;
  placedAt: string;
}

export interface BoardSnapshot {
  sessionId: string;
  status: SessionStatus;
  asOf: string;
  total: number;
  seq: number;
  entries: BoardEntry[];
}

export interface SessionStats {
  sessionId: string;
  seq: number;
  flushedSeq: number;
  pendingBids: number;
  oldestPendingAgeMs: number | null;
  lastFlushAt: string | null;
  lastFlushDurationMs: number | null;
  lastFlushRows: number | null;
  totalFlushed: number;
  consecutiveFlushFailures: number;
  totalFlushFailures: number;
  lastFlushError: string | null;
  nextAlarmAt: string | null;
  openSockets: number;
}

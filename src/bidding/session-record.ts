import type { SessionParams } from "./rules";

/** The winners, fixed once at the end. */
export interface SessionResults {
  closedAt: number;
  finalSeq: number;
  /** The bid log's link of finalSeq; absent from results fixed before the log existed. */
  finalHash?: string | null;
  reserveMet: boolean;
  winners: { rank: number; userId: number; amount: number; seq: number }[];
}

/** The session's parameters as its object holds them. */
export interface SessionRecord {
  params: SessionParams;
  /** Bumped by every change; PostgreSQL has the version the flush progress names. */
  version: number;
  /** When the end was handled (final flush sent, sockets told); null while it is still ahead. */
  endHandledAt: number | null;
  /** Fixed once, at the end; never changed afterwards. */
  results: SessionResults | null;
}

/** One accepted bid as its history row, stored in the object until it reaches PostgreSQL. */
export interface PendingBid {
  seq: number;
  userId: number;
  amount: number;
  placedAt: number;
  auto: boolean;
  /** The pseudonym fixed at acceptance and its link in the bid log; null on rows stored before the log. */
  bidder: string | null;
  hash: string | null;
}

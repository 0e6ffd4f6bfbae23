import type { PendingBid } from "../bidding/session-record";

/** Reading the object's SQLite rows: every value comes back as a SqlStorageValue. */
export type Row = Record<string, SqlStorageValue>;

export const num = (row: Row, column: string): number => Number(row[column]);

export const numOrNull = (row: Row, column: string): number | null =>
  row[column] === null || row[column] === undefined ? null : Number(row[column]);

export const textOrNull = (row: Row, column: string): string | null =>
  row[column] === null || row[column] === undefined ? null : String(row[column]);

export const pendingBidOf = (row: Row): PendingBid => ({
  seq: num(row, "seq"),
  userId: num(row, "user_id"),
  amount: num(row, "amount"),
  placedAt: num(row, "placed_at"),
  auto: row.auto === 1,
  bidder: textOrNull(row, "bidder"),
  hash: textOrNull(row, "hash"),
});

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

/** Rows per statement of `insertJsonRows`: a history row is ~180 bytes of JSON, an outbox event under 1 KB. */
const JSON_ROWS_PER_STATEMENT = 1_000;

/**
 * Runs `statement` (an INSERT that reads its rows from `json_each(?)`) once
 * per 1,000 of `rows`, in order: a statement per chunk instead of one per
 * row, and never a parameter near the 2 MB a SQLite value may hold on
 * Cloudflare, whatever a batch's size.
 */
export function insertJsonRows(sql: SqlStorage, statement: string, rows: readonly unknown[]): void {
  for (let i = 0; i < rows.length; i += JSON_ROWS_PER_STATEMENT) {
    sql.exec(statement, JSON.stringify(rows.slice(i, i + JSON_ROWS_PER_STATEMENT)));
  }
}

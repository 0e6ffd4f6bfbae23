import type { Row } from "./sql-rows";

/** How far PostgreSQL has caught up with this object, and how the flushes went. */
export interface PostgresProgress {
  /** Every bid up to this seq is in PostgreSQL. */
  flushedSeq: number;
  /** The session version PostgreSQL has (PATCHes are flushed like bids). */
  flushedVersion: number;
  flushedTotal: number;
  lastFlushAt: number | null;
  lastFlushMs: number | null;
  lastFlushRows: number | null;
  consecutiveFailures: number;
  totalFailures: number;
  lastError: string | null;
  /** PostgreSQL has the results. */
  resultsFlushed: boolean;
}

export const noProgress: PostgresProgress = {
  flushedSeq: 0,
  flushedVersion: 0,
  flushedTotal: 0,
  lastFlushAt: null,
  lastFlushMs: null,
  lastFlushRows: null,
  consecutiveFailures: 0,
  totalFailures: 0,
  lastError: null,
  resultsFlushed: false,
};

export function readFlushProgress(sql: SqlStorage): PostgresProgress {
  const row = sql.exec<Row>("SELECT record FROM flush_record WHERE id = 1").toArray()[0];
  if (!row) return { ...noProgress };
  const stored: Partial<PostgresProgress> = JSON.parse(String(row.record));
  return {
    flushedSeq: stored.flushedSeq ?? 0,
    flushedVersion: stored.flushedVersion ?? 0,
    flushedTotal: stored.flushedTotal ?? 0,
    lastFlushAt: stored.lastFlushAt ?? null,
    lastFlushMs: stored.lastFlushMs ?? null,
    lastFlushRows: stored.lastFlushRows ?? null,
    consecutiveFailures: stored.consecutiveFailures ?? 0,
    totalFailures: stored.totalFailures ?? 0,
    lastError: stored.lastError ?? null,
    resultsFlushed: stored.resultsFlushed ?? false,
  };
}

export function writeFlushProgress(sql: SqlStorage, progress: PostgresProgress): void {
  sql.exec("INSERT OR REPLACE INTO flush_record (id, record) VALUES (1, ?)", JSON.stringify(progress));
}

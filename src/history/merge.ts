/**
 * One page of a session's bid history from its two holders. Pure code: the
 * object picks what it can serve (`heldRun`), the Worker asks PostgreSQL for
 * the part before it (`postgresRange`) and joins them (`joinPage`).
 *
 * What makes a page complete and gapless: seqs are 1, 2, 3 … with no hole;
 * PostgreSQL holds every bid up to the object's `flushedSeq` (the watermark
 * moves only after the commit, and a flush sends a contiguous run); the
 * object holds every bid above it, and flushed ones for a couple of minutes
 * more. So the object is read first, and PostgreSQL only below the first
 * seq the object returned, which is at most `flushedSeq + 1`.
 */

import type { HeldHistory, HistoryRow } from "../api/session-protocol";

/** The most rows one page may ask either holder for (the CSV export's pages are the largest). */
export const MAX_PAGE_ROWS = 2000;

/**
 * Of the object's first `limit` rows after `afterSeq` (in seq order), the
 * ones a page may use: the run of consecutive seqs that ends them (rows
 * before a hole are flushed rows whose neighbours were pruned: PostgreSQL
 * serves them), and none when that run starts past the page.
 */
export function heldRun<Row extends { seq: number }>(
  rows: readonly Row[],
  afterSeq: number,
  limit: number,
): Row[] {
  if (rows.length === 0) return [];
  let start = rows.length - 1;
  while (start > 0 && rows[start - 1]?.seq === (rows[start]?.seq ?? 0) - 1) start -= 1;
  const run = rows.slice(start);
  return (run[0]?.seq ?? 0) > afterSeq + limit ? [] : run;
}

/** The seqs PostgreSQL must supply, `afterSeq < seq < beforeSeq`, at most `limit`; undefined when none. */
export function postgresRange(
  afterSeq: number,
  limit: number,
  held: HeldHistory,
): { afterSeq: number; beforeSeq: number; limit: number } | undefined {
  // Never past the page either, so the range itself (not only LIMIT) stays below the watermark.
  const beforeSeq = Math.min(held.bids[0]?.seq ?? held.seq + 1, afterSeq + limit + 1);
  return beforeSeq > afterSeq + 1 ? { afterSeq, beforeSeq, limit } : undefined;
}

export interface HistoryPage {
  bids: HistoryRow[];
  /** The last seq of the page while later bids exist; null once the page reached the session's last seq. */
  nextAfter: number | null;
}

/** Thrown when the holders' rows do not join into consecutive seqs: a broken invariant, never papered over. */
export class HistoryGap extends Error {
  override name = "HistoryGap";
}

/** PostgreSQL's rows (for `postgresRange`) followed by the object's, checked to be consecutive from `afterSeq + 1`. */
export function joinPage(
  afterSeq: number,
  limit: number,
  held: HeldHistory,
  fromPostgres: readonly HistoryRow[],
): HistoryPage {
  const range = postgresRange(afterSeq, limit, held);
  const expected = range ? Math.min(limit, range.beforeSeq - 1 - afterSeq) : 0;
  if (fromPostgres.length !== expected) {
    throw new HistoryGap(
      `PostgreSQL has ${fromPostgres.length} of the ${expected} bids after seq ${afterSeq} ` +
        `(flushed up to ${held.flushedSeq}, the object holds from ${held.bids[0]?.seq ?? "none"})`,
    );
  }
  const bids = [...fromPostgres, ...held.bids].slice(0, limit);
  bids.forEach((bid, i) => {
    if (bid.seq !== afterSeq + 1 + i) {
      throw new HistoryGap(`seq ${bid.seq} where ${afterSeq + 1 + i} belongs (page after ${afterSeq})`);
    }
  });
  const last = bids.at(-1)?.seq;
  return { bids, nextAfter: last !== undefined && last < held.seq ? last : null };
}

import { withDatabase } from "../db/client";
import { writeBatchToPostgres } from "../db/flush-batch";
import { recordFlush } from "../observability/analytics";
import { noProgress, type PostgresProgress, readFlushProgress, writeFlushProgress } from "./flush-progress";
import type { SessionLog } from "./session-log";
import type { SessionMemory } from "./session-memory";
import type { SessionStore } from "./session-store";

/**
 * Sends the session's pending history rows, its live bids, a changed
 * session row and the results to PostgreSQL, in one transaction per flush,
 * and keeps how far PostgreSQL has caught up (the watermark) in storage.
 */
export class PostgresFlusher {
  progress: PostgresProgress = { ...noProgress };
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly env: Env,
    private readonly store: SessionStore,
    private readonly sql: SqlStorage,
    private readonly memory: SessionMemory,
    private readonly maxRows: number,
    private readonly log: SessionLog,
  ) {}

  restore(): void {
    this.progress = readFlushProgress(this.sql);
  }

  /** PostgreSQL has this session version already (it was created there). */
  createdAt(version: number): void {
    this.progress = { ...this.progress, flushedVersion: version };
    writeFlushProgress(this.sql, this.progress);
  }

  /** Accepted bids PostgreSQL does not have yet. */
  get pendingBids(): number {
    return this.memory.seq - this.progress.flushedSeq;
  }

  /** Sends every pending row, or joins the flush under way; on failure they stay pending. */
  flush(): Promise<void> {
    this.flushing ??= this.sendPending().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async sendPending(): Promise<void> {
    const record = this.memory.record;
    if (!record) return;
    const session = record.params;
    const rows = this.store.readPendingBids(this.progress.flushedSeq, this.maxRows);
    const sessionChanged = record.version > this.progress.flushedVersion;
    if (rows.length === 0 && !sessionChanged && (record.results === null || this.progress.resultsFlushed))
      return;
    // Read in the same synchronous step as `rows`, so each live bid matches
    // its user's last row in the batch... unless a later bid of that user is
    // beyond the batch limit; then the live bid is newer, which the seq guard
    // in PostgreSQL accepts and a later flush repeats harmlessly.
    const users = new Set(rows.map((row) => row.userId));
    const liveBids = [...users].flatMap((id) => this.memory.book.bidOf(id) ?? []);
    const results = this.progress.resultsFlushed ? null : record.results;
    const sentSeq = rows.at(-1)?.seq ?? this.progress.flushedSeq;
    const sentVersion = record.version;
    const started = Date.now();
    try {
      await withDatabase(this.env, (db) =>
        writeBatchToPostgres(db, {
          sessionId: session.id,
          rows,
          liveBids,
          session: sessionChanged ? session : undefined,
          results: results ?? undefined,
        }),
      );
    } catch (error) {
      const message =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      this.progress = {
        ...this.progress,
        consecutiveFailures: this.progress.consecutiveFailures + 1,
        totalFailures: this.progress.totalFailures + 1,
        lastError: message,
      };
      writeFlushProgress(this.sql, this.progress);
      recordFlush(this.env.BID_ANALYTICS, session.id, {
        ok: false,
        rows: rows.length,
        ms: Date.now() - started,
      });
      this.log("error", "flush_failed", {
        rows: rows.length,
        error: message,
        failures: this.progress.consecutiveFailures,
      });
      return;
    }
    const finished = Date.now();
    // The watermark moves to what was sent, not to the current seq: bids that
    // arrived while PostgreSQL was busy stay pending for the next flush.
    this.progress = {
      ...this.progress,
      flushedSeq: Math.max(this.progress.flushedSeq, sentSeq),
      flushedVersion: Math.max(this.progress.flushedVersion, sentVersion),
      flushedTotal: this.progress.flushedTotal + rows.length,
      lastFlushAt: finished,
      lastFlushMs: finished - started,
      lastFlushRows: rows.length,
      consecutiveFailures: 0,
      lastError: null,
      resultsFlushed: this.progress.resultsFlushed || results !== null,
    };
    writeFlushProgress(this.sql, this.progress);
    recordFlush(this.env.BID_ANALYTICS, session.id, { ok: true, rows: rows.length, ms: finished - started });
    this.log("info", "flush", {
      rows: rows.length,
      users: liveBids.length,
      ms: finished - started,
      seq: sentSeq,
    });
  }
}

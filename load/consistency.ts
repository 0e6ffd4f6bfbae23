// The consistency check: after a run, does PostgreSQL hold what the clients
// were told? Every 201 must be in bid_events with its seq, user and amount;
// each user's row in bids must be the last bid acknowledged to them; and the
// session's history must have no rows no client can account for.
import pg from "pg";
import { z } from "zod";
import { errorMessage, redactUrl } from "../tools/net.js";
import type { AdminFigures } from "./admin-figures.js";
import type { AcknowledgedBid, UnresolvedBid } from "./bid-ledger.js";

export interface ConsistencyInput {
  databaseUrl: string;
  sessionId: string;
  /**
   * The session's seq before the run. Rows at or below it belong to earlier
   * runs; every row above it must be accounted for by this run.
   */
  sinceSeq: number;
  /** Every 201 the clients received, replays included (one entry per seq is enough). */
  acknowledged: readonly AcknowledgedBid[];
  /** Bids sent whose outcome no client learned: they may or may not be stored. */
  unresolved: readonly UnresolvedBid[];
  /** Reads the session's pending count, to wait for the flush first. */
  admin: AdminFigures;
  /** How long to wait for pendingBids to reach 0; default 30 s. */
  flushTimeoutMs?: number;
}

interface StoredBid {
  seq: number;
  userId: number;
  amount: number;
}

export interface ConsistencyReport {
  sessionId: string;
  sinceSeq: number;
  /** Pending bids when the wait ended: 0 unless the flush did not finish in time. */
  pendingAfterWait: number | null;
  waitedMs: number;
  /** Distinct seqs acknowledged by this run. */
  acknowledged: number;
  /** bid_events rows of the session with seq > sinceSeq. */
  eventRows: number;
  /** Acknowledged, but no bid_events row has its seq. */
  missing: AcknowledgedBid[];
  /** A bid_events row has the seq, but another user or amount. */
  altered: { acknowledged: AcknowledgedBid; stored: StoredBid }[];
  /** A user's row in bids is not their last acknowledged bid (absent, older, or different). */
  staleLiveBids: { userId: number; expected: AcknowledgedBid; stored: StoredBid | null }[];
  /** A user's row in bids is newer than anything acknowledged and matches none of their unresolved bids. */
  unexplainedLiveBids: { userId: number; expected: AcknowledgedBid; stored: StoredBid }[];
  /** Rows after sinceSeq that no 201 named, split by whether an unresolved bid explains them. */
  extraRows: { explained: StoredBid[]; unexplained: StoredBid[] };
  /** Acknowledged bids PostgreSQL does not hold as acknowledged: missing + altered + stale live bids. */
  lost: number;
  ok: boolean;
}

const Int8 = z.union([z.string().regex(/^-?[0-9]+$/), z.number().int()]).transform(Number);
const EventRowSchema = z.object({ seq: Int8, user_id: Int8, amount: Int8 });
const LiveRowSchema = z.object({ user_id: Int8, amount: Int8, seq: Int8 });

const unresolvedKey = (userId: number, amount: number) => `${userId}:${amount}`;

/** Waits for the session's flush (bounded), then compares PostgreSQL with what the clients were told. */
export async function checkConsistency(input: ConsistencyInput): Promise<ConsistencyReport> {
  const started = Date.now();
  const stats = await input.admin.waitForFlush(input.sessionId, input.flushTimeoutMs ?? 30_000);
  const waitedMs = Date.now() - started;

  const client = new pg.Client({ connectionString: input.databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(
      `consistency check: cannot connect to ${redactUrl(input.databaseUrl)}: ${errorMessage(error)}`,
    );
  }
  let events: StoredBid[];
  let liveBids: StoredBid[];
  try {
    const eventRows = await client.query(
      "SELECT seq, user_id, amount FROM bid_events WHERE session_id = $1 AND seq > $2 ORDER BY seq",
      [input.sessionId, input.sinceSeq],
    );
    events = z
      .array(EventRowSchema)
      .parse(eventRows.rows)
      .map((r) => ({ seq: r.seq, userId: r.user_id, amount: r.amount }));
    const userIds = [...new Set(input.acknowledged.map((a) => a.userId))];
    const liveRows = await client.query(
      "SELECT user_id, amount, seq FROM bids WHERE session_id = $1 AND user_id = ANY($2::bigint[])",
      [input.sessionId, userIds],
    );
    liveBids = z
      .array(LiveRowSchema)
      .parse(liveRows.rows)
      .map((r) => ({ seq: r.seq, userId: r.user_id, amount: r.amount }));
  } finally {
    await client.end();
  }
  return {
    ...compare(input, events, liveBids),
    pendingAfterWait: stats?.pendingBids ?? null,
    waitedMs,
  };
}

function compare(
  input: ConsistencyInput,
  events: readonly StoredBid[],
  liveBids: readonly StoredBid[],
): Omit<ConsistencyReport, "pendingAfterWait" | "waitedMs"> {
  const acknowledged = new Map(input.acknowledged.map((a) => [a.seq, a]));
  const stored = new Map(events.map((e) => [e.seq, e]));
  const unresolved = new Set(input.unresolved.map((u) => unresolvedKey(u.userId, u.amount)));

  const missing: AcknowledgedBid[] = [];
  const altered: ConsistencyReport["altered"] = [];
  for (const ack of acknowledged.values()) {
    const row = stored.get(ack.seq);
    if (!row) missing.push(ack);
    else if (row.userId !== ack.userId || row.amount !== ack.amount)
      altered.push({ acknowledged: ack, stored: row });
  }

  const explained: StoredBid[] = [];
  const unexplained: StoredBid[] = [];
  for (const row of events) {
    if (acknowledged.has(row.seq)) continue;
    (unresolved.has(unresolvedKey(row.userId, row.amount)) ? explained : unexplained).push(row);
  }

  const lastAcknowledged = new Map<number, AcknowledgedBid>();
  for (const ack of acknowledged.values()) {
    const previous = lastAcknowledged.get(ack.userId);
    if (!previous || previous.seq < ack.seq) lastAcknowledged.set(ack.userId, ack);
  }
  const live = new Map(liveBids.map((b) => [b.userId, b]));
  const staleLiveBids: ConsistencyReport["staleLiveBids"] = [];
  const unexplainedLiveBids: ConsistencyReport["unexplainedLiveBids"] = [];
  for (const expected of lastAcknowledged.values()) {
    const row = live.get(expected.userId) ?? null;
    if (row && row.seq === expected.seq && row.amount === expected.amount) continue;
    if (row && row.seq > expected.seq) {
      // A later bid whose answer was lost may legitimately be the live one.
      if (!unresolved.has(unresolvedKey(row.userId, row.amount))) {
        unexplainedLiveBids.push({ userId: expected.userId, expected, stored: row });
      }
      continue;
    }
    staleLiveBids.push({ userId: expected.userId, expected, stored: row });
  }

  const lost = missing.length + altered.length + staleLiveBids.length;
  return {
    sessionId: input.sessionId,
    sinceSeq: input.sinceSeq,
    acknowledged: acknowledged.size,
    eventRows: events.length,
    missing,
    altered,
    staleLiveBids,
    unexplainedLiveBids,
    extraRows: { explained, unexplained },
    lost,
    ok: lost === 0 && unexplained.length === 0 && unexplainedLiveBids.length === 0,
  };
}

const LIST_LIMIT = 20;

function listed<T>(items: readonly T[], describe: (item: T) => string): string[] {
  const lines = items.slice(0, LIST_LIMIT).map((item) => `    ${describe(item)}`);
  if (items.length > LIST_LIMIT)
    lines.push(`    … and ${items.length - LIST_LIMIT} more (see the JSON report)`);
  return lines;
}

const bidText = (b: StoredBid | AcknowledgedBid) => `seq ${b.seq} user ${b.userId} amount ${b.amount}`;

/** The report as printed after a run; starts with `lost: N`. */
export function formatConsistencyReport(report: ConsistencyReport): string {
  const lines = [`lost: ${report.lost}`];
  const flushed =
    report.pendingAfterWait === 0
      ? `flushed (waited ${(report.waitedMs / 1000).toFixed(1)} s)`
      : `NOT fully flushed after ${(report.waitedMs / 1000).toFixed(1)} s: ${report.pendingAfterWait ?? "unknown"} pending`;
  lines.push(
    `  ${flushed}; session ${report.sessionId}, rows after seq ${report.sinceSeq}: ` +
      `${report.eventRows} in bid_events, ${report.acknowledged} acknowledged` +
      (report.extraRows.explained.length > 0
        ? `, ${report.extraRows.explained.length} from bids whose answer was lost`
        : ""),
  );
  if (report.missing.length > 0) {
    lines.push(`  missing from bid_events (${report.missing.length}):`, ...listed(report.missing, bidText));
  }
  if (report.altered.length > 0) {
    lines.push(
      `  different in bid_events (${report.altered.length}):`,
      ...listed(report.altered, (a) => `told ${bidText(a.acknowledged)}, stored ${bidText(a.stored)}`),
    );
  }
  if (report.staleLiveBids.length > 0) {
    lines.push(
      `  bids row is not the last acknowledged bid (${report.staleLiveBids.length}):`,
      ...listed(
        report.staleLiveBids,
        (s) =>
          `user ${s.userId}: told ${bidText(s.expected)}, stored ${s.stored ? bidText(s.stored) : "no row"}`,
      ),
    );
  }
  if (report.unexplainedLiveBids.length > 0) {
    lines.push(
      `  bids row newer than any bid sent (${report.unexplainedLiveBids.length}):`,
      ...listed(report.unexplainedLiveBids, (s) => `user ${s.userId}: stored ${bidText(s.stored)}`),
    );
  }
  if (report.extraRows.unexplained.length > 0) {
    lines.push(
      `  rows in bid_events no client was told about (${report.extraRows.unexplained.length}):`,
      ...listed(report.extraRows.unexplained, bidText),
    );
  }
  return lines.join("\n");
}

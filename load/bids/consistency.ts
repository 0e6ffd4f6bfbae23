// The consistency check: after a run, does PostgreSQL hold what the clients
// were told? Every 201 must be in bid_events with its seq, user and amount;
// each user's row in bids must be the last bid acknowledged to them (or an
// automatic raise after it); every seq the object gave out must be in the
// history exactly once, the proxy rules' automatic raises included; the
// history must have no rows no client or raise can account for; and once the
// session has ended, session_results must be the object's results, exactly once.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { z } from "zod";
import { PgInteger as Int8, rowsOf, withClient } from "../../tools/pg-client.js";
import type { AdminFigures, Results } from "../kit/admin-figures.js";
import type { AcknowledgedBid, BidLedger } from "./ledger.js";

export interface ConsistencyInput {
  databaseUrl: string;
  sessionId: string;
  /**
   * The session's seq before the run. Rows at or below it belong to earlier
   * runs; every row above it must be accounted for by this run.
   */
  sinceSeq: number;
  /** Every 201 the clients received, and the bids sent whose outcome no client learned. */
  ledger: BidLedger;
  /** Reads the session's pending count, to wait for the flush first. */
  admin: AdminFigures;
  /** How long to wait for pendingBids to reach 0; default 30 s. */
  flushTimeoutMs?: number;
}

/** A bid_events row; `auto`: an automatic raise of a proxy bidder, for which no client was sent a receipt. */
const EventRowSchema = z.object({ seq: Int8, userId: Int8, amount: Int8, auto: z.boolean() });
type StoredEvent = z.infer<typeof EventRowSchema>;
/** A user's row in bids. */
const LiveRowSchema = EventRowSchema.omit({ auto: true });
type StoredBid = z.infer<typeof LiveRowSchema>;
const EVENT_COLUMNS = `seq, user_id AS "userId", amount, auto`;

/** The object's results (GET .../results) against session_results and the session row. */
export interface ResultsCheck {
  closedAt: string;
  finalSeq: number;
  winners: number;
  /** session_results rows of the session. */
  rows: number;
  /** Every way PostgreSQL differs from the results, as lines; empty when it holds them exactly once. */
  differences: string[];
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
  /** Of those, the automatic raises (auto = true). */
  autoRows: number;
  /** The object's seq after the wait: every seq in (sinceSeq, objectSeq] must be in bid_events once. */
  objectSeq: number | null;
  /** Seqs the object gave out that bid_events lacks, and seqs it holds more than once. */
  seqGaps: number[];
  duplicateSeqs: number[];
  /** Null while the session has not ended. */
  results: ResultsCheck | null;
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

const ResultRowSchema = z.object({ rank: Int8, user_id: Int8, amount: Int8, seq: Int8 });
const ClosedRowSchema = z.object({
  closed_at: z.union([z.date(), z.string()]).nullable(),
  final_seq: Int8.nullable(),
});
/** How long an ended session's results may take to reach PostgreSQL after its bids have. */
const RESULTS_TIMEOUT_MS = 15_000;

type Findings = Omit<ConsistencyReport, "ok" | "pendingAfterWait" | "waitedMs">;

const unresolvedKey = (userId: number, amount: number) => `${userId}:${amount}`;

/** Waits for the session's flush (bounded), then compares PostgreSQL with what the clients were told. */
export async function checkConsistency(input: ConsistencyInput): Promise<ConsistencyReport> {
  const started = Date.now();
  const stats = await input.admin.waitForFlush(input.sessionId, input.flushTimeoutMs ?? 30_000);
  const results = await input.admin.results(input.sessionId);
  const waitedMs = Date.now() - started;

  const acknowledged = input.ledger.acknowledged();
  const userIds = [...new Set(acknowledged.map((a) => a.userId))];
  const { events, liveBids, resultsCheck } = await withClient(input.databaseUrl, async (client) => ({
    events: await rowsOf(
      client,
      EventRowSchema,
      `SELECT ${EVENT_COLUMNS} FROM bid_events WHERE session_id = $1 AND seq > $2 ORDER BY seq`,
      [input.sessionId, input.sinceSeq],
    ),
    liveBids: await rowsOf(
      client,
      LiveRowSchema,
      `SELECT seq, user_id AS "userId", amount FROM bids WHERE session_id = $1 AND user_id = ANY($2::bigint[])`,
      [input.sessionId, userIds],
    ),
    resultsCheck: results ? await checkResults(client, input.sessionId, results, stats?.seq ?? null) : null,
  }));
  return {
    ...compare(input, acknowledged, events, liveBids, stats?.seq ?? null, resultsCheck),
    pendingAfterWait: stats?.pendingBids ?? null,
    waitedMs,
  };
}

/**
 * session_results against the object's results: the same winners in the same
 * order, each row once, each winning bid in the history, and the session row
 * closed at the same time and seq. Waits (bounded) for the final flush first.
 */
async function checkResults(
  client: pg.Client,
  sessionId: string,
  results: Results,
  objectSeq: number | null,
): Promise<ResultsCheck> {
  const closedSql = "SELECT closed_at, final_seq FROM bidding_sessions WHERE id = $1";
  const readClosed = async () =>
    (await rowsOf(client, ClosedRowSchema, closedSql, [sessionId]))[0] ?? {
      closed_at: null,
      final_seq: null,
    };
  const deadline = Date.now() + RESULTS_TIMEOUT_MS;
  let closed = await readClosed();
  while (closed.closed_at === null && Date.now() < deadline) {
    await sleep(250);
    closed = await readClosed();
  }
  const rows = await rowsOf(
    client,
    ResultRowSchema,
    "SELECT rank, user_id, amount, seq FROM session_results WHERE session_id = $1 ORDER BY rank",
    [sessionId],
  );
  const winningEvents = await rowsOf(
    client,
    EventRowSchema,
    `SELECT ${EVENT_COLUMNS} FROM bid_events WHERE session_id = $1 AND seq = ANY($2::bigint[])`,
    [sessionId, rows.map((r) => r.seq)],
  );
  const history = new Map(winningEvents.map((e) => [e.seq, e]));

  const differences: string[] = [];
  const closedAt = closed.closed_at === null ? null : new Date(closed.closed_at).getTime();
  if (closedAt === null) {
    differences.push(`bidding_sessions.closed_at still null ${RESULTS_TIMEOUT_MS / 1000} s after the flush`);
  } else if (closedAt !== Date.parse(results.closedAt)) {
    differences.push(`closed_at ${new Date(closedAt).toISOString()}, the object says ${results.closedAt}`);
  }
  if (closedAt !== null && closed.final_seq !== results.finalSeq) {
    differences.push(`final_seq ${closed.final_seq}, the object says ${results.finalSeq}`);
  }
  if (objectSeq !== null && objectSeq !== results.finalSeq) {
    differences.push(
      `the object's seq is ${objectSeq}, the results' finalSeq ${results.finalSeq}: a bid after the results`,
    );
  }
  if (rows.length !== results.winners.length) {
    differences.push(`${rows.length} session_results rows for ${results.winners.length} winners`);
  }
  for (const [i, winner] of results.winners.entries()) {
    const row = rows[i];
    if (!row || row.rank !== winner.rank || row.user_id !== winner.userId || row.amount !== winner.amount) {
      differences.push(
        `rank ${winner.rank}: the object says user ${winner.userId} at ${winner.amount}, ` +
          `session_results ${row ? `rank ${row.rank} user ${row.user_id} at ${row.amount}` : "has no row"}`,
      );
      continue;
    }
    const event = history.get(row.seq);
    if (!event || event.userId !== row.user_id || event.amount !== row.amount) {
      differences.push(`rank ${row.rank}: the winning bid (seq ${row.seq}) is not in bid_events as such`);
    }
  }
  return {
    closedAt: results.closedAt,
    finalSeq: results.finalSeq,
    winners: results.winners.length,
    rows: rows.length,
    differences,
  };
}

function compare(
  input: ConsistencyInput,
  /** Distinct, in seq order (BidLedger.acknowledged). */
  acknowledgedBids: readonly AcknowledgedBid[],
  events: readonly StoredEvent[],
  liveBids: readonly StoredBid[],
  objectSeq: number | null,
  results: ResultsCheck | null,
): Omit<ConsistencyReport, "pendingAfterWait" | "waitedMs"> {
  const acknowledged = new Map(acknowledgedBids.map((a) => [a.seq, a]));
  const stored = new Map(events.map((e) => [e.seq, e]));
  const unresolved = new Set(input.ledger.unresolved().map((u) => unresolvedKey(u.userId, u.amount)));

  const missing = acknowledgedBids.filter((ack) => !stored.has(ack.seq));
  const altered = acknowledgedBids.flatMap((ack) => {
    const row = stored.get(ack.seq);
    const differs = row && (row.userId !== ack.userId || row.amount !== ack.amount || row.auto);
    return differs ? [{ acknowledged: ack, stored: row }] : [];
  });

  // An automatic raise has no receipt: the proxy rules account for it.
  const explained: StoredBid[] = [];
  const unexplained: StoredBid[] = [];
  for (const row of events) {
    if (acknowledged.has(row.seq) || row.auto) continue;
    (unresolved.has(unresolvedKey(row.userId, row.amount)) ? explained : unexplained).push(row);
  }

  const seen = new Map<number, number>();
  for (const row of events) seen.set(row.seq, (seen.get(row.seq) ?? 0) + 1);
  const duplicateSeqs = [...seen].filter(([, count]) => count > 1).map(([seq]) => seq);
  const lastSeq = objectSeq ?? events.at(-1)?.seq ?? input.sinceSeq;
  const seqGaps: number[] = [];
  for (let seq = input.sinceSeq + 1; seq <= lastSeq; seq += 1) if (!seen.has(seq)) seqGaps.push(seq);

  // In seq order, so each user's last acknowledged bid is the one the map keeps.
  const lastAcknowledged = new Map(acknowledgedBids.map((ack) => [ack.userId, ack]));
  const live = new Map(liveBids.map((b) => [b.userId, b]));
  const staleLiveBids: ConsistencyReport["staleLiveBids"] = [];
  const unexplainedLiveBids: ConsistencyReport["unexplainedLiveBids"] = [];
  for (const expected of lastAcknowledged.values()) {
    const row = live.get(expected.userId) ?? null;
    if (row && row.seq === expected.seq && row.amount === expected.amount) continue;
    if (row && row.seq > expected.seq) {
      // A later bid whose answer was lost, or an automatic raise, may legitimately be the live one.
      const raise = stored.get(row.seq);
      const raised = raise?.auto === true && raise.userId === row.userId && raise.amount === row.amount;
      if (!raised && !unresolved.has(unresolvedKey(row.userId, row.amount))) {
        unexplainedLiveBids.push({ userId: expected.userId, expected, stored: row });
      }
      continue;
    }
    staleLiveBids.push({ userId: expected.userId, expected, stored: row });
  }

  const findings = {
    sessionId: input.sessionId,
    sinceSeq: input.sinceSeq,
    acknowledged: acknowledged.size,
    eventRows: events.length,
    autoRows: events.filter((e) => e.auto).length,
    objectSeq,
    seqGaps,
    duplicateSeqs,
    results,
    missing,
    altered,
    staleLiveBids,
    unexplainedLiveBids,
    extraRows: { explained, unexplained },
    lost: missing.length + altered.length + staleLiveBids.length,
  };
  return { ...findings, ok: PROBLEMS.every(([, lines]) => lines(findings).length === 0) };
}

const bidText = (b: StoredBid | AcknowledgedBid) => `seq ${b.seq} user ${b.userId} amount ${b.amount}`;

/** Each way PostgreSQL can differ from the clients and the object, one line per case: the check passes when all are empty. */
const PROBLEMS: [string, (report: Findings) => string[]][] = [
  ["session_results differs from the object's results", (r) => r.results?.differences ?? []],
  ["seqs given out by the object but not in bid_events", (r) => r.seqGaps.map((seq) => `seq ${seq}`)],
  ["seqs in bid_events more than once", (r) => r.duplicateSeqs.map((seq) => `seq ${seq}`)],
  ["missing from bid_events", (r) => r.missing.map(bidText)],
  [
    "different in bid_events",
    (r) => r.altered.map((a) => `told ${bidText(a.acknowledged)}, stored ${bidText(a.stored)}`),
  ],
  [
    "bids row is not the last acknowledged bid",
    (r) =>
      r.staleLiveBids.map(
        (s) =>
          `user ${s.userId}: told ${bidText(s.expected)}, stored ${s.stored ? bidText(s.stored) : "no row"}`,
      ),
  ],
  [
    "bids row newer than any bid sent",
    (r) => r.unexplainedLiveBids.map((s) => `user ${s.userId}: stored ${bidText(s.stored)}`),
  ],
  ["rows in bid_events no client was told about", (r) => r.extraRows.unexplained.map(bidText)],
];

const LIST_LIMIT = 20;

/** The report as printed after a run; starts with `lost: N`. */
export function formatConsistencyReport(report: ConsistencyReport): string {
  const lines = [`lost: ${report.lost}`];
  const flushed =
    report.pendingAfterWait === 0
      ? `flushed (waited ${(report.waitedMs / 1000).toFixed(1)} s)`
      : `NOT fully flushed after ${(report.waitedMs / 1000).toFixed(1)} s: ${report.pendingAfterWait ?? "unknown"} pending`;
  lines.push(
    `  ${flushed}; session ${report.sessionId}, rows after seq ${report.sinceSeq}: ` +
      `${report.eventRows} in bid_events (${report.autoRows} automatic raises), ${report.acknowledged} acknowledged` +
      (report.extraRows.explained.length > 0
        ? `, ${report.extraRows.explained.length} from bids whose answer was lost`
        : ""),
  );
  const { results } = report;
  if (results) {
    lines.push(
      `  ended: results closed at ${results.closedAt}, final seq ${results.finalSeq}, ` +
        `${results.winners} winners, ${results.rows} session_results rows`,
    );
  }
  for (const [title, describe] of PROBLEMS) {
    const items = describe(report);
    if (items.length === 0) continue;
    lines.push(`  ${title} (${items.length}):`, ...items.slice(0, LIST_LIMIT).map((item) => `    ${item}`));
    if (items.length > LIST_LIMIT)
      lines.push(`    … and ${items.length - LIST_LIMIT} more (see the JSON report)`);
  }
  return lines.join("\n");
}

/** The consistency report's figures, for the JSON report (the full lists only when something is wrong). */
export function consistencyFigures(report: ConsistencyReport): Record<string, unknown> {
  return report.ok
    ? {
        ok: true,
        lost: report.lost,
        acknowledged: report.acknowledged,
        eventRows: report.eventRows,
        autoRows: report.autoRows,
        objectSeq: report.objectSeq,
        results: report.results,
        explainedExtraRows: report.extraRows.explained.length,
        pendingAfterWait: report.pendingAfterWait,
        waitedMs: report.waitedMs,
      }
    : { ...report };
}

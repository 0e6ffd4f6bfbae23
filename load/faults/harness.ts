// What every fault scenario does around its fault: users and a session of its
// own, a warm-up bid per user, open-loop bids through the shared engine, the
// leaderboard as the bids say it should be, the end of the session (maximum
// bids raising each other, then an admin's PATCH), and the consistency check,
// automatic raises and results included.
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { BidReceiptV1Schema, type LeaderboardSchema } from "../../src/api/contract.js";
import { withClient } from "../../tools/pg-client.js";
import { type ConsistencyReport, checkConsistency, formatConsistencyReport } from "../bids/consistency.js";
import { BidLedger } from "../bids/ledger.js";
import { describeErrors, type MetricsTotals, type Outcome, RequestMetrics } from "../bids/metrics.js";
import { OpenLoopBidders, type OpenLoopResult } from "../bids/open-loop.js";
import { FAULT_BID_ATTEMPTS, placeBid } from "../bids/place-bid.js";
import { AdminFigures, type SessionStats } from "../kit/admin-figures.js";
import { BiddingApi, type CreatedBidder, type Session, signAdminToken } from "../kit/api.js";
import { expectJson, HttpClient } from "../kit/http.js";
import type { FaultStack } from "./stack.js";

export type ScenarioStatus = "PASS" | "FAIL" | "SKIP";

export interface ScenarioResult {
  id: number;
  title: string;
  status: ScenarioStatus;
  /** The figures, on one line. */
  summary: string;
  /** Why it failed (or was skipped); empty when it passed. */
  problems: string[];
  durationMs: number;
  details: Record<string, unknown>;
}

/** What a scenario hands back; the runner adds its number, title, status and duration. */
export interface ScenarioOutcome {
  problems: string[];
  summary: string;
  details: Record<string, unknown>;
  /** Set when the scenario did not run, with the reason. */
  skipped?: string;
}

export interface ScenarioContext {
  stack: FaultStack;
  api: FaultApi;
  /** A progress line, prefixed with the scenario and the time since the run started. */
  log: (line: string) => void;
}

export type LoadUser = CreatedBidder;

const TOKEN_SECONDS = 3600;

/** A board row as the acknowledged bids imply it: when a bid was placed is not theirs to say. */
export type ExpectedEntry = Omit<z.infer<typeof LeaderboardSchema>["entries"][number], "placedAt">;

/** The API of the run's own stack, as an admin: users it remembers (to clean their cache entries), sessions, figures. */
export class FaultApi extends BiddingApi {
  readonly admin: AdminFigures;

  private constructor(
    readonly url: URL,
    adminToken: string,
    private readonly stack: FaultStack,
  ) {
    const client = new HttpClient(url, { maxSockets: 8 });
    super(client, adminToken);
    this.admin = new AdminFigures(client, adminToken);
  }

  static async create(stack: FaultStack): Promise<FaultApi> {
    return new FaultApi(stack.worker.url, await signAdminToken(TOKEN_SECONDS), stack);
  }

  async createUsers(count: number, label: string): Promise<LoadUser[]> {
    const tag = `${label}${Date.now().toString(36).slice(-5)}`;
    const users = await this.createBidders(
      Array.from({ length: count }, (_, i) => `${tag}_${i + 1}`),
      TOKEN_SECONDS,
    );
    for (const user of users) this.stack.createdUserIds.add(user.id);
    return users;
  }

  stats(sessionId: string): Promise<SessionStats> {
    return this.admin.stats(sessionId);
  }

  close(): void {
    this.client.close();
  }
}

/** One session's bids: the ledger every scenario checks at the end, and the request figures. */
export class SessionLoad {
  readonly ledger: BidLedger;
  readonly metrics = new RequestMetrics();

  constructor(
    readonly api: FaultApi,
    readonly session: Session,
  ) {
    this.ledger = new BidLedger(session);
  }

  /** Every user's first bid, all at once; returns the users whose bid was not acknowledged. */
  async warmUp(users: readonly LoadUser[]): Promise<LoadUser[]> {
    const failed: LoadUser[] = [];
    await Promise.all(
      users.map(async (user) => {
        if ((await this.placeOne(user)).status !== 201) failed.push(user);
      }),
    );
    return failed;
  }

  /** One bid of `user`, outside the open loop (answers counted in the same metrics). */
  async placeOne(user: LoadUser): Promise<Outcome> {
    const started = performance.now();
    this.metrics.offer();
    const outcome = await placeBid(
      this.api.client,
      this.session.id,
      user.token,
      this.ledger.plan(user.id),
      this.ledger,
      {
        ...FAULT_BID_ATTEMPTS,
        onRetry: (failed) => this.metrics.attemptFailed(failed),
      },
    );
    this.metrics.complete(performance.now() - started, outcome);
    return outcome;
  }

  /** Open-loop bids at `rate` per second for `durationMs`, spread round-robin over `users`. */
  async run(users: readonly LoadUser[], rate: number, durationMs: number): Promise<OpenLoopResult> {
    const bidders = new OpenLoopBidders(this.api.url, users, false);
    try {
      return await bidders.run({
        sessionId: this.session.id,
        ratePerSecond: rate,
        durationMs,
        ledger: this.ledger,
        metrics: this.metrics,
        attempts: FAULT_BID_ATTEMPTS,
        signal: new AbortController().signal,
      });
    } finally {
      bidders.close();
    }
  }

  /**
   * How a scenario's session ends: two of `users` leave maximums above the
   * board that outbid each other, so the object raises them by itself (rows
   * with auto = true), then an admin ends the session and its object fixes
   * the results. The consistency check then looks for both in PostgreSQL.
   */
  async finish(users: readonly LoadUser[]): Promise<void> {
    const [first, second] = users.slice(-2);
    if (!first || !second) throw new Error("ending a session with maximum bids needs two users");
    const board = await this.api.leaderboard(this.session.id, 1);
    const top = board.entries[0]?.amount ?? this.session.minBid;
    const step = this.session.minIncrement;
    // first leads; second's lower maximum raises first over it; second's higher one raises both again.
    const maximums: [LoadUser, number][] = [
      [first, top + 50 * step],
      [second, top + 20 * step],
      [second, top + 100 * step],
    ];
    for (const [user, maxAmount] of maximums) {
      const path = `/v1/sessions/${this.session.id}/bids`;
      const response = await this.api.client.request("POST", path, {
        token: user.token,
        body: { maxAmount },
        timeoutMs: FAULT_BID_ATTEMPTS.timeoutMs,
      });
      this.ledger.acknowledgeMaximum(expectJson(response, 201, BidReceiptV1Schema, `POST ${path} (maximum)`));
    }
    await this.api.endSession(this.session.id);
  }

  /** 201s so far, replays included. */
  get acknowledged(): number {
    return this.ledger.accepted + this.ledger.replayed;
  }

  consistency(stack: FaultStack, flushTimeoutMs: number): Promise<ConsistencyReport> {
    return checkConsistency({
      databaseUrl: stack.databaseUrl,
      sessionId: this.session.id,
      sinceSeq: 0,
      ledger: this.ledger,
      admin: this.api.admin,
      flushTimeoutMs,
    });
  }

  /**
   * The board the acknowledged bids imply: each user's last acknowledged bid,
   * highest amount first, equal amounts by lower seq. Only meaningful when no
   * bid's outcome is unknown.
   */
  expectedBoard(usernames: ReadonlyMap<number, string>): ExpectedEntry[] {
    const last = new Map<number, { userId: number; amount: number; seq: number }>();
    for (const ack of this.ledger.acknowledged()) last.set(ack.userId, ack);
    return [...last.values()]
      .sort((a, b) => b.amount - a.amount || a.seq - b.seq)
      .map((bid, i) => ({
        rank: i + 1,
        userId: bid.userId,
        amount: bid.amount,
        username: usernames.get(bid.userId) ?? null,
      }));
  }
}

/** Differences between the board served and the one expected, as readable lines (empty when equal). */
export function compareBoards(
  served: z.infer<typeof LeaderboardSchema>,
  expected: readonly ExpectedEntry[],
  limit: number,
): string[] {
  const problems: string[] = [];
  if (served.total !== expected.length) problems.push(`total ${served.total}, expected ${expected.length}`);
  const want = expected.slice(0, limit);
  if (served.entries.length !== want.length) {
    problems.push(`${served.entries.length} entries, expected ${want.length}`);
  }
  for (const [i, wanted] of want.entries()) {
    const got = served.entries[i];
    if (
      !got ||
      got.rank !== wanted.rank ||
      got.userId !== wanted.userId ||
      got.amount !== wanted.amount ||
      got.username !== wanted.username
    ) {
      const seen = got ? `${got.userId} ${got.username ?? "null"} ${got.amount}` : "nothing";
      problems.push(
        `rank ${wanted.rank}: ${seen}, expected ${wanted.userId} ${wanted.username ?? "null"} ${wanted.amount}`,
      );
      if (problems.length >= 5) break;
    }
  }
  return problems;
}

export interface StatsSample {
  atMs: number;
  stats: SessionStats;
}

/** Reads the session's stats every `intervalMs` until stopped; failed reads are counted, not thrown. */
export class StatsPoller {
  readonly samples: StatsSample[] = [];
  failedReads = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly api: FaultApi,
    private readonly sessionId: string,
    private readonly intervalMs: number,
    private readonly startedAt: number,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          this.samples.push({
            atMs: Date.now() - this.startedAt,
            stats: await this.api.stats(this.sessionId),
          });
        } catch {
          this.failedReads += 1;
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  between(fromMs: number, toMs: number): StatsSample[] {
    return this.samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs);
  }
}

/** The highest seq of the session in bid_events (0 when none), read straight from PostgreSQL. */
export async function maxStoredSeq(databaseUrl: string, sessionId: string): Promise<number> {
  const result = await withClient(
    databaseUrl,
    (client) =>
      client.query("SELECT coalesce(max(seq), 0)::text AS seq FROM bid_events WHERE session_id = $1", [
        sessionId,
      ]),
    { statementTimeoutMs: 10_000 },
  );
  return Number(z.object({ seq: z.string() }).parse(result.rows[0]).seq);
}

/**
 * Bid answers other than 201, except refused raises: the open loop may have
 * two bids of one user in flight, and the later, higher one can overtake the
 * earlier on a busy machine. A refusal stores nothing, so it is no fault of
 * the service.
 */
export function unexpectedBidOutcomes(totals: MetricsTotals): string[] {
  const unexpected = Object.entries(totals.outcomes).filter(
    ([label]) => label !== "201" && label !== "201 replayed" && label !== "422 bid_increment_too_small",
  );
  return unexpected.length === 0
    ? []
    : [`bids not acknowledged: ${describeErrors(Object.fromEntries(unexpected))}`];
}

/** Prints the harness's consistency report under the scenario's progress lines. */
export function logConsistency(report: ConsistencyReport, log: (line: string) => void): void {
  for (const line of formatConsistencyReport(report).split("\n")) log(`consistency: ${line.trim()}`);
}

/** Problems the consistency check found, as lines. */
export function consistencyProblems(report: ConsistencyReport): string[] {
  const problems: string[] = [];
  if (report.pendingAfterWait !== 0)
    problems.push(
      `${report.pendingAfterWait ?? "unknown"} bids still pending after ${Math.round(report.waitedMs / 1000)} s`,
    );
  if (report.lost > 0) problems.push(`lost ${report.lost} acknowledged bids`);
  if (report.extraRows.unexplained.length > 0)
    problems.push(`${report.extraRows.unexplained.length} rows in bid_events no client accounts for`);
  if (report.unexplainedLiveBids.length > 0)
    problems.push(`${report.unexplainedLiveBids.length} bids rows newer than any bid sent`);
  if (report.seqGaps.length > 0) problems.push(`${report.seqGaps.length} seqs missing from bid_events`);
  if (report.duplicateSeqs.length > 0)
    problems.push(`${report.duplicateSeqs.length} seqs in bid_events more than once`);
  // Every scenario ends its session with maximum bids (SessionLoad.finish): both must have been checked.
  if (report.autoRows === 0) problems.push("no automatic raise in bid_events");
  if (report.results === null) problems.push("the session has not ended: no results to check");
  for (const difference of report.results?.differences ?? []) problems.push(`results: ${difference}`);
  return problems;
}

// What every fault scenario does around its fault: users and a session of its
// own, a warm-up bid per user, open-loop bids through the shared engine, and
// the same end: the bid answers checked, the session ended (maximum bids
// raising each other, then an admin's PATCH), and the consistency check,
// automatic raises and results included.
import { BidReceiptV1Schema } from "../../src/api/contract.js";
import { type ConsistencyReport, checkConsistency, formatConsistencyReport } from "../bids/consistency.js";
import { BidLedger } from "../bids/ledger.js";
import { describeErrors, type MetricsTotals, type Outcome, RequestMetrics } from "../bids/metrics.js";
import { OpenLoopBidders, type OpenLoopResult } from "../bids/open-loop.js";
import { FAULT_BID_ATTEMPTS, placeBid } from "../bids/place-bid.js";
import { AdminFigures } from "../kit/admin-figures.js";
import { BiddingApi, type CreatedBidder, type Session, signAdminToken } from "../kit/api.js";
import { expectJson, HttpClient } from "../kit/http.js";
import type { FaultStack } from "./stack.js";

/** What a scenario hands back: its figures (on one line, and for the JSON report), or why it did not run. */
export type ScenarioOutcome = { summary: string; details: Record<string, unknown> } | { skipped: string };

export interface ScenarioContext {
  stack: FaultStack;
  api: FaultApi;
  /** A progress line, prefixed with the scenario and the time since the run started. */
  log: (line: string) => void;
  /** What went wrong, one line each: the scenario passes when this stays empty. */
  problems: string[];
}

const TOKEN_SECONDS = 3600;

/**
 * Bid answers that are no fault of the service: 201s, and refused raises (the
 * open loop may have two bids of one user in flight, and the later, higher one
 * can overtake the earlier on a busy machine; a refusal stores nothing).
 */
const EXPECTED_BID_OUTCOMES = ["201", "201 replayed", "422 bid_increment_too_small"];

/** The API of the run's own stack, as an admin: users it remembers (to clean their cache entries), sessions, figures. */
export class FaultApi extends BiddingApi {
  readonly admin = new AdminFigures(this.client, this.adminToken);

  private constructor(
    private readonly stack: FaultStack,
    adminToken: string,
  ) {
    super(new HttpClient(stack.worker.url, { maxSockets: 8 }), adminToken);
  }

  static async create(stack: FaultStack): Promise<FaultApi> {
    return new FaultApi(stack, await signAdminToken(TOKEN_SECONDS));
  }

  async createUsers(count: number, label: string): Promise<CreatedBidder[]> {
    const tag = `${label}${Date.now().toString(36).slice(-5)}`;
    const names = Array.from({ length: count }, (_, i) => `${tag}_${i + 1}`);
    const users = await this.createBidders(names, TOKEN_SECONDS);
    for (const user of users) this.stack.createdUserIds.add(user.id);
    return users;
  }
}

/** One session's bids: the ledger every scenario checks at the end, and the request figures. */
export class SessionLoad {
  readonly ledger: BidLedger;
  readonly metrics = new RequestMetrics();

  private constructor(
    private readonly context: ScenarioContext,
    readonly session: Session,
  ) {
    this.ledger = new BidLedger(session);
  }

  /** A new session, and every one of `users` bidding in it once, all at once (each bid not acknowledged is a problem). */
  static async open(
    context: ScenarioContext,
    title: string,
    users: readonly CreatedBidder[],
  ): Promise<SessionLoad> {
    const load = new SessionLoad(context, await context.api.createSession(title));
    const outcomes = await Promise.all(users.map((user) => load.placeOne(user)));
    const cold = outcomes.filter((outcome) => outcome.status !== 201).length;
    if (cold > 0) context.problems.push(`${cold} warm-up bids were not acknowledged`);
    return load;
  }

  /** One bid of `user`, outside the open loop (answers counted in the same metrics). */
  async placeOne(user: CreatedBidder): Promise<Outcome> {
    const started = performance.now();
    this.metrics.offer();
    const outcome = await placeBid(
      this.context.api.client,
      this.session.id,
      user.token,
      this.ledger.plan(user.id),
      this.ledger,
      { ...FAULT_BID_ATTEMPTS, onRetry: (failed) => this.metrics.attemptFailed(failed) },
    );
    this.metrics.complete(performance.now() - started, outcome);
    return outcome;
  }

  /** Open-loop bids at `rate` per second for `durationMs`, spread round-robin over `users`. */
  async run(users: readonly CreatedBidder[], rate: number, durationMs: number): Promise<OpenLoopResult> {
    const bidders = new OpenLoopBidders(this.context.stack.worker.url, users, false);
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

  /** 201s so far, replays included. */
  get acknowledged(): number {
    return this.ledger.accepted + this.ledger.replayed;
  }

  /**
   * How every scenario ends: the bid answers checked (`also.expected`: more labels that are no fault;
   * `also.otherServerErrors`: 5xx answers to other requests), the session ended by `users`, then the
   * consistency check, waiting up to `flushTimeoutMs` for the flush.
   */
  async conclude(
    users: readonly CreatedBidder[],
    flushTimeoutMs: number,
    also: { expected?: readonly string[]; otherServerErrors?: number } = {},
  ): Promise<{ totals: MetricsTotals; consistency: ConsistencyReport }> {
    const { stack, api, log, problems } = this.context;
    const totals = this.metrics.totals();
    const expected = [...EXPECTED_BID_OUTCOMES, ...(also.expected ?? [])];
    const unexpected = Object.entries(totals.outcomes).filter(([label]) => !expected.includes(label));
    if (unexpected.length > 0)
      problems.push(`bids not acknowledged: ${describeErrors(Object.fromEntries(unexpected))}`);
    const serverErrors = totals.serverErrors + (also.otherServerErrors ?? 0);
    if (serverErrors > 0) problems.push(`${serverErrors} answers with a 5xx status`);
    await this.endWithMaximums(users);
    const consistency = await checkConsistency({
      databaseUrl: stack.databaseUrl,
      sessionId: this.session.id,
      sinceSeq: 0,
      ledger: this.ledger,
      admin: api.admin,
      flushTimeoutMs,
    });
    for (const line of formatConsistencyReport(consistency).split("\n")) log(`consistency: ${line.trim()}`);
    problems.push(...consistencyProblems(consistency));
    return { totals, consistency };
  }

  /**
   * Two of `users` leave maximums above the board that outbid each other, so
   * the object raises them by itself (rows with auto = true), then an admin
   * ends the session and its object fixes the results. The consistency check
   * then looks for both in PostgreSQL.
   */
  private async endWithMaximums(users: readonly CreatedBidder[]): Promise<void> {
    const { api } = this.context;
    const [first, second] = users.slice(-2);
    if (!first || !second) throw new Error("ending a session with maximum bids needs two users");
    const board = await api.leaderboard(this.session.id, 1);
    const top = board.entries[0]?.amount ?? this.session.minBid;
    const step = this.session.minIncrement;
    // first leads; second's lower maximum raises first over it; second's higher one raises both again.
    const maximums: [CreatedBidder, number][] = [
      [first, top + 50 * step],
      [second, top + 20 * step],
      [second, top + 100 * step],
    ];
    const path = `/v1/sessions/${this.session.id}/bids`;
    for (const [user, maxAmount] of maximums) {
      const response = await api.client.request("POST", path, {
        token: user.token,
        body: { maxAmount },
        timeoutMs: FAULT_BID_ATTEMPTS.timeoutMs,
      });
      this.ledger.acknowledgeMaximum(expectJson(response, 201, BidReceiptV1Schema, `POST ${path} (maximum)`));
    }
    await api.endSession(this.session.id);
  }
}

/** Problems the consistency check found, as lines. */
function consistencyProblems(report: ConsistencyReport): string[] {
  const problems: string[] = [];
  if (report.pendingAfterWait !== 0) {
    const waited = Math.round(report.waitedMs / 1000);
    problems.push(`${report.pendingAfterWait ?? "unknown"} bids still pending after ${waited} s`);
  }
  if (report.lost > 0) problems.push(`lost ${report.lost} acknowledged bids`);
  const counted: [number, string][] = [
    [report.extraRows.unexplained.length, "rows in bid_events no client accounts for"],
    [report.unexplainedLiveBids.length, "bids rows newer than any bid sent"],
    [report.seqGaps.length, "seqs missing from bid_events"],
    [report.duplicateSeqs.length, "seqs in bid_events more than once"],
  ];
  for (const [count, what] of counted) if (count > 0) problems.push(`${count} ${what}`);
  // Every scenario ends its session with maximum bids (endWithMaximums): both must have been checked.
  if (report.autoRows === 0) problems.push("no automatic raise in bid_events");
  if (report.results === null) problems.push("the session has not ended: no results to check");
  for (const difference of report.results?.differences ?? []) problems.push(`results: ${difference}`);
  return problems;
}

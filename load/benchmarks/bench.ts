// npm run bench (options: USAGE below), against one running server: closed-loop throughput of
// (a) GET session, the baseline Durable Object round trip, (b) bids, (c) the leaderboard, (d) the
// naive design (naive/: one upsert per bid, straight to PostgreSQL, served as the service is);
// then latency at a fixed offered rate of bids from many bidders. On 2 cores absolute figures
// measure the machine; the ratios are the result.
import { setTimeout as sleep } from "node:timers/promises";
import { runnerCommand } from "../../tools/service-process.js";
import { type RawLoopPlan, runRawClosedLoop } from "../bids/closed-loop.js";
import { checkConsistency, formatConsistencyReport } from "../bids/consistency.js";
import { BidLedger, type PlannedBid } from "../bids/ledger.js";
import { describeErrors, RequestMetrics } from "../bids/metrics.js";
import { OpenLoopBidders } from "../bids/open-loop.js";
import { AdminFigures } from "../kit/admin-figures.js";
import { type Bidder, BiddingApi, parseReceipt } from "../kit/api.js";
import * as cli from "../kit/cli.js";
import { buildRequest, HttpClient, headerOf, outcomeLabel } from "../kit/http.js";
import { writeReport } from "../kit/report.js";
import { DEFAULT_RUN_FILE, readRunFile } from "../kit/run-file.js";
import {
  type FixedRateRun,
  formatClosedLoop,
  formatFixedRate,
  type Phase,
  type PhaseKey,
  phaseRatios,
} from "./bench-summary.js";
import { startNaiveWorker } from "./workers.js";

const USAGE = `usage: npm run bench -- [--url http://127.0.0.1:8787] [--run ${DEFAULT_RUN_FILE}] [--duration 10s]
                     [--connections 100] [--rate 300] [--bidders 1000]
                     [--database-url URL (else DATABASE_URL)] [--runner start|dev]`;

const PAUSE_BETWEEN_PHASES_MS = 1_000;
const FLUSH_WAIT_MS = 15_000;

/**
 * Every request a fresh, valid raise: the next user in rotation, that user's
 * next amount, its token and a new Idempotency-Key. Answers are tallied, and
 * receipts go to the ledger (the product's answers carry one; the naive Worker's do not).
 */
function raisingBids(
  sessionId: string,
  users: readonly Bidder[],
  ledger: BidLedger,
  outcomes: Map<string, number>,
): Pick<RawLoopPlan, "nextRequest" | "onAnswer"> {
  const path = `/v1/sessions/${sessionId}/bids`;
  const inFlight: PlannedBid[] = [];
  let turn = 0;
  return {
    nextRequest: (connection) => {
      const user = users[turn++ % users.length];
      if (!user) throw new Error("no users to bid");
      const bid = ledger.plan(user.id);
      inFlight[connection] = bid;
      const headers = {
        Authorization: `Bearer ${user.token}`,
        "Content-Type": "application/json",
        "Idempotency-Key": bid.idempotencyKey,
      };
      return buildRequest("POST", path, headers, JSON.stringify({ amount: bid.amount }));
    },
    onAnswer: (connection, answer) => {
      const bid = inFlight[connection];
      if (!answer || !bid) return;
      const label = outcomeLabel(answer);
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      const receipt = answer.status === 201 ? parseReceipt(answer.body) : undefined;
      if (receipt)
        ledger.acknowledge(bid.idempotencyKey, receipt, headerOf(answer, "idempotent-replayed") === "true");
      else if (answer.status >= 400 && answer.status < 500) ledger.refuse(bid.idempotencyKey);
    },
  };
}

async function main(): Promise<number> {
  const values = cli.parseOptions({
    url: { type: "string" },
    run: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    rate: { type: "string" },
    bidders: { type: "string" },
    "database-url": { type: "string" },
    runner: { type: "string" },
  });
  const runner = cli.runnerOption(values.runner);
  const run = readRunFile(values.run ?? DEFAULT_RUN_FILE);
  const url = cli.loopbackApiUrl(values.url ?? run.url);
  const databaseUrl = cli.databaseUrlOption(values["database-url"]);
  const durationMs = cli.durationOption("duration", values.duration, 10_000, { minMs: 1000, maxMs: 600_000 });
  const durationSeconds = Math.round(durationMs / 1000);
  const connections = cli.integerOption("connections", values.connections, 100, { min: 1, max: 5000 });
  const rate = cli.integerOption("rate", values.rate, 300, { min: 1, max: 20_000 });
  const bidderCount = cli.integerOption("bidders", values.bidders, Math.min(1000, run.users.length), {
    min: 1,
    max: run.users.length,
  });

  const control = new HttpClient(url, { maxSockets: 4 });
  const admin = new AdminFigures(control, run.adminToken);
  const api = new BiddingApi(control, run.adminToken);
  const session = await api.session(run.sessionId);
  if (session.status !== "active" || Date.parse(session.endsAt) - Date.now() < 6 * durationMs + 120_000) {
    throw new cli.UsageError(
      `session ${session.id} is ${session.status} and ends at ${session.endsAt}: too soon for this bench; ` +
        "create a new one with npm run load:setup",
    );
  }
  const before = await admin.stats(session.id);
  // Every product bid of the bench (b and the fixed-rate runs) goes through one ledger, checked at the end.
  const ledger = new BidLedger(session);
  const abort = new AbortController();
  cli.stopOnInterrupt(abort, "stopping after the current phase");

  console.log(
    `bench: ${url.origin}, session ${session.id}; closed loop: ${connections} connections, ` +
      `${durationSeconds} s per phase; fixed rate: ${rate} bids/s from ${bidderCount} bidders`,
  );
  console.log(
    `bench: starting the naive Worker (load/benchmarks/naive), served as ${runnerCommand(runner)} serves...`,
  );
  const naive = await startNaiveWorker(runner, databaseUrl);
  const phases: Partial<Record<PhaseKey, Phase>> = {};
  const bidOutcomes = new Map<string, number>();
  const naiveOutcomes = new Map<string, number>();

  const closedLoop = async (
    key: PhaseKey,
    label: string,
    target: URL,
    requests: Pick<RawLoopPlan, "nextRequest" | "onAnswer">,
  ) => {
    if (abort.signal.aborted) return;
    console.log(`bench: (${key}) ${label}...`);
    const result = await runRawClosedLoop({
      url: target,
      connections,
      durationMs,
      signal: abort.signal,
      ...requests,
    });
    phases[key] = { label, result };
    // A flush started by this phase finishes before the next phase starts.
    await admin.waitForFlush(session.id, FLUSH_WAIT_MS);
    await sleep(PAUSE_BETWEEN_PHASES_MS);
  };
  const read = (path: string) => {
    const request = buildRequest("GET", path, {});
    return { nextRequest: () => request };
  };

  let naiveSessionId = "";
  try {
    // Its own session: naive upserts into a product session's `bids` rows would
    // defeat the seq guard and fail the consistency check of every later run on it.
    const naiveSession = await api.createSession(`Naive bench ${new Date().toISOString()}`, {
      minBid: session.minBid,
      minIncrement: session.minIncrement,
    });
    naiveSessionId = naiveSession.id;
    console.log(`bench: naive Worker on ${naive.url.origin}, writing to its own session ${naiveSession.id}`);

    await closedLoop("a", "GET /v1/sessions/{id}", url, read(`/v1/sessions/${session.id}`));
    await closedLoop(
      "b",
      "POST bids (product)",
      url,
      raisingBids(session.id, run.users, ledger, bidOutcomes),
    );
    await closedLoop("c", "GET leaderboard", url, read(`/v1/sessions/${session.id}/leaderboard?limit=50`));
    const naiveLedger = new BidLedger(naiveSession);
    const naiveBids = raisingBids(naiveSession.id, run.users, naiveLedger, naiveOutcomes);
    await closedLoop("d", "POST bids (naive: one upsert per bid)", naive.url, naiveBids);
  } finally {
    await naive.stop();
  }

  // The same offered rate twice: every bidder on its own connection (what
  // 1000 separate clients look like), then one keep-alive pool sized for the load.
  const fixedRate: FixedRateRun[] = [];
  for (const perBidder of [true, false]) {
    if (abort.signal.aborted) break;
    const label = perBidder ? `${bidderCount} connections, one per bidder` : "one shared keep-alive pool";
    console.log(`bench: fixed rate ${rate} bids/s, ${label}...`);
    const bidders = new OpenLoopBidders(url, run.users.slice(0, bidderCount), perBidder);
    await bidders.connect(session.id);
    const metrics = new RequestMetrics();
    const result = await bidders.run({
      sessionId: session.id,
      ratePerSecond: rate,
      durationMs,
      ledger,
      metrics,
      signal: abort.signal,
    });
    bidders.close();
    fixedRate.push({ connections: label, result, totals: metrics.totals() });
    await admin.waitForFlush(session.id, FLUSH_WAIT_MS);
  }

  console.log(
    `\nclosed loop, ${connections} connections, ${durationSeconds} s each:\n${formatClosedLoop(phases)}`,
  );
  console.log(`(b) answers: ${describeErrors(Object.fromEntries(bidOutcomes))}`);
  console.log(`(d) answers: ${describeErrors(Object.fromEntries(naiveOutcomes))}`);
  if (fixedRate.length > 0) {
    console.log(
      `\nfixed rate, open loop: ${rate} bids/s offered for ${durationSeconds} s; latency from when each bid was due:\n` +
        formatFixedRate(fixedRate, durationMs),
    );
  }

  console.log("\nconsistency check of the product's bids (b and the fixed-rate runs)...");
  const consistency = await checkConsistency({
    databaseUrl,
    sessionId: session.id,
    sinceSeq: before.seq,
    ledger: ledger,
    admin,
  });
  console.log(formatConsistencyReport(consistency));
  control.close();

  const serverErrors =
    [...bidOutcomes].filter(([label]) => label.startsWith("5")).reduce((sum, [, count]) => sum + count, 0) +
    fixedRate.reduce((sum, run) => sum + run.totals.serverErrors, 0);
  const path = writeReport("bench", {
    kind: "bench",
    at: new Date().toISOString(),
    url: url.origin,
    sessionId: session.id,
    naiveSessionId,
    options: { durationSeconds, connections, rate, bidders: bidderCount },
    closedLoop: phases,
    ratios: phaseRatios(phases),
    answers: { b: Object.fromEntries(bidOutcomes), d: Object.fromEntries(naiveOutcomes) },
    fixedRate,
    consistency,
  });
  console.log(`\nreport: ${path}`);
  return cli.verdict([
    consistency.ok ? "" : `consistency check failed (lost ${consistency.lost})`,
    serverErrors > 0 ? `${serverErrors} answers with a 5xx status from the product` : "",
  ]);
}

cli.runCommand("bench", USAGE, main);

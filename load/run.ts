// npm run load -- [--run load/results/run.json] [--users 1000] [--rate 300] [--duration 60s]
//   [--readers 5] [--database-url URL]
// The open-loop load test: bids at a fixed rate from the run file's users,
// leaderboard readers, a live line every second, a summary, a JSON report,
// and the consistency check against PostgreSQL.
import { randomBytes } from "node:crypto";
import { AdminFigures, type FiguresSnapshot } from "./admin-figures.js";
import { BiddingApi, firstRaise } from "./api.js";
import {
  databaseUrlOption,
  durationOption,
  integerOption,
  loopbackApiUrl,
  parseOptions,
  runCommand,
  UsageError,
} from "./args.js";
import { DEFAULT_BID_ATTEMPTS } from "./bid-client.js";
import { BidLedger } from "./bid-ledger.js";
import { checkConsistency, formatConsistencyReport } from "./consistency.js";
import { HttpClient } from "./http-client.js";
import { formatLiveLine } from "./live-line.js";
import { OpenLoopBidders } from "./open-loop.js";
import { formatMs } from "./percentiles.js";
import { runReaders } from "./readers.js";
import { RequestMetrics, type SecondSample } from "./request-metrics.js";
import { writeReport } from "./results.js";
import { DEFAULT_RUN_FILE, readRunFile } from "./run-file.js";
import { outcomesTable, summaryTable } from "./run-summary.js";

const USAGE = `usage: npm run load -- [--run ${DEFAULT_RUN_FILE}] [--users 1000] [--rate 300] [--duration 60s]
                    [--readers 5] [--read-interval 1s] [--database-url URL (else DATABASE_URL)]
                    [--connections shared|per-bidder] [--timeout 30s]`;

async function main(): Promise<number> {
  const values = parseOptions({
    run: { type: "string" },
    users: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    readers: { type: "string" },
    "read-interval": { type: "string" },
    "database-url": { type: "string" },
    connections: { type: "string" },
    timeout: { type: "string" },
  });
  const runPath = values.run ?? DEFAULT_RUN_FILE;
  const run = readRunFile(runPath);
  const url = loopbackApiUrl(run.url);
  const databaseUrl = databaseUrlOption(values["database-url"]);
  const userCount = integerOption("users", values.users, run.users.length, { min: 1, max: run.users.length });
  const rate = integerOption("rate", values.rate, 300, { min: 1, max: 20_000 });
  const durationMs = durationOption("duration", values.duration, 60_000, { minMs: 1000, maxMs: 3_600_000 });
  const readerCount = integerOption("readers", values.readers, 5, { min: 0, max: 200 });
  const readIntervalMs = durationOption("read-interval", values["read-interval"], 1000, {
    minMs: 10,
    maxMs: 60_000,
  });
  const timeoutMs = durationOption("timeout", values.timeout, DEFAULT_BID_ATTEMPTS.timeoutMs, {
    minMs: 100,
    maxMs: 120_000,
  });
  // One keep-alive pool sized for the load by default: through wrangler dev's proxy,
  // 1000 mostly idle connections cost more than the bids themselves (see the bench).
  const connections = values.connections ?? "shared";
  if (connections !== "per-bidder" && connections !== "shared") {
    throw new UsageError("--connections must be per-bidder or shared");
  }

  const control = new HttpClient(url, { maxSockets: 4 });
  const admin = new AdminFigures(control, run.adminToken);
  const api = new BiddingApi(control);
  const session = await api.session(run.sessionId);
  const endsInMs = Date.parse(session.endsAt) - Date.now();
  if (session.status !== "active" || endsInMs < durationMs + 5_000) {
    throw new UsageError(
      `session ${session.id} is ${session.status} and ends at ${session.endsAt}: too soon for this run; ` +
        "create a new one with npm run load:setup",
    );
  }
  const before = await admin.stats(session.id);
  const ledger = new BidLedger(firstRaise(session), session.minIncrement, randomBytes(4).toString("hex"));
  const bidders = new OpenLoopBidders(url, run.users.slice(0, userCount), connections === "per-bidder");

  const abort = new AbortController();
  let interrupts = 0;
  process.on("SIGINT", () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    console.log("\nstopping: no new bids; waiting for answers, then the check (Ctrl-C again to quit now)");
    abort.abort();
  });

  console.log(
    `load: ${rate} bids/s for ${durationMs / 1000} s from ${userCount} bidders (${connections} connections), ` +
      `${readerCount} leaderboard readers every ${readIntervalMs} ms\n` +
      `      session ${session.id} at ${url.origin}; seq before: ${before.seq}; first raise ${firstRaise(session)}`,
  );
  const connectFailures = await bidders.connect(session.id);
  if (connectFailures > 0) console.log(`load: ${connectFailures} bidders could not connect beforehand`);

  const bidMetrics = new RequestMetrics();
  const readMetrics = new RequestMetrics();
  const perSecond: {
    bids: SecondSample;
    reads: SecondSample;
    inFlight: number;
    pendingBids: number | null;
    poolStatus: string | null;
  }[] = [];
  let figures: FiguresSnapshot | undefined;
  let polling = false;
  const takeSecond = () => {
    const sample = {
      bids: bidMetrics.takeSecond(),
      reads: readMetrics.takeSecond(),
      inFlight: bidders.inFlight,
    };
    perSecond.push({
      ...sample,
      pendingBids: figures && !(figures.stats instanceof Error) ? figures.stats.pendingBids : null,
      poolStatus: figures && !(figures.pool instanceof Error) ? figures.pool.status : null,
    });
    console.log(formatLiveLine(sample.bids, sample.inFlight, sample.reads, figures));
    if (!polling) {
      polling = true;
      void admin.snapshot(session.id).then((snapshot) => {
        figures = snapshot;
        polling = false;
      });
    }
  };

  const startedAt = Date.now();
  const ticker = setInterval(takeSecond, 1000);
  const [openLoop] = await Promise.all([
    bidders.run({
      sessionId: session.id,
      ratePerSecond: rate,
      durationMs,
      ledger,
      metrics: bidMetrics,
      attempts: { ...DEFAULT_BID_ATTEMPTS, timeoutMs },
      signal: abort.signal,
    }),
    runReaders({
      url,
      sessionId: session.id,
      readers: readerCount,
      intervalMs: readIntervalMs,
      durationMs,
      limit: 50,
      metrics: readMetrics,
      signal: abort.signal,
    }),
  ]);
  clearInterval(ticker);
  const finishedAt = Date.now();
  takeSecond();
  bidders.close();

  const elapsedSeconds = (finishedAt - startedAt) / 1000;
  const bidTotals = bidMetrics.totals();
  const readTotals = readMetrics.totals();
  console.log(
    `\nsummary (${(openLoop.scheduleMs / 1000).toFixed(1)} s of schedule, ` +
      `${elapsedSeconds.toFixed(1)} s until the last answer):`,
  );
  console.log(summaryTable(bidTotals, readTotals, Math.max(1, openLoop.scheduleMs) / 1000, elapsedSeconds));
  console.log(`\n${outcomesTable(bidTotals, readTotals)}`);
  console.log(
    `\nclient: send lag p99 ${formatMs(openLoop.sendLagMs.p99)} (max ${formatMs(openLoop.sendLagMs.max)}), ` +
      `last answer ${formatMs(openLoop.drainMs)} after the last send; ` +
      `ledger: ${ledger.accepted} accepted, ${ledger.replayed} replayed, ${ledger.refused} refused, ` +
      `${ledger.unresolved().length} unresolved`,
  );
  if (ledger.foreignReceipts.length > 0) {
    console.log(`receipts for another user or amount than the bid sent: ${ledger.foreignReceipts.length}`);
  }

  console.log("\nconsistency check: waiting for the flush, then reading PostgreSQL...");
  const consistency = await checkConsistency({
    databaseUrl,
    sessionId: session.id,
    sinceSeq: before.seq,
    acknowledged: ledger.acknowledged(),
    unresolved: ledger.unresolved(),
    admin,
  });
  console.log(formatConsistencyReport(consistency));
  control.close();

  const serverErrors = bidTotals.serverErrors + readTotals.serverErrors;
  const path = writeReport("load", {
    kind: "load",
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    url: url.origin,
    sessionId: session.id,
    options: {
      users: userCount,
      rate,
      durationMs,
      readers: readerCount,
      readIntervalMs,
      connections,
      timeoutMs,
    },
    bids: bidTotals,
    leaderboard: readTotals,
    client: openLoop,
    ledger: {
      accepted: ledger.accepted,
      replayed: ledger.replayed,
      refused: ledger.refused,
      unresolved: ledger.unresolved(),
      foreignReceipts: ledger.foreignReceipts,
    },
    consistency,
    perSecond,
  });
  console.log(`\nreport: ${path}`);
  const failures = [
    consistency.ok ? "" : `consistency check failed (lost ${consistency.lost})`,
    serverErrors > 0 ? `${serverErrors} answers with a 5xx status` : "",
    ledger.foreignReceipts.length > 0 ? "receipts that do not match their bid" : "",
  ].filter((f) => f !== "");
  if (failures.length > 0) {
    console.log(`FAILED: ${failures.join("; ")}`);
    return 1;
  }
  return 0;
}

runCommand("load", USAGE, main);

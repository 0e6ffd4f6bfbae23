// The open-loop load test: bids at a fixed rate from the run file's users,
// leaderboard readers, live WebSocket watchers, a live line every second, a
// summary, a JSON report, and the consistency check against PostgreSQL.
import { checkConsistency, formatConsistencyReport } from "../bids/consistency.js";
import { BidLedger } from "../bids/ledger.js";
import { RequestMetrics } from "../bids/metrics.js";
import { OpenLoopBidders } from "../bids/open-loop.js";
import { DEFAULT_BID_ATTEMPTS } from "../bids/place-bid.js";
import { runReaders } from "../bids/readers.js";
import { AdminFigures, type FiguresSnapshot } from "../kit/admin-figures.js";
import { BiddingApi, firstRaise } from "../kit/api.js";
import * as cli from "../kit/cli.js";
import { CpuMeter, cpuTreeOption, describeCpu } from "../kit/cpu.js";
import { HttpClient } from "../kit/http.js";
import { formatMs, writeReport } from "../kit/report.js";
import { DEFAULT_RUN_FILE, readRunFile } from "../kit/run-file.js";
import { formatLiveLine, outcomesTable, summaryTable, watchersSummary } from "./summary.js";
import { LiveWatchers } from "./watchers.js";

const USAGE = `usage: npm run load -- [--run ${DEFAULT_RUN_FILE}] [--users 1000] [--rate 300] [--duration 60s]
                    [--readers 5] [--read-interval 1s] [--database-url URL (else DATABASE_URL)]
                    [--connections shared|per-bidder] [--timeout 30s]
                    [--raises own|top] [--watchers 0] [--watcher-sample 5] [--authenticated-watchers]
                    [--cpu-tree PID[,PID] (e.g. npm run dev's pid)]`;

/** After the last answer, how long the watchers wait for the boards that show the last bids. */
const WATCHER_GRACE_MS = 1_000;

async function main(): Promise<number> {
  const values = cli.parseOptions({
    run: { type: "string" },
    users: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    readers: { type: "string" },
    "read-interval": { type: "string" },
    "database-url": { type: "string" },
    connections: { type: "string" },
    timeout: { type: "string" },
    watchers: { type: "string" },
    "watcher-sample": { type: "string" },
    "authenticated-watchers": { type: "boolean" },
    raises: { type: "string" },
    "cpu-tree": { type: "string" },
  });
  const run = readRunFile(values.run ?? DEFAULT_RUN_FILE);
  const url = cli.loopbackApiUrl(run.url);
  const databaseUrl = cli.databaseUrlOption(values["database-url"]);
  const userCount = cli.integerOption("users", values.users, run.users.length, {
    min: 1,
    max: run.users.length,
  });
  const rate = cli.integerOption("rate", values.rate, 300, { min: 1, max: 20_000 });
  const durationMs = cli.durationOption("duration", values.duration, 60_000, {
    minMs: 1000,
    maxMs: 3_600_000,
  });
  const readerCount = cli.integerOption("readers", values.readers, 5, { min: 0, max: 200 });
  const readIntervalMs = cli.durationOption("read-interval", values["read-interval"], 1000, {
    minMs: 10,
    maxMs: 60_000,
  });
  const timeoutMs = cli.durationOption("timeout", values.timeout, DEFAULT_BID_ATTEMPTS.timeoutMs, {
    minMs: 100,
    maxMs: 120_000,
  });
  const watcherCount = cli.integerOption("watchers", values.watchers, 0, { min: 0, max: 10_000 });
  const watcherSample = cli.integerOption("watcher-sample", values["watcher-sample"], 5, {
    min: 1,
    max: Math.max(1, Math.min(50, watcherCount)),
  });
  const raises = cli.choiceOption("raises", values.raises, ["own", "top"]);
  const authenticatedWatchers = values["authenticated-watchers"] === true;
  if (authenticatedWatchers && (watcherCount === 0 || watcherCount > userCount)) {
    throw new cli.UsageError(
      "--authenticated-watchers signs watcher i in as bidder i: 1 <= --watchers <= --users",
    );
  }
  const cpuRoots = cpuTreeOption(values["cpu-tree"]);
  // One keep-alive pool sized for the load by default: through wrangler dev's proxy,
  // 1000 mostly idle connections cost more than the bids themselves (see the bench).
  const connections = cli.choiceOption("connections", values.connections, ["shared", "per-bidder"]);

  const control = new HttpClient(url, { maxSockets: 4 });
  const admin = new AdminFigures(control, run.adminToken);
  const api = new BiddingApi(control, run.adminToken);
  const session = await api.session(run.sessionId);
  const endsInMs = Date.parse(session.endsAt) - Date.now();
  if (session.status !== "active" || endsInMs < durationMs + 5_000) {
    throw new cli.UsageError(
      `session ${session.id} is ${session.status} and ends at ${session.endsAt}: too soon for this run; ` +
        "create a new one with npm run load:setup",
    );
  }
  const before = await admin.stats(session.id);
  const watchers =
    watcherCount === 0
      ? undefined
      : new LiveWatchers({
          url,
          sessionId: session.id,
          count: watcherCount,
          sampled: watcherSample,
          limit: 50,
          users: authenticatedWatchers ? run.users.slice(0, userCount) : [],
        });
  const ledger = new BidLedger(session, { onAcknowledged: watchers?.acknowledged, raises });
  const bidders = new OpenLoopBidders(url, run.users.slice(0, userCount), connections === "per-bidder");

  const abort = new AbortController();
  cli.stopOnInterrupt(abort, "stopping: no new bids; waiting for answers, then the check");

  console.log(
    `load: ${rate} bids/s for ${durationMs / 1000} s from ${userCount} bidders (${connections} connections, raises: ${raises}), ` +
      `${readerCount} leaderboard readers every ${readIntervalMs} ms\n` +
      `      session ${session.id} at ${url.origin}; seq before: ${before.seq}; first raise ${firstRaise(session)}`,
  );
  const connectFailures = await bidders.connect(session.id);
  if (connectFailures > 0) console.log(`load: ${connectFailures} bidders could not connect beforehand`);
  if (watchers) {
    const opened = await watchers.connect();
    console.log(
      `load: ${opened.opened} of ${watcherCount}${authenticatedWatchers ? " signed-in" : ""} watchers on /live ` +
        `(${watcherSample} sampled for the delay) ` +
        `in ${formatMs(opened.ms)}${opened.failed > 0 ? `, ${opened.failed} failed` : ""}`,
    );
  }

  const bidMetrics = new RequestMetrics();
  const readMetrics = new RequestMetrics();
  let figures: FiguresSnapshot | undefined;
  let polling = false;
  const sampleSecond = () => ({
    bids: bidMetrics.takeSecond(),
    reads: readMetrics.takeSecond(),
    inFlight: bidders.inFlight,
    watchers: watchers?.takeSecond(),
    pendingBids: figures && !(figures.stats instanceof Error) ? figures.stats.pendingBids : null,
    poolStatus: figures && !(figures.pool instanceof Error) ? figures.pool.status : null,
  });
  const perSecond: ReturnType<typeof sampleSecond>[] = [];
  const takeSecond = () => {
    const sample = sampleSecond();
    perSecond.push(sample);
    console.log(formatLiveLine(sample, figures));
    if (!polling) {
      polling = true;
      void admin.snapshot(session.id).then((snapshot) => {
        figures = snapshot;
        polling = false;
      });
    }
  };

  const cpuMeter = cpuRoots.length > 0 ? new CpuMeter(cpuRoots) : undefined;
  cpuMeter?.start();
  const clientCpuBefore = process.cpuUsage();
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
  // The server's CPU over the schedule and its answers, before anything the check costs.
  const serverCpu = cpuMeter?.stop();
  const clientCpu = process.cpuUsage(clientCpuBefore);
  takeSecond();
  bidders.close();
  const watcherTotals = await watchers?.finish(WATCHER_GRACE_MS);

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
  if (watcherTotals) console.log(watchersSummary(watcherTotals));
  const perThousandBids =
    serverCpu && bidTotals.completed > 0 ? serverCpu.total / (bidTotals.completed / 1000) : null;
  if (serverCpu) {
    console.log(
      `server CPU over ${serverCpu.seconds.toFixed(1)} s: ${serverCpu.total.toFixed(1)} s (${describeCpu(serverCpu)}); ` +
        `${perThousandBids?.toFixed(2) ?? "?"} CPU-s per 1000 bids`,
    );
  }
  const clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
  if (watchers || serverCpu) {
    console.log(
      `client CPU (this process): ${clientCpuSeconds.toFixed(1)} s over ${elapsedSeconds.toFixed(1)} s`,
    );
  }

  console.log("\nconsistency check: waiting for the flush, then reading PostgreSQL...");
  const consistency = await checkConsistency({
    databaseUrl,
    sessionId: session.id,
    sinceSeq: before.seq,
    ledger,
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
      watchers: watcherCount,
      watcherSample,
      authenticatedWatchers,
      raises,
      cpuTree: cpuRoots,
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
    // Left out when undefined (JSON has no undefined).
    watchers: watcherTotals,
    serverCpu: serverCpu && { ...serverCpu, perThousandBids },
    clientCpuSeconds: watchers || serverCpu ? clientCpuSeconds : undefined,
  });
  console.log(`\nreport: ${path}`);
  return cli.verdict([
    consistency.ok ? "" : `consistency check failed (lost ${consistency.lost})`,
    serverErrors > 0 ? `${serverErrors} answers with a 5xx status` : "",
    ledger.foreignReceipts.length > 0 ? "receipts that do not match their bid" : "",
    watcherTotals?.outbid && watcherTotals.outbid.told < watcherTotals.outbid.displaced
      ? `${watcherTotals.outbid.displaced - watcherTotals.outbid.told} displaced bidders never told they were outbid`
      : "",
    watcherTotals && watcherTotals.seqRegressions > 0
      ? `${watcherTotals.seqRegressions} live boards with a lower seq than one received before`
      : "",
  ]);
}

cli.runCommand("load", USAGE, main);

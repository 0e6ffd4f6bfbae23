// npm run bench:leaderboard (options: USAGE below), issue 4: the product's leaderboard (usernames
// from one cache MGET, at most one SQL query for the misses) against the reference system's N+1,
// served by the naive Worker (naive/) for the same session. Closed-loop phases in rounds: (a) GET
// session (the baseline object round trip), (c) the product's leaderboard, (c') the naive one;
// medians over the rounds. SQL statements are counted at the wire (tools/pg-wire-proxy.ts: started
// here for the naive Worker, `npm run pg-wire-counter` for the product, --product-wire). Exact
// per-request counts come from sequential probes; under load, the statements of a phase (read once
// they stop changing) are divided by the requests it sent.
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { z } from "zod";
import { LeaderboardSchema } from "../../src/api/contract.js";
import { DEFAULT_CACHE_NAMESPACE, usernameCacheKey } from "../../src/api/username-cache-key.js";
import { withClient } from "../../tools/pg-client.js";
import { readWireCounters, startPgWireProxy, type WireCounters } from "../../tools/pg-wire-proxy.js";
import { formatTable } from "../../tools/table.js";
import { runRawClosedLoop } from "../bids/closed-loop.js";
import { BidLedger } from "../bids/ledger.js";
import { placeBid } from "../bids/place-bid.js";
import { AdminFigures } from "../kit/admin-figures.js";
import { BiddingApi, type Leaderboard } from "../kit/api.js";
import * as cli from "../kit/cli.js";
import { forEachConcurrently } from "../kit/concurrency.js";
import { buildRequest, HttpClient } from "../kit/http.js";
import { formatMs, median, writeReport } from "../kit/report.js";
import { DEFAULT_RUN_FILE, readRunFile } from "../kit/run-file.js";
import { PHASE_HEADER, type Phase, type PhaseFigures, phaseCells, phaseFigures } from "./bench-summary.js";
import { startNaiveWorker } from "./workers.js";

const USAGE = `usage: npm run bench:leaderboard -- [--run ${DEFAULT_RUN_FILE}] [--url URL] [--connections 50]
         [--duration 10s] [--rounds 3] [--limit 50] [--probe-requests 20] [--naive-direct]
         [--product-wire CONTROL_URL (from npm run pg-wire-counter)] [--redis-url URL (else REDIS_URL)]
         [--cache-namespace ${DEFAULT_CACHE_NAMESPACE} (the stack's CACHE_NAMESPACE)]
         [--database-url URL (else DATABASE_URL)] [--runner start|dev]`;

const PAUSE_BETWEEN_PHASES_MS = 1_000;
const SEED_CONCURRENCY = 16;
const FLUSH_WAIT_MS = 30_000;
const SETTLE_POLL_MS = 500;
const SETTLE_MAX_POLLS = 60;
const KEYS = ["a", "c", "c'"] as const;
type LeaderboardPhase = (typeof KEYS)[number];
const PHASE_LABELS: Record<LeaderboardPhase, string> = {
  a: "GET /v1/sessions/{id} (baseline)",
  c: "GET leaderboard (product)",
  "c'": "GET leaderboard (naive: 1 + N queries)",
};

/** A proxy's counters once two reads in a row agree: requests still running on the server have finished. */
async function settled(controlUrl: string): Promise<WireCounters> {
  let last = await readWireCounters(controlUrl);
  for (let poll = 0; poll < SETTLE_MAX_POLLS; poll++) {
    await sleep(SETTLE_POLL_MS);
    const now = await readWireCounters(controlUrl);
    if (now.statements === last.statements && now.connections === last.connections) return now;
    last = now;
  }
  return last;
}

/** What `work` (returning the requests it sent) cost at the wire of the proxy at `controlUrl`, if any. */
async function delta(controlUrl: string | undefined, work: () => Promise<number>) {
  const before = controlUrl === undefined ? undefined : await settled(controlUrl);
  const requests = await work();
  const after = controlUrl === undefined ? undefined : await settled(controlUrl);
  if (!before || !after) return { requests, statements: null, connections: null };
  return {
    requests,
    statements: after.statements - before.statements,
    connections: after.connections - before.connections,
  };
}

interface PhaseRun extends Phase {
  /** Statements that reached PostgreSQL during the phase (null: not counted). */
  statements: number | null;
  connections: number | null;
}

/** The part of the contract's board both designs serve: the naive Worker answers no seq, status or total. */
async function readBoard(client: HttpClient, path: string): Promise<Leaderboard["entries"]> {
  const response = await client.request("GET", path);
  if (response.status !== 200)
    throw new Error(`GET ${path}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
  return LeaderboardSchema.pick({ entries: true }).parse(JSON.parse(response.body)).entries;
}

/** `count` requests one after another; returns how many answered 200. */
async function sequential(client: HttpClient, path: string, count: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) if ((await client.request("GET", path)).status === 200) ok += 1;
  return ok;
}

async function biddersInPostgres(databaseUrl: string, sessionId: string): Promise<number> {
  const result = await withClient(databaseUrl, (client) =>
    client.query("SELECT count(*) AS bidders FROM bids WHERE session_id = $1", [sessionId]),
  );
  return z.object({ bidders: z.coerce.number() }).parse(result.rows[0]).bidders;
}

const perRequest = (statements: number | null, requests: number) =>
  statements === null || requests === 0 ? null : statements / requests;
const formatPerRequest = (value: number | null) => (value === null ? "not counted" : value.toFixed(2));
const sent = (p: Phase) => p.result.completed + p.result.errors;

async function main(): Promise<number> {
  const values = cli.parseOptions({
    url: { type: "string" },
    run: { type: "string" },
    connections: { type: "string" },
    duration: { type: "string" },
    rounds: { type: "string" },
    limit: { type: "string" },
    "probe-requests": { type: "string" },
    "product-wire": { type: "string" },
    "redis-url": { type: "string" },
    "database-url": { type: "string" },
    "naive-direct": { type: "boolean" },
    "cache-namespace": { type: "string" },
    runner: { type: "string" },
  });
  const runner = cli.runnerOption(values.runner);
  const run = readRunFile(values.run ?? DEFAULT_RUN_FILE);
  const url = cli.loopbackApiUrl(values.url ?? run.url);
  const databaseUrl = cli.databaseUrlOption(values["database-url"]);
  // 50: the naive Worker opens a connection per request, and PostgreSQL allows 100 by default.
  const connections = cli.integerOption("connections", values.connections, 50, { min: 1, max: 2000 });
  const durationMs = cli.durationOption("duration", values.duration, 10_000, { minMs: 1000, maxMs: 300_000 });
  const durationSeconds = Math.round(durationMs / 1000);
  const rounds = cli.integerOption("rounds", values.rounds, 3, { min: 1, max: 10 });
  const limit = cli.integerOption("limit", values.limit, 50, { min: 1, max: 100 });
  const probeRequests = cli.integerOption("probe-requests", values["probe-requests"], 20, {
    min: 1,
    max: 1000,
  });
  const productWire =
    values["product-wire"] === undefined ? undefined : cli.loopbackApiUrl(values["product-wire"]).origin;
  const redisUrl = cli.redisUrlOption(values["redis-url"]);
  const cacheNamespace = values["cache-namespace"] ?? DEFAULT_CACHE_NAMESPACE;

  const control = new HttpClient(url, { maxSockets: SEED_CONCURRENCY + 2 });
  const api = new BiddingApi(control, run.adminToken);
  const admin = new AdminFigures(control, run.adminToken);
  const session = await api.session(run.sessionId);
  if (session.status !== "active") throw new cli.UsageError(`session ${session.id} is ${session.status}`);
  const boardPath = `/v1/sessions/${session.id}/leaderboard?limit=${limit}`;

  // The naive board reads PostgreSQL: the session needs at least `limit` flushed bidders.
  if ((await biddersInPostgres(databaseUrl, session.id)) < limit) {
    const seeders = run.users.slice(0, Math.max(limit, Math.min(1000, run.users.length)));
    console.log(`leaderboard-bench: seeding one bid from each of ${seeders.length} users...`);
    const ledger = new BidLedger(session);
    await forEachConcurrently(seeders, SEED_CONCURRENCY, async (user) => {
      await placeBid(control, session.id, user.token, ledger.plan(user.id), ledger);
    });
    await admin.waitForFlush(session.id, FLUSH_WAIT_MS);
    const bidders = await biddersInPostgres(databaseUrl, session.id);
    if (bidders < limit) throw new Error(`only ${bidders} bidders in PostgreSQL after seeding`);
  }

  // --naive-direct: the naive Worker straight to PostgreSQL, to see what the counting proxy's hop costs it.
  const naiveDirect = values["naive-direct"] === true;
  const proxy = naiveDirect
    ? undefined
    : await startPgWireProxy({ targetUrl: databaseUrl, host: "127.0.0.1" });
  const naiveWire = proxy?.controlUrl;
  console.log(
    `leaderboard-bench: starting the naive Worker (load/benchmarks/naive)${proxy ? " behind a counting wire proxy" : ""}...`,
  );
  const naive = await startNaiveWorker(runner, proxy?.url ?? databaseUrl);
  const naiveClient = new HttpClient(naive.url, { maxSockets: 1 });
  const productClient = new HttpClient(url, { maxSockets: 1 });
  try {
    // Both must show the same board, or the comparison means nothing.
    const [productBoard, naiveBoard] = await Promise.all([
      readBoard(productClient, boardPath),
      readBoard(naiveClient, boardPath),
    ]);
    const shown = (board: Leaderboard["entries"]) =>
      JSON.stringify(board.map(({ userId, amount, username }) => [userId, amount, username]));
    if (shown(productBoard) !== shown(naiveBoard)) {
      throw new Error(
        `the product's and the naive board differ (product ${JSON.stringify(productBoard.slice(0, 3))}…, ` +
          `naive ${JSON.stringify(naiveBoard.slice(0, 3))}…): is the session fully flushed, and does the ` +
          "stack's username cache belong to this database?",
      );
    }
    console.log(`leaderboard-bench: both boards show the same ${productBoard.length} entries`);

    // Exact statements per request: one request at a time, nothing else in flight.
    let coldStatements: number | null = null;
    if (redisUrl !== undefined && productWire !== undefined) {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        await redis.del(...productBoard.map((entry) => usernameCacheKey(cacheNamespace, entry.userId)));
      } finally {
        redis.disconnect();
      }
      coldStatements = (await delta(productWire, () => sequential(productClient, boardPath, 1))).statements;
    }
    const warmProbe = await delta(productWire, () => sequential(productClient, boardPath, probeRequests));
    const naiveProbe = await delta(naiveWire, () => sequential(naiveClient, boardPath, probeRequests));
    const probe = {
      productWarmStatementsPerRequest: perRequest(warmProbe.statements, warmProbe.requests),
      productColdStatements: coldStatements,
      naiveStatementsPerRequest: perRequest(naiveProbe.statements, naiveProbe.requests),
      naiveConnectionsPerRequest: perRequest(naiveProbe.connections, naiveProbe.requests),
    };
    console.log(
      `probe, ${probeRequests} sequential requests: product ${formatPerRequest(probe.productWarmStatementsPerRequest)} ` +
        `statements/request with a warm cache` +
        (coldStatements === null ? "" : `, ${coldStatements} for the first with a cold cache`) +
        `; naive ${formatPerRequest(probe.naiveStatementsPerRequest)} statements/request, ` +
        `${formatPerRequest(probe.naiveConnectionsPerRequest)} connections/request`,
    );

    const runs: Record<LeaderboardPhase, PhaseRun[]> = { a: [], c: [], "c'": [] };
    const targets: Record<LeaderboardPhase, { target: URL; path: string; wire: string | undefined }> = {
      a: { target: url, path: `/v1/sessions/${session.id}`, wire: productWire },
      c: { target: url, path: boardPath, wire: productWire },
      "c'": { target: naive.url, path: boardPath, wire: naiveWire },
    };
    const abort = new AbortController();
    cli.stopOnInterrupt(abort, "stopping after the current phase");
    for (let round = 1; round <= rounds && !abort.signal.aborted; round++) {
      for (const key of KEYS) {
        if (abort.signal.aborted) break;
        const { target, path, wire } = targets[key];
        let phase: Phase | undefined;
        const counted = await delta(wire, async () => {
          const request = buildRequest("GET", path, {});
          const result = await runRawClosedLoop({
            url: target,
            connections,
            durationMs,
            nextRequest: () => request,
            signal: abort.signal,
          });
          phase = { label: PHASE_LABELS[key], result };
          await sleep(PAUSE_BETWEEN_PHASES_MS);
          return sent(phase);
        });
        if (!phase) break;
        runs[key].push({ ...phase, statements: counted.statements, connections: counted.connections });
        const r = phase.result;
        console.log(
          `round ${round} (${key}) ${PHASE_LABELS[key]}: ${(r.completed / r.seconds).toFixed(0)} req/s, ` +
            `p50 ${formatMs(r.latency.p50)}, p99 ${formatMs(r.latency.p99)}, non-2xx ${r.non2xx}, no answer ${r.errors}, ` +
            `statements/request ${formatPerRequest(perRequest(counted.statements, sent(phase)))} ` +
            `(${counted.statements ?? "?"} statements, ${counted.connections ?? "?"} connections, ` +
            `${sent(phase)} requests sent, ${r.completed} answered)`,
        );
      }
    }

    const medians = Object.fromEntries(
      KEYS.map((key) => {
        const list = runs[key];
        const figures = list.map((p) => phaseFigures(p.result));
        const medianOf = (pick: (f: PhaseFigures) => number) => median(figures.map(pick));
        const sumOf = (pick: (f: PhaseFigures) => number) => figures.reduce((sum, f) => sum + pick(f), 0);
        const perSent = (pick: (p: PhaseRun) => number | null) => {
          const values = list.flatMap((p) => {
            const value = pick(p);
            return value === null ? [] : [value / Math.max(1, sent(p))];
          });
          return values.length === 0 ? null : median(values);
        };
        return [
          key,
          {
            rounds: list.length,
            requestsPerSecond: medianOf((f) => f.requestsPerSecond),
            okPerSecond: medianOf((f) => f.okPerSecond),
            p50: medianOf((f) => f.p50),
            p99: medianOf((f) => f.p99),
            non2xx: sumOf((f) => f.non2xx),
            errors: sumOf((f) => f.errors),
            statementsPerRequest: perSent((p) => p.statements),
            connectionsPerRequest: perSent((p) => p.connections),
          },
        ];
      }),
    );
    const ratio = (x: LeaderboardPhase, y: LeaderboardPhase) => {
      const [top, bottom] = [medians[x]?.okPerSecond, medians[y]?.okPerSecond];
      return top === undefined || bottom === undefined || bottom === 0 ? Number.NaN : top / bottom;
    };
    const rows = KEYS.flatMap((key) => {
      const row = medians[key];
      if (!row || row.rounds === 0) return [];
      const sql = [formatPerRequest(row.statementsPerRequest), formatPerRequest(row.connectionsPerRequest)];
      return [[`(${key}) ${PHASE_LABELS[key]}`, ...phaseCells(row), ...sql]];
    });
    const ratios = { "c/c'": ratio("c", "c'"), "c/a": ratio("c", "a"), "c'/a": ratio("c'", "a") };
    console.log(
      `\nclosed loop, ${connections} connections, ${durationSeconds} s per phase, medians of ${rounds} round(s):\n` +
        formatTable(["", ...PHASE_HEADER, "SQL statements/req", "SQL connections/req"], rows) +
        `\n\nratios of 2xx/s: product/naive c/c' = ${ratios["c/c'"].toFixed(2)}, ` +
        `c/a = ${ratios["c/a"].toFixed(2)}, c'/a = ${ratios["c'/a"].toFixed(2)}`,
    );
    const path = writeReport("leaderboard-bench", {
      kind: "leaderboard-bench",
      at: new Date().toISOString(),
      url: url.origin,
      naiveUrl: naive.url.origin,
      sessionId: session.id,
      options: { connections, durationSeconds, rounds, limit, probeRequests, naiveDirect },
      probe,
      rounds: runs,
      medians,
      ratios,
    });
    console.log(`report: ${path}`);
    return 0;
  } finally {
    naiveClient.close();
    productClient.close();
    control.close();
    await naive.stop();
    await proxy?.close();
  }
}

cli.runCommand("leaderboard-bench", USAGE, main);

// npx tsx load/leaderboard-bench.ts -- [--run load/results/run.json] [--url URL] [--connections 50]
//   [--duration 10s] [--rounds 3] [--limit 50] [--product-wire http://127.0.0.1:PORT]
//   [--redis-url redis://127.0.0.1:6379] [--database-url URL (else DATABASE_URL)] [--naive-direct]
//   [--runner start|dev]
// Issue 4: the product's leaderboard (usernames from one cache MGET, at most one SQL query for the
// misses) against the reference system's N+1 (the top bids from PostgreSQL, then one query per
// username), served by the naive Worker in load/naive/ for the same session. Closed-loop autocannon
// phases with the same connections and duration, in rounds: (a) GET session (the baseline object
// round trip), (c) the product's leaderboard, (c') the naive one; medians over the rounds.
// SQL statements are counted at the wire: the naive Worker's database connection runs through the
// tests' counting proxy (test/support/pg-wire-proxy.ts), started here; the product's does when its
// stack was started with DATABASE_URL pointing at `load/pg-wire-counter.ts` (pass its control URL
// as --product-wire). Exact per-request counts come from sequential probes; under load, the
// statements of a phase (read once they stop changing) are divided by the requests it sent,
// those still in flight when autocannon stopped included.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { z } from "zod";
import { DEFAULT_CACHE_NAMESPACE, usernameCacheKey } from "../../src/users/username-cache-key.js";
import { startPgWireProxy, type WireCounters } from "../../tools/pg-wire-proxy.js";
import { readDevSecret } from "../../tools/token.js";
import { runClosedLoop } from "../bids/autocannon-loop.js";
import { BidLedger } from "../bids/ledger.js";
import { DEFAULT_BID_ATTEMPTS, placeBid } from "../bids/place-bid.js";
import { AdminFigures } from "../kit/admin-figures.js";
import { BiddingApi, firstRaise } from "../kit/api.js";
import { LeaderboardSchema } from "../kit/api-schemas.js";
import {
  databaseUrlOption,
  durationOption,
  integerOption,
  loopbackApiUrl,
  parseOptions,
  runCommand,
  runnerOption,
  UsageError,
} from "../kit/cli.js";
import { HttpClient } from "../kit/http.js";
import { writeReport } from "../kit/results.js";
import { DEFAULT_RUN_FILE, readRunFile } from "../kit/run-file.js";
import { formatMs, percentile } from "../kit/stats.js";
import { formatTable } from "../kit/table.js";
import { type Phase, toPhase } from "./bench-summary.js";
import { startNaiveWorker } from "./naive-worker.js";

const USAGE = `usage: npx tsx load/leaderboard-bench.ts -- [--run ${DEFAULT_RUN_FILE}] [--url URL] [--connections 50]
         [--duration 10s] [--rounds 3] [--limit 50] [--probe-requests 20] [--naive-direct]
         [--product-wire CONTROL_URL (from load/pg-wire-counter.ts)] [--redis-url URL (else REDIS_URL)]
         [--cache-namespace ${DEFAULT_CACHE_NAMESPACE} (the stack's CACHE_NAMESPACE)]
         [--database-url URL (else DATABASE_URL)] [--runner start|dev]`;

const PAUSE_BETWEEN_PHASES_MS = 1_000;
const SEED_CONCURRENCY = 16;
const FLUSH_WAIT_MS = 30_000;

type LeaderboardPhase = "a" | "c" | "c'";
const PHASE_LABELS: Record<LeaderboardPhase, string> = {
  a: "GET /v1/sessions/{id} (baseline)",
  c: "GET leaderboard (product)",
  "c'": "GET leaderboard (naive: 1 + N queries)",
};

interface WireCounter {
  read(): Promise<WireCounters>;
}

const WireCountersSchema = z.object({ connections: z.number().int(), statements: z.number().int() });

/** The counters of a proxy in another process, through its control URL. */
function remoteCounter(controlUrl: URL): WireCounter {
  return {
    async read() {
      const response = await fetch(new URL("/counters", controlUrl), { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`${controlUrl.origin}/counters: HTTP ${response.status}`);
      return WireCountersSchema.parse(await response.json());
    },
  };
}

const SETTLE_POLL_MS = 500;
const SETTLE_MAX_POLLS = 60;

/** The counters once two reads in a row agree: requests still running on the server have finished. */
async function settled(counter: WireCounter): Promise<WireCounters> {
  let last = await counter.read();
  for (let poll = 0; poll < SETTLE_MAX_POLLS; poll++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const now = await counter.read();
    if (now.statements === last.statements && now.connections === last.connections) return now;
    last = now;
  }
  return last;
}

async function delta(counter: WireCounter | undefined, work: () => Promise<number>) {
  const before = counter && (await settled(counter));
  const requests = await work();
  const after = counter && (await settled(counter));
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
const BoardSchema = LeaderboardSchema.pick({ entries: true });
type BoardEntry = z.infer<typeof BoardSchema>["entries"][number];

async function readBoard(client: HttpClient, path: string): Promise<BoardEntry[]> {
  const response = await client.request("GET", path);
  if (response.status !== 200)
    throw new Error(`GET ${path}: HTTP ${response.status} ${response.text.slice(0, 200)}`);
  return BoardSchema.parse(JSON.parse(response.text)).entries;
}

/** `count` requests one after another; returns how many answered 200. */
async function sequential(client: HttpClient, path: string, count: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const response = await client.request("GET", path);
    if (response.status === 200) ok += 1;
  }
  return ok;
}

const CountSchema = z.object({ bidders: z.coerce.number() });

async function biddersInPostgres(databaseUrl: string, sessionId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const result = await client.query("SELECT count(*) AS bidders FROM bids WHERE session_id = $1", [
      sessionId,
    ]);
    return CountSchema.parse(result.rows[0]).bidders;
  } finally {
    await client.end();
  }
}

const median = (values: readonly number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const perRequest = (statements: number | null, requests: number) =>
  statements === null || requests === 0 ? null : statements / requests;
const formatPerRequest = (value: number | null) => (value === null ? "not counted" : value.toFixed(2));

async function main(): Promise<number> {
  const values = parseOptions({
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
  const runner = runnerOption(values.runner);
  const run = readRunFile(values.run ?? DEFAULT_RUN_FILE);
  const url = loopbackApiUrl(values.url ?? run.url);
  const databaseUrl = databaseUrlOption(values["database-url"]);
  // 50: the naive Worker opens a connection per request, and PostgreSQL allows 100 by default.
  const connections = integerOption("connections", values.connections, 50, { min: 1, max: 2000 });
  const durationMs = durationOption("duration", values.duration, 10_000, { minMs: 1000, maxMs: 300_000 });
  const durationSeconds = Math.round(durationMs / 1000);
  const rounds = integerOption("rounds", values.rounds, 3, { min: 1, max: 10 });
  const limit = integerOption("limit", values.limit, 50, { min: 1, max: 100 });
  const probeRequests = integerOption("probe-requests", values["probe-requests"], 20, { min: 1, max: 1000 });
  const productWire =
    values["product-wire"] === undefined ? undefined : remoteCounter(loopbackApiUrl(values["product-wire"]));
  const redisUrl = values["redis-url"] ?? process.env.REDIS_URL;
  const cacheNamespace = values["cache-namespace"] ?? DEFAULT_CACHE_NAMESPACE;
  if (redisUrl !== undefined && !/^redis:\/\/(127\.0\.0\.1|localhost)(:[0-9]+)?(\/[0-9]+)?$/.test(redisUrl)) {
    throw new UsageError("--redis-url must be a loopback redis:// URL, e.g. redis://127.0.0.1:6379/9");
  }

  const control = new HttpClient(url, { maxSockets: SEED_CONCURRENCY + 2 });
  const api = new BiddingApi(control);
  const admin = new AdminFigures(control, run.adminToken);
  const session = await api.session(run.sessionId);
  if (session.status !== "active") throw new UsageError(`session ${session.id} is ${session.status}`);
  const boardPath = `/v1/sessions/${session.id}/leaderboard?limit=${limit}`;

  // The naive board reads PostgreSQL: the session needs at least `limit` flushed bidders.
  if ((await biddersInPostgres(databaseUrl, session.id)) < limit) {
    const seeders = run.users.slice(0, Math.max(limit, Math.min(1000, run.users.length)));
    console.log(`leaderboard-bench: seeding one bid from each of ${seeders.length} users...`);
    const ledger = new BidLedger(firstRaise(session), session.minIncrement, randomBytes(4).toString("hex"));
    let next = 0;
    const seeder = async () => {
      for (let user = seeders[next++]; user !== undefined; user = seeders[next++]) {
        await placeBid(control, session.id, user.token, ledger.plan(user.id), ledger, {
          ...DEFAULT_BID_ATTEMPTS,
          onRetry: () => {},
        });
      }
    };
    await Promise.all(Array.from({ length: SEED_CONCURRENCY }, seeder));
    await admin.waitForFlush(session.id, FLUSH_WAIT_MS);
    const bidders = await biddersInPostgres(databaseUrl, session.id);
    if (bidders < limit) throw new Error(`only ${bidders} bidders in PostgreSQL after seeding`);
  }

  // --naive-direct: the naive Worker straight to PostgreSQL, to see what the counting proxy's hop costs it.
  const naiveDirect = values["naive-direct"] === true;
  const proxy = naiveDirect
    ? undefined
    : await startPgWireProxy({ targetUrl: databaseUrl, host: "127.0.0.1" });
  const naiveWire = proxy && remoteCounter(new URL(proxy.controlUrl));
  console.log(
    `leaderboard-bench: starting the naive Worker (load/benchmarks/naive)${proxy ? " behind a counting wire proxy" : ""}...`,
  );
  const naive = await startNaiveWorker({
    runner,
    databaseUrl: proxy?.url ?? databaseUrl,
    jwtSecret: readDevSecret(),
  });
  const naiveClient = new HttpClient(naive.url, { maxSockets: 1 });
  const productClient = new HttpClient(url, { maxSockets: 1 });
  try {
    // Both must show the same board, or the comparison means nothing.
    const [productBoard, naiveBoard] = await Promise.all([
      readBoard(productClient, boardPath),
      readBoard(naiveClient, boardPath),
    ]);
    const same =
      productBoard.length === naiveBoard.length &&
      productBoard.every((entry, i) => {
        const other = naiveBoard[i];
        return (
          other !== undefined &&
          other.userId === entry.userId &&
          other.amount === entry.amount &&
          other.username === entry.username
        );
      });
    if (!same) {
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
    console.log(
      `probe, ${probeRequests} sequential requests: product ${formatPerRequest(perRequest(warmProbe.statements, warmProbe.requests))} ` +
        `statements/request with a warm cache` +
        (coldStatements === null ? "" : `, ${coldStatements} for the first with a cold cache`) +
        `; naive ${formatPerRequest(perRequest(naiveProbe.statements, naiveProbe.requests))} statements/request, ` +
        `${formatPerRequest(perRequest(naiveProbe.connections, naiveProbe.requests))} connections/request`,
    );

    const runs: Record<LeaderboardPhase, PhaseRun[]> = { a: [], c: [], "c'": [] };
    const targets: Record<LeaderboardPhase, { target: URL; path: string; wire: WireCounter | undefined }> = {
      a: { target: url, path: `/v1/sessions/${session.id}`, wire: productWire },
      c: { target: url, path: boardPath, wire: productWire },
      "c'": { target: naive.url, path: boardPath, wire: naiveWire },
    };
    const abort = new AbortController();
    process.on("SIGINT", () => {
      if (abort.signal.aborted) process.exit(130);
      console.log("\nstopping after the current phase (Ctrl-C again to quit now)");
      abort.abort();
    });
    for (let round = 1; round <= rounds && !abort.signal.aborted; round++) {
      for (const key of ["a", "c", "c'"] as const) {
        if (abort.signal.aborted) break;
        const { target, path, wire } = targets[key];
        let phase: Phase | undefined;
        const counted = await delta(wire, async () => {
          const result = await runClosedLoop({
            label: PHASE_LABELS[key],
            url: target,
            connections,
            durationSeconds,
            request: { method: "GET", path },
            signal: abort.signal,
          });
          phase = toPhase(result, durationSeconds);
          await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_PHASES_MS));
          return result.sent;
        });
        if (!phase) break;
        runs[key].push({ ...phase, statements: counted.statements, connections: counted.connections });
        const r = phase.result;
        console.log(
          `round ${round} (${key}) ${PHASE_LABELS[key]}: ${r.requestsPerSecond.toFixed(0)} req/s, ` +
            `p50 ${formatMs(r.p50)}, p99 ${formatMs(r.p99)}, non-2xx ${r.non2xx}, no answer ${r.errors}, ` +
            `statements/request ${formatPerRequest(perRequest(counted.statements, r.sent))} ` +
            `(${counted.statements ?? "?"} statements, ${counted.connections ?? "?"} connections, ` +
            `${r.sent} requests sent, ${r.completed} answered)`,
        );
      }
    }

    const medians = Object.fromEntries(
      (["a", "c", "c'"] as const).map((key) => {
        const list = runs[key];
        const counted = list.flatMap((p) =>
          p.statements === null ? [] : [p.statements / Math.max(1, p.result.sent)],
        );
        const connections = list.flatMap((p) =>
          p.connections === null ? [] : [p.connections / Math.max(1, p.result.sent)],
        );
        return [
          key,
          {
            rounds: list.length,
            requestsPerSecond: median(list.map((p) => p.result.requestsPerSecond)),
            okPerSecond: median(list.map((p) => p.okPerSecond)),
            p50: median(list.map((p) => p.result.p50)),
            p99: median(list.map((p) => p.result.p99)),
            non2xx: list.reduce((sum, p) => sum + p.result.non2xx, 0),
            errors: list.reduce((sum, p) => sum + p.result.errors, 0),
            statementsPerRequest: counted.length === 0 ? null : median(counted),
            connectionsPerRequest: connections.length === 0 ? null : median(connections),
          },
        ];
      }),
    );
    const m = (key: LeaderboardPhase) => medians[key];
    const ratio = (x: number | undefined, y: number | undefined) =>
      x === undefined || y === undefined || y === 0 ? Number.NaN : x / y;
    const rows = (["a", "c", "c'"] as const).flatMap((key) => {
      const row = m(key);
      if (!row || row.rounds === 0) return [];
      return [
        [
          `(${key}) ${PHASE_LABELS[key]}`,
          row.requestsPerSecond.toFixed(0),
          row.okPerSecond.toFixed(0),
          formatMs(row.p50),
          formatMs(row.p99),
          String(row.non2xx),
          String(row.errors),
          formatPerRequest(row.statementsPerRequest),
          formatPerRequest(row.connectionsPerRequest),
        ],
      ];
    });
    const ratios = {
      "c/c'": ratio(m("c")?.okPerSecond, m("c'")?.okPerSecond),
      "c/a": ratio(m("c")?.okPerSecond, m("a")?.okPerSecond),
      "c'/a": ratio(m("c'")?.okPerSecond, m("a")?.okPerSecond),
    };
    console.log(
      `\nclosed loop, ${connections} connections, ${durationSeconds} s per phase, medians of ${rounds} round(s):\n` +
        formatTable(
          [
            "",
            "req/s",
            "2xx/s",
            "p50",
            "p99",
            "non-2xx",
            "no answer",
            "SQL statements/req",
            "SQL connections/req",
          ],
          rows,
        ) +
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
      probe: {
        productWarmStatementsPerRequest: perRequest(warmProbe.statements, warmProbe.requests),
        productColdStatements: coldStatements,
        naiveStatementsPerRequest: perRequest(naiveProbe.statements, naiveProbe.requests),
        naiveConnectionsPerRequest: perRequest(naiveProbe.connections, naiveProbe.requests),
      },
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

runCommand("leaderboard-bench", USAGE, main);

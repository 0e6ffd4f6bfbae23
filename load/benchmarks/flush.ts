// npm run bench:flush (options and the stack it needs: USAGE below): how long one flush of N
// pending bids takes (issue 3). Each run: a fresh session, N accepted bids, each user raising its
// own; the stats must show pendingBids = N; then PATCH endsAt to now (the end of a session flushes
// at once) and poll the stats until nothing is pending. The figures are the object's own
// lastFlushDurationMs and lastFlushRows; PostgreSQL must then hold N bid_events rows.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { withClient } from "../../tools/pg-client.js";
import { formatTable } from "../../tools/table.js";
import { BidLedger } from "../bids/ledger.js";
import { describeErrors } from "../bids/metrics.js";
import { placeBid } from "../bids/place-bid.js";
import { AdminFigures } from "../kit/admin-figures.js";
import { type Bidder, BiddingApi, signAdminToken } from "../kit/api.js";
import * as cli from "../kit/cli.js";
import { HttpClient } from "../kit/http.js";
import { formatMs, median, writeReport } from "../kit/report.js";

const USAGE = `usage: npm run bench:flush -- --bids N [--url http://127.0.0.1:\${PORT:-8787}] [--users 1000]
                           [--runs 3] [--concurrency 16] [--database-url URL (else DATABASE_URL)]
The stack must run with FLUSH_INTERVAL_MS=3600000 BID_RATE_PER_SECOND=10000 BID_RATE_BURST=10000`;

const TOKEN_SECONDS = 2 * 3600;
const FLUSH_POLL_MS = 50;
const FLUSH_TIMEOUT_MS = 120_000;
/** Bids refused or without an answer, beyond which the run stops: the stack is not set up for this. */
const MAX_FAILED_BIDS = 20;

const CountRowSchema = z.object({ events: z.coerce.number(), live: z.coerce.number() });

async function countRows(databaseUrl: string, sessionId: string): Promise<{ events: number; live: number }> {
  const result = await withClient(databaseUrl, (client) =>
    client.query(
      `SELECT (SELECT count(*) FROM bid_events WHERE session_id = $1) AS events,
              (SELECT count(*) FROM bids WHERE session_id = $1) AS live`,
      [sessionId],
    ),
  );
  return CountRowSchema.parse(result.rows[0]);
}

/**
 * Places `total` bids, bid i from bidder i mod bidders, with `concurrency` in flight. Bidder b
 * always belongs to lane b mod concurrency, which sends its bids in order, so a user's raises
 * never overtake each other.
 */
async function placeBids(
  client: HttpClient,
  sessionId: string,
  bidders: readonly Bidder[],
  total: number,
  concurrency: number,
  ledger: BidLedger,
): Promise<Map<string, number>> {
  const outcomes = new Map<string, number>();
  const rounds = Math.ceil(total / bidders.length);
  let failed = 0;
  const lane = async (first: number) => {
    for (let round = 0; round < rounds; round++) {
      for (let slot = first; slot < bidders.length && failed <= MAX_FAILED_BIDS; slot += concurrency) {
        const bidder = bidders[slot];
        if (!bidder || round * bidders.length + slot >= total) break;
        const outcome = await placeBid(client, sessionId, bidder.token, ledger.plan(bidder.id), ledger);
        outcomes.set(outcome.label, (outcomes.get(outcome.label) ?? 0) + 1);
        if (outcome.status !== 201) failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bidders.length) }, (_, first) => lane(first)));
  return outcomes;
}

async function measureOnce(
  api: BiddingApi,
  admin: AdminFigures,
  databaseUrl: string,
  bidders: readonly Bidder[],
  options: { bids: number; concurrency: number },
) {
  const session = await api.createSession(`Flush timing ${new Date().toISOString()} (${options.bids} bids)`);
  const ledger = new BidLedger(session);
  const placeStarted = performance.now();
  const { bids, concurrency } = options;
  const outcomes = await placeBids(api.client, session.id, bidders, bids, concurrency, ledger);
  const placeSeconds = (performance.now() - placeStarted) / 1000;
  if (ledger.accepted !== options.bids) {
    throw new Error(
      `${ledger.accepted} of ${options.bids} bids accepted (${describeErrors(Object.fromEntries(outcomes))}): ` +
        "is the stack running with the rate limit and flush interval of the usage line?",
    );
  }
  const before = await admin.stats(session.id);
  if (before.pendingBids !== options.bids || before.totalFlushed !== 0) {
    throw new Error(
      `expected ${options.bids} pending and nothing flushed, found ${before.pendingBids} pending and ` +
        `${before.totalFlushed} flushed: a flush ran early (is FLUSH_INTERVAL_MS 3600000?)`,
    );
  }

  const patchedAt = performance.now();
  await api.endSession(session.id);
  const after = await admin.waitForFlush(session.id, FLUSH_TIMEOUT_MS, FLUSH_POLL_MS);
  if (after?.pendingBids !== 0) {
    throw new Error(`session ${session.id}: bids still pending after ${FLUSH_TIMEOUT_MS / 1000} s`);
  }
  const observedMs = performance.now() - patchedAt;
  const rows = await countRows(databaseUrl, session.id);
  return {
    sessionId: session.id,
    bids: options.bids,
    placeSeconds,
    pendingBefore: before.pendingBids,
    // The object's own figures for the flush the end of the session triggered.
    lastFlushDurationMs: after.lastFlushDurationMs,
    lastFlushRows: after.lastFlushRows,
    totalFlushed: after.totalFlushed,
    // From sending the PATCH to the first stats read showing nothing pending: an upper bound.
    observedMs,
    eventRows: rows.events,
    liveRows: rows.live,
  };
}

async function main(): Promise<number> {
  const values = cli.parseOptions({
    url: { type: "string" },
    bids: { type: "string" },
    users: { type: "string" },
    runs: { type: "string" },
    concurrency: { type: "string" },
    "database-url": { type: "string" },
  });
  if (values.bids === undefined) throw new cli.UsageError("--bids is required");
  const url = cli.loopbackApiUrl(values.url ?? cli.defaultApiUrl());
  const databaseUrl = cli.databaseUrlOption(values["database-url"]);
  const bids = cli.integerOption("bids", values.bids, 1000, { min: 1, max: 20_000 });
  const userCount = cli.integerOption("users", values.users, Math.min(1000, bids), { min: 1, max: 10_000 });
  const runs = cli.integerOption("runs", values.runs, 3, { min: 1, max: 10 });
  const concurrency = cli.integerOption("concurrency", values.concurrency, 16, { min: 1, max: 200 });

  const client = new HttpClient(url, { maxSockets: concurrency + 2 });
  try {
    const adminToken = await signAdminToken(TOKEN_SECONDS);
    const api = new BiddingApi(client, adminToken);
    const admin = new AdminFigures(client, adminToken);
    const tag = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
    const usernames = Array.from({ length: userCount }, (_, i) => `ft${tag}_${i + 1}`);
    const bidders = await api.createBidders(usernames, TOKEN_SECONDS);
    console.log(
      `flush-timing: ${url.origin}, ${bids} bids from ${bidders.length} users per run, ` +
        `${concurrency} in flight, ${runs} run(s)`,
    );

    const results: Awaited<ReturnType<typeof measureOnce>>[] = [];
    for (let run = 1; run <= runs; run++) {
      const result = await measureOnce(api, admin, databaseUrl, bidders, { bids, concurrency });
      results.push(result);
      console.log(
        `run ${run}: session ${result.sessionId}: ${result.bids} bids placed in ${result.placeSeconds.toFixed(1)} s; ` +
          `flush of ${result.lastFlushRows ?? "?"} rows took ${result.lastFlushDurationMs ?? "?"} ms ` +
          `(seen done ${formatMs(result.observedMs)} after the PATCH); ` +
          `bid_events ${result.eventRows}, bids ${result.liveRows}`,
      );
    }

    const durations = results.map((r) => r.lastFlushDurationMs ?? Number.NaN);
    const table = formatTable(
      ["bids", "runs", "lastFlushDurationMs (median)", "min", "max", "lastFlushRows", "seen done (median)"],
      [
        [
          String(bids),
          String(results.length),
          `${median(durations)} ms`,
          `${Math.min(...durations)} ms`,
          `${Math.max(...durations)} ms`,
          [...new Set(results.map((r) => r.lastFlushRows))].join(", "),
          formatMs(median(results.map((r) => r.observedMs))),
        ],
      ],
    );
    console.log(`\n${table}`);
    const path = writeReport("flush-timing", {
      kind: "flush-timing",
      at: new Date().toISOString(),
      url: url.origin,
      options: { bids, users: bidders.length, runs, concurrency },
      runs: results,
      medianFlushMs: median(durations),
    });
    console.log(`report: ${path}`);

    const wrong = results.filter(
      (r) => r.lastFlushRows !== bids || r.eventRows !== bids || r.totalFlushed !== bids,
    );
    if (wrong.length > 0) {
      console.log(
        `FAILED: ${wrong.length} run(s) where the flush or bid_events did not hold exactly ${bids} rows`,
      );
      return 1;
    }
    return 0;
  } finally {
    client.close();
  }
}

cli.runCommand("flush-timing", USAGE, main);

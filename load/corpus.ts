// npm run corpus -- --url http://127.0.0.1:8787 [--database-url URL] [--report load/results/corpus.json]
//   [--theme auth] [--request-timeout 10s] [--deadline 5m]
// The bad-input corpus: creates its fixtures through the API, snapshots the
// state (PostgreSQL row counts and fixture rows, the fixture sessions as the
// API shows them), sends every case in load/corpus/, snapshots again, and
// fails on any case without the expected 4xx problem document, on any 5xx,
// and on any change of state. The row counts are the whole database's: run
// it while nothing else writes there (not next to a load test).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { errorMessage, redactUrl } from "../tools/net.js";
import { readDevSecret } from "../tools/token.js";
import {
  databaseUrlOption,
  durationOption,
  loopbackApiUrl,
  parseOptions,
  runCommand,
  UsageError,
} from "./args.js";
import { CorpusApi } from "./corpus/api.js";
import { authCases } from "./corpus/auth.js";
import { bidCases } from "./corpus/bids.js";
import { bodyCases } from "./corpus/bodies.js";
import { type CaseRequest, get, json, post, SESSION, type Theme } from "./corpus/case.js";
import { type CaseResult, CaseRunner } from "./corpus/execute.js";
import { A_ACTIVE_BID, createFixtures, type Fixtures, placeholderValues } from "./corpus/fixtures.js";
import { idCases } from "./corpus/ids.js";
import { pathCases } from "./corpus/paths.js";
import { queryCases } from "./corpus/queries.js";
import { sessionCases } from "./corpus/sessions.js";
import { connectDatabase, diffStates, StateReader } from "./corpus/snapshot.js";
import {
  type ControlResult,
  type CorpusSummary,
  isServerError,
  printSummary,
  tallyThemes,
} from "./corpus/summary.js";
import { bearer } from "./corpus/tokens.js";
import { userCases } from "./corpus/users.js";
import { writeReport } from "./results.js";

const USAGE = `usage: npm run corpus -- [--url http://127.0.0.1:8787] [--database-url URL (else DATABASE_URL)]
                      [--report load/results/corpus.json] [--theme NAME ...] [--request-timeout 10s] [--deadline 5m]
themes: auth, bodies, users, sessions, bids, ids, paths, queries`;

const THEMES: readonly Theme[] = [
  { theme: "auth", cases: authCases },
  { theme: "bodies", cases: bodyCases },
  { theme: "users", cases: userCases },
  { theme: "sessions", cases: sessionCases },
  { theme: "bids", cases: bidCases },
  { theme: "ids", cases: idCases },
  { theme: "paths", cases: pathCases },
  { theme: "queries", cases: queryCases },
];

const SETTLE_BEFORE_MS = 30_000;
const SETTLE_AFTER_MS = 15_000;

/**
 * The well-formed twins of the cases: they must succeed, or the cases prove
 * nothing (a broken token kit would make every token case "pass"). Each is
 * read-only or, like an idempotent replay, changes nothing by contract.
 */
const CONTROLS: { name: string; request: CaseRequest; status: number }[] = [
  { name: "GET /health", request: get("/health"), status: 200 },
  { name: "GET the active session", request: get(SESSION.active), status: 200 },
  {
    name: "GET the active session by its upper-case id",
    request: get("/v1/sessions/{{ACTIVE}}"),
    status: 200,
  },
  { name: "leaderboard limit=1", request: get(`${SESSION.active}/leaderboard?limit=1`), status: 200 },
  { name: "leaderboard limit=100", request: get(`${SESSION.active}/leaderboard?limit=100`), status: 200 },
  { name: "GET bidder A", request: get("/v1/users/{{userA}}"), status: 200 },
  {
    name: "stats with an admin token from the corpus's own HS256 signer",
    request: get(`${SESSION.active}/stats`, {
      auth: (kit) => bearer(kit.jwt({ payload: kit.claims("admin") })),
    }),
    status: 200,
  },
  {
    name: "my bid with a user token from the corpus's own HS256 signer",
    request: get(`${SESSION.active}/bids/me`, {
      auth: (kit) => bearer(kit.jwt({ payload: kit.claims("bidderA") })),
    }),
    status: 200,
  },
  { name: "GET /metrics/pool as admin", request: get("/metrics/pool", { auth: "admin" }), status: 200 },
  {
    name: "replay of bidder A's bid with its Idempotency-Key",
    request: post(`${SESSION.active}/bids`, json({ amount: A_ACTIVE_BID }), {
      auth: "bidderA",
      headers: { "Idempotency-Key": "{{idempotencyKey}}" },
    }),
    status: 201,
  },
];

function selectThemes(names: readonly string[] | undefined): readonly Theme[] {
  if (names === undefined || names.length === 0) return THEMES;
  for (const name of names) {
    if (!THEMES.some((t) => t.theme === name)) throw new UsageError(`unknown theme ${name}`);
  }
  return THEMES.filter((t) => names.includes(t.theme));
}

function writeReportFile(path: string | undefined, report: unknown): string {
  if (path === undefined) return writeReport("corpus", report);
  const absolute = resolve(path);
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, `${JSON.stringify(report, null, 2)}\n`);
  return relative(process.cwd(), absolute);
}

async function runControls(runner: CaseRunner): Promise<ControlResult[]> {
  const results: ControlResult[] = [];
  for (const control of CONTROLS) {
    const probe = await runner.probe(control.request);
    results.push({
      name: control.name,
      expected: control.status,
      status: probe.status,
      detail: probe.detail,
      passed: probe.status === control.status,
    });
  }
  return results;
}

/** Every case in order, one at a time (the bid rules are rate-limited per user); those past the deadline are not run. */
async function runCases(
  runner: CaseRunner,
  themes: readonly Theme[],
  deadline: number,
): Promise<{ results: CaseResult[]; notRun: number }> {
  const results: CaseResult[] = [];
  let notRun = 0;
  for (const { theme, cases } of themes) {
    for (const corpusCase of cases) {
      if (Date.now() > deadline) notRun += 1;
      else results.push(await runner.run(theme, corpusCase));
    }
  }
  return { results, notRun };
}

function describeFixtures(fixtures: Fixtures) {
  const { active, scheduled, ended } = fixtures.sessions;
  return {
    tag: fixtures.tag,
    bidders: fixtures.bidders,
    sessions: { active: active.id, scheduled: scheduled.id, ended: ended.id },
  };
}

async function main(): Promise<number> {
  const values = parseOptions({
    url: { type: "string" },
    "database-url": { type: "string" },
    report: { type: "string" },
    theme: { type: "string", multiple: true },
    "request-timeout": { type: "string" },
    deadline: { type: "string" },
  });
  const url = loopbackApiUrl(values.url ?? "http://127.0.0.1:8787");
  if (!values["database-url"] && !process.env.DATABASE_URL) {
    throw new UsageError("the state check reads PostgreSQL: pass --database-url or set DATABASE_URL");
  }
  const databaseUrl = databaseUrlOption(values["database-url"]);
  const requestTimeoutMs = durationOption("request-timeout", values["request-timeout"], 10_000, {
    minMs: 500,
    maxMs: 60_000,
  });
  const deadlineMs = durationOption("deadline", values.deadline, 5 * 60_000, {
    minMs: 10_000,
    maxMs: 60 * 60_000,
  });
  const themes = selectThemes(values.theme);
  const total = themes.reduce((sum, t) => sum + t.cases.length, 0);
  const startedAt = new Date();
  const deadline = startedAt.getTime() + deadlineMs;

  const api = new CorpusApi(url, requestTimeoutMs);
  const health = await api.call("GET", "/health").catch((error: unknown) => {
    throw new Error(`cannot reach the API at ${url.origin} (${errorMessage(error)}): start the stack first`);
  });
  if (health.status !== 200) {
    throw new Error(
      `GET /health answered ${health.status} ${JSON.stringify(health.json)}: start a healthy stack first`,
    );
  }
  // The database first: a run that cannot check the state must not create fixtures.
  const db = await connectDatabase(databaseUrl);
  try {
    console.log(
      `corpus: ${total} cases in ${themes.length} themes against ${url.origin}; creating fixtures…`,
    );
    const fixtures = await createFixtures(api, readDevSecret());
    const state = new StateReader(db, api, fixtures);
    const missing = await state.missingSessions();
    if (missing.length > 0) {
      throw new Error(
        `the fixture sessions (${missing.join(", ")}) are not in ${redactUrl(databaseUrl)}: ` +
          `pass the database the service at ${url.origin} uses`,
      );
    }
    const unsettled = await state.settle(SETTLE_BEFORE_MS);
    if (unsettled !== null) {
      throw new Error(
        `the fixtures did not reach PostgreSQL within ${SETTLE_BEFORE_MS / 1000} s: ${unsettled}`,
      );
    }
    const runner = new CaseRunner(url, fixtures.kit, placeholderValues(fixtures), requestTimeoutMs);
    const before = await state.snapshot();
    console.log(`corpus: fixtures ${fixtures.tag} ready and snapshot taken; running controls and cases…`);

    const controls = await runControls(runner);
    // Without working controls a pass proves nothing: the cases are not run.
    const { results, notRun } = controls.every((c) => c.passed)
      ? await runCases(runner, themes, deadline)
      : { results: [], notRun: total };

    // Anything a case slipped through would be flushed within 5 s: wait for it, bounded.
    await state.settle(SETTLE_AFTER_MS);
    const after = await state.snapshot();
    const stateChanges = diffStates(
      { database: before.database, api: before.api },
      { database: after.database, api: after.api },
    );

    const failed = results.filter((r) => !r.passed);
    const serverErrors = results.filter(isServerError);
    const controlsFailed = controls.filter((c) => !c.passed).length;
    const summary: CorpusSummary = {
      cases: total,
      tried: results.length,
      passed: results.length - failed.length,
      failed: failed.length,
      notRun,
      serverErrors: serverErrors.length,
      controlsFailed,
      stateChanged: stateChanges.length > 0,
      ok: failed.length === 0 && notRun === 0 && controlsFailed === 0 && stateChanges.length === 0,
    };
    const reportPath = writeReportFile(values.report, {
      url: url.origin,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      summary,
      themes: tallyThemes(results),
      fixtures: describeFixtures(fixtures),
      controls,
      failures: failed,
      serverErrors: serverErrors.map(({ theme, name, request, response }) => ({
        theme,
        name,
        request,
        response,
      })),
      stateChanges,
      before,
      after,
      results,
    });
    printSummary({ url: url.origin, results, controls, stateChanges, summary, reportPath });
    return summary.ok ? 0 : 1;
  } finally {
    await db.end();
  }
}

runCommand("corpus", USAGE, main);

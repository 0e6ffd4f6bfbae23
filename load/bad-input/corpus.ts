// The bad-input cases only a raw socket can send (targets the URL parser
// would rewrite, repeated headers, chunked bodies, header bytes a Headers
// object refuses: test/corpus/raw-only.ts), against a live server: one it
// starts itself (`npm start`, or `npm run dev` with --runner dev, on a scratch
// database on DATABASE_URL's server), or the one at --url. Every
// other case runs inside `npm test` (test/worker/corpus.test.ts); `--all`
// sends those here too. It creates its fixtures through the API, snapshots
// the state (PostgreSQL rows and the fixture sessions as the API shows
// them), runs the controls and the cases, snapshots again, and fails on any
// case without the expected 4xx problem document, on any 5xx, and on any
// change of state. The table counts are the whole database's: run it while
// nothing else writes there (not next to a load test).
import { CorpusApi } from "../../test/corpus/api.js";
import type { Theme } from "../../test/corpus/case.js";
import { runControls } from "../../test/corpus/controls.js";
import { connectDatabase } from "../../test/corpus/database.js";
import { type CaseResult, CaseRunner } from "../../test/corpus/execute.js";
import { createFixtures, FIXTURE_SESSIONS, placeholderValues } from "../../test/corpus/fixtures.js";
import { rawTransport } from "../../test/corpus/http.js";
import { buildCases } from "../../test/corpus/raw-only.js";
import { RequestBuilder } from "../../test/corpus/request.js";
import { diffStates, namesSent, StateReader } from "../../test/corpus/snapshot.js";
import { type CorpusSummary, isServerError, printSummary, tallyThemes } from "../../test/corpus/summary.js";
import { THEMES } from "../../test/corpus/themes.js";
import { errorMessage, redactUrl } from "../../tools/net.js";
import { readDevSecret, signToken } from "../../tools/token.js";
import {
  databaseUrlOption,
  durationOption,
  loopbackApiUrl,
  parseOptions,
  runCommand,
  runnerOption,
  UsageError,
} from "../kit/cli.js";
import { writeReport } from "../kit/report.js";
import { withScratchService } from "../kit/scratch-service.js";

const USAGE = `usage: npm run corpus -- [--runner start|dev | --url http://127.0.0.1:8787 --database-url URL (else DATABASE_URL)] [--all]
                      [--report load/results/corpus.json] [--theme NAME ...] [--request-timeout 10s] [--deadline 5m]
themes: ${THEMES.map((t) => t.theme).join(", ")}`;

const SETTLE_BEFORE_MS = 30_000;
const SETTLE_AFTER_MS = 15_000;

/** The themes --theme names, every one when it is left out. */
function selectThemes(names: readonly string[] = []): readonly Theme[] {
  const unknown = names.find((name) => !THEMES.some((t) => t.theme === name));
  if (unknown !== undefined) throw new UsageError(`unknown theme ${unknown}`);
  return names.length === 0 ? THEMES : THEMES.filter((t) => names.includes(t.theme));
}

interface CorpusOptions {
  themes: readonly Theme[];
  requestTimeoutMs: number;
  deadlineMs: number;
  all: boolean;
  report: string | undefined;
}

async function main(): Promise<number> {
  const values = parseOptions({
    url: { type: "string" },
    runner: { type: "string" },
    "database-url": { type: "string" },
    all: { type: "boolean" },
    report: { type: "string" },
    theme: { type: "string", multiple: true },
    "request-timeout": { type: "string" },
    deadline: { type: "string" },
  });
  if (values.url !== undefined && values.runner !== undefined) {
    throw new UsageError("--runner starts a server of the run's own; --url names a running one: not both");
  }
  const options: CorpusOptions = {
    requestTimeoutMs: durationOption("request-timeout", values["request-timeout"], 10_000, {
      minMs: 500,
      maxMs: 60_000,
    }),
    deadlineMs: durationOption("deadline", values.deadline, 5 * 60_000, {
      minMs: 10_000,
      maxMs: 60 * 60_000,
    }),
    themes: selectThemes(values.theme),
    all: values.all === true,
    report: values.report,
  };
  // The server the cases go to: the one at --url, or one of the run's own on a scratch database.
  if (values.url !== undefined) {
    if (!values["database-url"] && !process.env.DATABASE_URL) {
      throw new UsageError("the state check reads PostgreSQL: pass --database-url or set DATABASE_URL");
    }
    return runCorpus(loopbackApiUrl(values.url), databaseUrlOption(values["database-url"]), options);
  }
  return withScratchService(
    "corpus",
    { runner: runnerOption(values.runner), serverUrl: values["database-url"] },
    (service, databaseUrl) => runCorpus(service.url, databaseUrl, options),
  );
}

async function runCorpus(url: URL, databaseUrl: string, options: CorpusOptions): Promise<number> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + options.deadlineMs;
  const transport = rawTransport(url, options.requestTimeoutMs);
  const api = new CorpusApi(transport);
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
    console.log(`corpus: creating fixtures against ${url.origin}…`);
    const secret = readDevSecret();
    const fixtures = await createFixtures(api, secret, (subject, expiresInSeconds) =>
      signToken({ ...subject, secret, expiresInSeconds }),
    );
    const runner = new CaseRunner(transport, new RequestBuilder(fixtures.kit, placeholderValues(fixtures)));
    const built = await buildCases(runner.builder, options.themes);
    const cases = options.all ? built : built.filter((c) => c.rawOnly !== undefined);
    const total = cases.length;
    const state = new StateReader(db.query, api, {
      fixtures,
      names: namesSent(cases.map((c) => c.request)),
      wholeTables: true,
    });
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
    const before = await state.snapshot();
    console.log(
      `corpus: fixtures ${fixtures.tag} ready and snapshot taken; ` +
        `${total} of ${built.length} cases (${options.all ? "all" : "the raw-socket ones"}) and the controls…`,
    );

    const controls = await runControls(runner);
    // Without working controls a pass proves nothing: the cases are not run. They go one at a time
    // (the bid rules are rate-limited per user); those past the deadline are not run.
    const controlsPassed = controls.every((c) => c.passed);
    const results: CaseResult[] = [];
    for (const { theme, corpusCase, request } of cases) {
      if (controlsPassed && Date.now() <= deadline)
        results.push(await runner.run(theme, corpusCase, request));
    }
    const notRun = total - results.length;

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
    const report = {
      url: url.origin,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      summary,
      themes: tallyThemes(results),
      fixtures: {
        tag: fixtures.tag,
        bidders: fixtures.bidders,
        sessions: Object.fromEntries(FIXTURE_SESSIONS.map((name) => [name, fixtures.sessions[name].id])),
      },
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
    };
    const reportPath = writeReport("corpus", report, options.report);
    printSummary({ url: url.origin, results, controls, stateChanges, summary, reportPath });
    return summary.ok ? 0 : 1;
  } finally {
    await db.end();
  }
}

runCommand("corpus", USAGE, main);

// npm run test:faults [-- --only 1,2,4] [--runner start|dev]
// Fault injection against a live stack of its own (scratch database, the
// service on free ports: `npm start`, or `npm run dev` to compare, PostgreSQL behind a proxy it can cut, the username cache
// behind gates it can cut), one scenario at a time, each ending with the load
// harness's consistency check. Prints one PASS/FAIL/SKIP line per scenario,
// then `N passed, N failed, N skipped`; writes load/results/faults.json.
//   DATABASE_URL  the PostgreSQL server for the scratch database (default postgres://postgres@127.0.0.1:5432/postgres)
//   REDIS_URL     Redis for the username cache; without it (or unreachable) scenario 4 is skipped
import { join } from "node:path";
import { errorMessage, redactUrl } from "../../tools/net.js";
import type { Runner } from "../../tools/service-process.js";
import { Cleanups } from "../kit/cleanups.js";
import { databaseUrlOption, parseOptions, runCommand, runnerOption, UsageError } from "../kit/cli.js";
import { RESULTS_DIR, writeReport } from "../kit/report.js";
import { databaseOutage } from "./database-outage.js";
import { FaultApi, type ScenarioContext, type ScenarioOutcome, type ScenarioResult } from "./harness.js";
import { redisOutage } from "./redis-outage.js";
import { type FaultStack, startStack } from "./stack.js";
import { workerKill } from "./worker-kill.js";

const USAGE = "usage: npm run test:faults [-- --only 1,2,4] [--runner start|dev]";
const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** CI allows 6 minutes; past this the run stops, cleans up (bounded too) and fails. A normal run takes 1.5–2 minutes. */
const OVERALL_DEADLINE_MS = 300_000;

interface Scenario {
  id: number;
  title: string;
  run: (context: ScenarioContext) => Promise<ScenarioOutcome>;
}

const SCENARIOS: Scenario[] = [
  { id: 1, title: "PostgreSQL unreachable for 30 s under load", run: databaseOutage },
  {
    id: 2,
    title: "the service killed (SIGKILL to its process group) mid-load and restarted",
    run: workerKill,
  },
  {
    id: 3,
    title: "the same flush twice, two flushes racing",
    run: async () => ({
      problems: [],
      summary: "",
      details: {},
      skipped:
        'covered by the workerd suite, test/worker/flush.test.ts: "running the alarm twice, or replaying an ' +
        'old batch late, changes nothing" and "two flushes racing for the same rows"',
    }),
  },
  { id: 4, title: "username cache (Redis) unreachable", run: redisOutage },
];

const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s`;
const results: ScenarioResult[] = [];
const cleanups = new Cleanups();
let stackInfo: Record<string, unknown> | undefined;
let finishing = false;
let signalledAt = 0;

function resultLine(result: ScenarioResult): string {
  const text = result.status === "SKIP" ? result.problems.join("; ") : result.summary;
  const lines = [
    `${result.status} ${result.id} ${result.title}: ${text} (${(result.durationMs / 1000).toFixed(1)} s)`,
  ];
  if (result.status === "FAIL") for (const problem of result.problems) lines.push(`    - ${problem}`);
  return lines.join("\n");
}

function writeJsonReport(extra: Record<string, unknown>): string {
  const count = (status: ScenarioResult["status"]) => results.filter((r) => r.status === status).length;
  const report = {
    kind: "faults",
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - startedAt,
    ...extra,
    passed: count("PASS"),
    failed: count("FAIL"),
    skipped: count("SKIP"),
    scenarios: results,
  };
  return writeReport("faults", report, join(RESULTS_DIR, "faults.json"));
}

/** A failure of the run itself (id 0): interrupted, past its deadline, or its stack did not start. */
function runFailure(title: string, problem: string, summary = problem): ScenarioResult {
  return {
    id: 0,
    title,
    status: "FAIL",
    summary,
    problems: [problem],
    durationMs: Date.now() - startedAt,
    details: {},
  };
}

async function runScenario(scenario: Scenario, stack: FaultStack, api: FaultApi): Promise<ScenarioResult> {
  const started = Date.now();
  const log = (line: string) => console.log(`[${elapsed()}] ${scenario.id}: ${line}`);
  const base = { id: scenario.id, title: scenario.title };
  try {
    // A scenario that failed half-way may have left the Worker down; every scenario starts with it up.
    if (!stack.worker.running) {
      log(`${stack.worker.command} is not running: starting it again`);
      await stack.worker.start();
    }
    const outcome = await scenario.run({ stack, api, log });
    const durationMs = Date.now() - started;
    if (outcome.skipped !== undefined) {
      return { ...base, status: "SKIP", summary: "", problems: [outcome.skipped], durationMs, details: {} };
    }
    return {
      ...base,
      status: outcome.problems.length === 0 ? "PASS" : "FAIL",
      summary: outcome.summary,
      problems: outcome.problems,
      durationMs,
      details: outcome.details,
    };
  } catch (error) {
    const tail = stack.worker.running
      ? ""
      : `\n${stack.worker.command} output:\n${stack.worker.outputTail()}`;
    return {
      ...base,
      status: "FAIL",
      summary: "did not complete",
      problems: [`${errorMessage(error)}${tail}`],
      durationMs: Date.now() - started,
      details: {},
    };
  }
}

/** The scenarios to run (all, or those --only names) and the service's runner. */
function readOptions(): { scenarios: Scenario[]; runner: Runner } {
  const values = parseOptions({ only: { type: "string" }, runner: { type: "string" } });
  const runner = runnerOption(values.runner);
  if (values.only === undefined) return { scenarios: SCENARIOS, runner };
  const only = new Set(values.only.split(",").map((id) => Number(id.trim())));
  if ([...only].some((id) => !SCENARIOS.some((s) => s.id === id))) {
    throw new UsageError(`--only takes scenario numbers from ${SCENARIOS.map((s) => s.id).join(",")}`);
  }
  return { scenarios: SCENARIOS.filter((s) => only.has(s.id)), runner };
}

async function main(scenarios: Scenario[], runner: Runner): Promise<void> {
  const serverUrl = databaseUrlOption(process.env.DATABASE_URL || DEFAULT_SERVER_URL);
  const redisUrl = process.env.REDIS_URL || undefined;
  console.log(`faults: starting a stack of its own (PostgreSQL server ${redactUrl(serverUrl)})`);
  const stack = await startStack({
    serverUrl,
    redisUrl,
    runner,
    cleanups,
    log: (line) => console.log(`[${elapsed()}] stack: ${line}`),
  });
  stackInfo = {
    scratchDatabase: stack.databaseName,
    api: stack.worker.url.origin,
    runner: stack.worker.command,
    flushIntervalMs: stack.flushIntervalMs,
    cache: stack.cache ? "Upstash adapter over REDIS_URL, behind gates" : `none (${stack.cacheSkipReason})`,
  };
  const api = await FaultApi.create(stack);
  cleanups.add("API client", async () => api.close());

  for (const scenario of scenarios) {
    const result = await runScenario(scenario, stack, api);
    results.push(result);
    console.log(resultLine(result));
  }
}

async function finish(code: number, note?: string): Promise<never> {
  if (finishing) process.exit(code);
  finishing = true;
  if (note) console.log(`faults: ${note}`);
  await cleanups.runAll();
  const path = writeJsonReport({ exitReason: note ?? null, stack: stackInfo ?? null });
  const count = (status: ScenarioResult["status"]) => results.filter((r) => r.status === status).length;
  console.log(`report: ${path}; total ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  console.log(`${count("PASS")} passed, ${count("FAIL")} failed, ${count("SKIP")} skipped`);
  process.exit(code);
}

/** SIGINT, SIGTERM and the overall deadline stop the run through finish: cleanups, report, exit code. */
function stopOnSignalsAndDeadline(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      // A second signal leaves at once (the exit handler still kills the service's process group),
      // but not one that arrives together with the first: npm and tsx relay the signal the
      // terminal already sent to the whole process group.
      if (finishing) {
        if (Date.now() - signalledAt > 1_000) process.exit(signal === "SIGINT" ? 130 : 143);
        return;
      }
      signalledAt = Date.now();
      results.push(runFailure("run interrupted", `stopped by ${signal}`));
      void finish(signal === "SIGINT" ? 130 : 143, `${signal}: stopping and cleaning up`);
    });
  }
  setTimeout(() => {
    results.push(runFailure("overall deadline", `not finished after ${OVERALL_DEADLINE_MS / 1000} s`));
    void finish(1, `not finished after ${OVERALL_DEADLINE_MS / 1000} s: stopping and cleaning up`);
  }, OVERALL_DEADLINE_MS).unref();
}

runCommand("faults", USAGE, async () => {
  const { scenarios, runner } = readOptions();
  stopOnSignalsAndDeadline();
  try {
    await main(scenarios, runner);
  } catch (error) {
    results.push(runFailure("stack", errorMessage(error), "the fault run's stack did not start"));
    console.log(`FAIL 0 stack: ${errorMessage(error)}`);
    return finish(1);
  }
  return finish(results.some((r) => r.status === "FAIL") ? 1 : 0);
});

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
import { DEFAULT_SERVER_URL } from "../kit/scratch-service.js";
import { databaseOutage } from "./database-outage.js";
import { FaultApi, type ScenarioContext, type ScenarioOutcome } from "./harness.js";
import { redisOutage } from "./redis-outage.js";
import { type FaultStack, startStack } from "./stack.js";
import { workerKill } from "./worker-kill.js";

const USAGE = "usage: npm run test:faults [-- --only 1,2,4] [--runner start|dev]";
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
      skipped:
        'covered by the workerd suite, test/worker/flush.test.ts: "running the alarm twice, or replaying an ' +
        'old batch late, changes nothing" and "two flushes racing for the same rows"',
    }),
  },
  { id: 4, title: "username cache (Redis) unreachable", run: redisOutage },
];

type ScenarioStatus = "PASS" | "FAIL" | "SKIP";

interface ScenarioResult {
  id: number;
  title: string;
  status: ScenarioStatus;
  /** The figures, on one line. */
  summary: string;
  /** Why it failed (or was skipped); empty when it passed. */
  problems: string[];
  durationMs: number;
  details: Record<string, unknown>;
}

const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s`;
const results: ScenarioResult[] = [];
const count = (status: ScenarioStatus) => results.filter((r) => r.status === status).length;
const cleanups = new Cleanups();
let stackInfo: Record<string, unknown> | undefined;
let finishing = false;
let signalledAt = 0;

function resultLine(result: ScenarioResult): string {
  const text = result.status === "SKIP" ? result.problems.join("; ") : result.summary;
  const seconds = (result.durationMs / 1000).toFixed(1);
  const lines = [`${result.status} ${result.id} ${result.title}: ${text} (${seconds} s)`];
  if (result.status === "FAIL") for (const problem of result.problems) lines.push(`    - ${problem}`);
  return lines.join("\n");
}

/** A failure of the run itself (id 0): interrupted, past its deadline, or its stack did not start. */
function runFailure(title: string, problem: string, summary = problem): ScenarioResult {
  const durationMs = Date.now() - startedAt;
  return { id: 0, title, status: "FAIL", summary, problems: [problem], durationMs, details: {} };
}

async function runScenario(scenario: Scenario, stack: FaultStack, api: FaultApi): Promise<ScenarioResult> {
  const started = Date.now();
  const log = (line: string) => console.log(`[${elapsed()}] ${scenario.id}: ${line}`);
  const problems: string[] = [];
  const result = (status: ScenarioStatus, summary: string, details: Record<string, unknown> = {}) => {
    const { id, title } = scenario;
    return { id, title, status, summary, problems, durationMs: Date.now() - started, details };
  };
  try {
    // A scenario that failed half-way may have left the Worker down; every scenario starts with it up.
    if (!stack.worker.running) {
      log(`${stack.worker.command} is not running: starting it again`);
      await stack.worker.start();
    }
    const outcome = await scenario.run({ stack, api, log, problems });
    if ("skipped" in outcome) return { ...result("SKIP", ""), problems: [outcome.skipped] };
    return result(problems.length === 0 ? "PASS" : "FAIL", outcome.summary, outcome.details);
  } catch (error) {
    const { worker } = stack;
    const tail = worker.running ? "" : `\n${worker.command} output:\n${worker.outputTail()}`;
    return { ...result("FAIL", "did not complete"), problems: [`${errorMessage(error)}${tail}`] };
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
  const log = (line: string) => console.log(`[${elapsed()}] stack: ${line}`);
  const stack = await startStack({ serverUrl, redisUrl, runner, cleanups, log });
  stackInfo = stack.report;
  const api = await FaultApi.create(stack);
  cleanups.add("API client", async () => api.client.close());

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
  const report = {
    kind: "faults",
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - startedAt,
    exitReason: note ?? null,
    stack: stackInfo ?? null,
    passed: count("PASS"),
    failed: count("FAIL"),
    skipped: count("SKIP"),
    scenarios: results,
  };
  const path = writeReport("faults", report, join(RESULTS_DIR, "faults.json"));
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

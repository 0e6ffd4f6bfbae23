// The run's verdict in text: cases per theme, every failure with its request,
// expectation and answer, the 5xx answers on their own, and the state check.
import { formatTable } from "../../tools/table.js";
import type { Expectation } from "./case.js";
import type { ControlResult } from "./controls.js";
import type { CaseResult, ShownRequest } from "./execute.js";

export interface ThemeTally {
  theme: string;
  cases: number;
  passed: number;
  failed: number;
  serverErrors: number;
}

export interface CorpusSummary {
  cases: number;
  tried: number;
  passed: number;
  failed: number;
  notRun: number;
  serverErrors: number;
  controlsFailed: number;
  stateChanged: boolean;
  ok: boolean;
}

export function tallyThemes(results: readonly CaseResult[]): ThemeTally[] {
  const byTheme = new Map<string, ThemeTally>();
  for (const result of results) {
    const tally = byTheme.get(result.theme) ?? {
      theme: result.theme,
      cases: 0,
      passed: 0,
      failed: 0,
      serverErrors: 0,
    };
    tally.cases += 1;
    if (result.passed) tally.passed += 1;
    else tally.failed += 1;
    if (isServerError(result)) tally.serverErrors += 1;
    byTheme.set(result.theme, tally);
  }
  return [...byTheme.values()];
}

export const isServerError = (result: CaseResult): boolean => (result.response?.status ?? 0) >= 500;

export function formatExpectation(expect: Expectation): string {
  const codes = expect.code === undefined ? "" : ` ${expect.code.join("|")}`;
  return `${expect.status.join("/")}${codes}`;
}

export function formatRequest(request: ShownRequest): string {
  const headers = request.headers.map(([name, value]) => `${name}: ${value}`);
  const body = request.body
    ? `body ${request.body.bytes} B${request.body.chunked ? " chunked" : ""}: ${request.body.start.slice(0, 120)}`
    : "no body";
  return [`${request.method} ${request.target.slice(0, 160)}`, ...headers, body].join("\n              ");
}

function formatFailure(result: CaseResult): string {
  const response = result.response;
  const actual = response
    ? `${response.status} ${response.contentType ?? "(no Content-Type)"} code=${response.code ?? "(none)"} ${response.body.slice(0, 200)}`
    : "no response";
  return [
    `  [${result.theme}] ${result.name}`,
    `    request:  ${formatRequest(result.request)}`,
    `    expected: ${formatExpectation(result.expected)} as application/problem+json`,
    `    actual:   ${actual}`,
    `    why:      ${result.reasons.join("; ")}`,
  ].join("\n");
}

export function printSummary(input: {
  url: string;
  results: readonly CaseResult[];
  controls: readonly ControlResult[];
  stateChanges: readonly string[];
  summary: CorpusSummary;
  reportPath: string;
}): void {
  const { results, controls, summary } = input;
  const lines: string[] = [""];
  const tallies = tallyThemes(results);
  lines.push(
    formatTable(
      ["theme", "cases", "passed", "failed", "5xx"],
      [
        ...tallies.map((t) => [
          t.theme,
          String(t.cases),
          String(t.passed),
          String(t.failed),
          String(t.serverErrors),
        ]),
        [
          "total",
          String(summary.tried),
          String(summary.passed),
          String(summary.failed),
          String(summary.serverErrors),
        ],
      ],
    ),
    "",
  );
  const failedControls = controls.filter((c) => !c.passed);
  if (failedControls.length > 0) {
    lines.push(`Controls failed (${failedControls.length}): the well-formed twins of the cases must succeed`);
    for (const c of failedControls)
      lines.push(`  ${c.name}: expected ${c.expected}, got ${c.status ?? "no response"} ${c.detail}`);
    lines.push("");
  }
  const failures = results.filter((r) => !r.passed);
  if (failures.length > 0) {
    lines.push(`Failures (${failures.length}):`, ...failures.map(formatFailure), "");
  }
  const serverErrors = results.filter(isServerError);
  lines.push(`5xx responses: ${serverErrors.length}`);
  for (const r of serverErrors) {
    lines.push(
      `  ${r.response?.status} [${r.theme}] ${r.name}: ${r.request.method} ${r.request.target.slice(0, 120)}`,
    );
  }
  lines.push(`State changed: ${input.stateChanges.length > 0 ? "YES" : "no"}`);
  for (const change of input.stateChanges) lines.push(`  ${change}`);
  lines.push(
    "",
    `cases ${summary.cases}, tried ${summary.tried}, passed ${summary.passed}, failed ${summary.failed}` +
      `${summary.notRun > 0 ? `, not run ${summary.notRun}` : ""}, 5xx ${summary.serverErrors}, ` +
      `controls failed ${summary.controlsFailed}, state changed ${summary.stateChanged ? "yes" : "no"}`,
    `report: ${input.reportPath}`,
    `corpus: ${summary.ok ? "PASS" : "FAIL"} (${input.url})`,
    // The plain line CI reads; a changed state or failed control fails the run as one more case.
    `${summary.passed} passed, ${summary.failed + summary.controlsFailed + (summary.stateChanged ? 1 : 0)} failed`,
  );
  console.log(lines.join("\n"));
}

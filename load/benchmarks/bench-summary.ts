// The bench's printed summary: the closed-loop table with its ratios, and the fixed-rate table.
import { formatTable } from "../../tools/table.js";
import type { RawLoopResult } from "../bids/closed-loop.js";
import { describeErrors, type MetricsTotals } from "../bids/metrics.js";
import type { OpenLoopResult } from "../bids/open-loop.js";
import { formatMs } from "../kit/report.js";

export type PhaseKey = "a" | "b" | "c" | "d";

export interface Phase {
  label: string;
  result: RawLoopResult;
}

export interface FixedRateRun {
  connections: string;
  result: OpenLoopResult;
  totals: MetricsTotals;
}

export function phaseRatios(phases: Partial<Record<PhaseKey, Phase>>): Record<"b/a" | "c/a" | "b/d", number> {
  const ok = (key: PhaseKey) => phases[key]?.result.okPerSecond ?? Number.NaN;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  return { "b/a": ratio(ok("b"), ok("a")), "c/a": ratio(ok("c"), ok("a")), "b/d": ratio(ok("b"), ok("d")) };
}

/** A closed-loop phase's figures, as the tables show them (bench:leaderboard: medians over its rounds). */
export const phaseFigures = (r: RawLoopResult) => ({
  requestsPerSecond: r.completed / r.seconds,
  okPerSecond: r.okPerSecond,
  p50: r.latency.p50,
  p99: r.latency.p99,
  non2xx: r.non2xx,
  errors: r.errors,
});
export type PhaseFigures = ReturnType<typeof phaseFigures>;

/** One closed-loop phase as a row: req/s, 2xx/s, p50, p99, non-2xx, no answer. */
export function phaseCells(f: PhaseFigures): string[] {
  return [
    f.requestsPerSecond.toFixed(0),
    f.okPerSecond.toFixed(0),
    formatMs(f.p50),
    formatMs(f.p99),
    String(f.non2xx),
    String(f.errors),
  ];
}

export const PHASE_HEADER = ["req/s", "2xx/s", "p50", "p99", "non-2xx", "no answer"];

export function formatClosedLoop(phases: Partial<Record<PhaseKey, Phase>>): string {
  const rows = (["a", "b", "c", "d"] as const).flatMap((key) => {
    const phase = phases[key];
    return phase ? [[`(${key}) ${phase.label}`, ...phaseCells(phaseFigures(phase.result))]] : [];
  });
  const ratios = phaseRatios(phases);
  return [
    formatTable(["", ...PHASE_HEADER], rows),
    "",
    `ratios of 2xx/s: bids/baseline b/a = ${ratios["b/a"].toFixed(2)}, ` +
      `leaderboard/baseline c/a = ${ratios["c/a"].toFixed(2)}, product/naive bids b/d = ${ratios["b/d"].toFixed(2)}`,
  ].join("\n");
}

export function formatFixedRate(runs: readonly FixedRateRun[], durationMs: number): string {
  return formatTable(
    ["connections", "offered", "completed/s", "p50", "p95", "p99", "max", "errors", "send lag p99"],
    runs.map(({ connections, result, totals }) => [
      connections,
      String(totals.offered),
      // Over the time until the last answer: an overloaded server keeps answering after the schedule ends.
      (totals.completed / ((durationMs + result.drainMs) / 1000)).toFixed(1),
      formatMs(totals.latency.p50),
      formatMs(totals.latency.p95),
      formatMs(totals.latency.p99),
      formatMs(totals.latency.max),
      describeErrors(totals.errors),
      formatMs(result.sendLagMs.p99),
    ]),
  );
}

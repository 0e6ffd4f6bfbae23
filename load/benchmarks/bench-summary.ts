// The bench's printed summary: the closed-loop table with its ratios, and the fixed-rate table.
import type { ClosedLoopResult } from "../bids/autocannon-loop.js";
import { describeErrors, type MetricsTotals } from "../bids/metrics.js";
import type { OpenLoopResult } from "../bids/open-loop.js";
import { formatMs } from "../kit/stats.js";
import { formatTable } from "../kit/table.js";

export type PhaseKey = "a" | "b" | "c" | "d";

export interface Phase {
  result: ClosedLoopResult;
  /** Successful answers per second: what the ratios compare. */
  okPerSecond: number;
}

export interface FixedRateRun {
  connections: string;
  result: OpenLoopResult;
  totals: MetricsTotals;
}

export function toPhase(result: ClosedLoopResult, durationSeconds: number): Phase {
  const ok = Object.entries(result.statusCodes)
    .filter(([status]) => status.startsWith("2"))
    .reduce((sum, [, count]) => sum + count, 0);
  return { result, okPerSecond: ok / durationSeconds };
}

export function phaseRatios(phases: Partial<Record<PhaseKey, Phase>>): Record<"b/a" | "c/a" | "b/d", number> {
  const ok = (key: PhaseKey) => phases[key]?.okPerSecond ?? Number.NaN;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  return { "b/a": ratio(ok("b"), ok("a")), "c/a": ratio(ok("c"), ok("a")), "b/d": ratio(ok("b"), ok("d")) };
}

export function formatClosedLoop(phases: Partial<Record<PhaseKey, Phase>>): string {
  const rows = (["a", "b", "c", "d"] as const).flatMap((key) => {
    const phase = phases[key];
    if (!phase) return [];
    const r = phase.result;
    return [
      [
        `(${key}) ${r.label}`,
        r.requestsPerSecond.toFixed(0),
        phase.okPerSecond.toFixed(0),
        formatMs(r.p50),
        formatMs(r.p99),
        String(r.non2xx),
        String(r.errors),
      ],
    ];
  });
  const ratios = phaseRatios(phases);
  return [
    formatTable(["", "req/s", "2xx/s", "p50", "p99", "non-2xx", "no answer"], rows),
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

// The summary `npm run load` prints after the run: rates and latencies, then every outcome.

import { formatTable } from "../../tools/table.js";
import type { MetricsTotals } from "../bids/metrics.js";
import { formatMs, type LatencySummary } from "../kit/report.js";

function latencyCells(l: LatencySummary): string[] {
  return [formatMs(l.p50), formatMs(l.p95), formatMs(l.p99), formatMs(l.max)];
}

/** Offered per second of schedule; completed per second until the last answer. */
export function summaryTable(
  bids: MetricsTotals,
  reads: MetricsTotals,
  scheduledSeconds: number,
  elapsedSeconds: number,
): string {
  const row = (name: string, t: MetricsTotals) => [
    name,
    String(t.offered),
    (t.offered / scheduledSeconds).toFixed(1),
    String(t.completed),
    (t.completed / elapsedSeconds).toFixed(1),
    ...latencyCells(t.latency),
    String(Object.values(t.errors).reduce((a, b) => a + b, 0)),
  ];
  return formatTable(
    ["", "offered", "offered/s", "completed", "completed/s", "p50", "p95", "p99", "max", "errors"],
    [row("bids", bids), row("leaderboard", reads)],
  );
}

export function outcomesTable(bids: MetricsTotals, reads: MetricsTotals): string {
  const rows: string[][] = [];
  for (const [label, count] of Object.entries(bids.outcomes)) rows.push(["bids", label, String(count)]);
  for (const [label, count] of Object.entries(bids.retried))
    rows.push(["bids, retried", label, String(count)]);
  for (const [label, count] of Object.entries(reads.outcomes))
    rows.push(["leaderboard", label, String(count)]);
  return formatTable(["requests", "outcome", "count"], rows);
}

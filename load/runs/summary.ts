// What `npm run load` prints: the line every second while it runs, and the
// summary after: rates and latencies, every outcome, the watchers' delays.
import { formatTable } from "../../tools/table.js";
import { describeErrors, type MetricsTotals, type SecondSample } from "../bids/metrics.js";
import { describePool, type FiguresSnapshot } from "../kit/admin-figures.js";
import { formatMs, type LatencySummary } from "../kit/report.js";
import type { WatchersSecond, WatchersTotals } from "./watchers.js";

function describePending(figures: FiguresSnapshot | undefined): string {
  if (!figures) return "pending ?";
  if (figures.stats instanceof Error) return "pending ? (stats unavailable)";
  const { pendingBids, consecutiveFlushFailures } = figures.stats;
  return consecutiveFlushFailures > 0
    ? `pending ${pendingBids} (flush failing ×${consecutiveFlushFailures})`
    : `pending ${pendingBids}`;
}

/** One second of the run, as the live line shows it. */
interface LiveSecond {
  bids: SecondSample;
  reads: SecondSample;
  inFlight: number;
  watchers?: WatchersSecond;
}

export function formatLiveLine(second: LiveSecond, figures: FiguresSnapshot | undefined): string {
  const { bids, reads, watchers } = second;
  const l = bids.latency;
  const errors: Record<string, number> = { ...bids.errors };
  for (const [label, count] of Object.entries(reads.errors)) errors[`read ${label}`] = count;
  return [
    `${String(bids.second).padStart(4)}s`,
    `bids ${String(bids.offered).padStart(4)} offered ${String(bids.completed).padStart(4)} done`,
    `p50 ${formatMs(l.p50).padStart(7)} p95 ${formatMs(l.p95).padStart(7)} p99 ${formatMs(l.p99).padStart(7)}`,
    `in flight ${second.inFlight}`,
    `reads ${reads.completed} p99 ${formatMs(reads.latency.p99)}`,
    ...(watchers === undefined
      ? []
      : [
          `live ${watchers.open} open ${watchers.messages} msgs ` +
            (watchers.delay.count === 0
              ? "201→board -"
              : `201→board p50 ${formatMs(watchers.delay.p50)} p99 ${formatMs(watchers.delay.p99)}`),
        ]),
    `errors ${describeErrors(errors)}`,
    describePending(figures),
    figures ? describePool(figures.pool) : "pool ?",
  ].join(" | ");
}

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
  const groups: [string, Record<string, number>][] = [
    ["bids", bids.outcomes],
    ["bids, retried", bids.retried],
    ["leaderboard", reads.outcomes],
  ];
  const rows = groups.flatMap(([name, counts]) =>
    Object.entries(counts).map(([label, n]) => [name, label, String(n)]),
  );
  return formatTable(["requests", "outcome", "count"], rows);
}

const delays = (d: LatencySummary) =>
  `${d.count} values, p50 ${formatMs(d.p50)}, p95 ${formatMs(d.p95)}, p99 ${formatMs(d.p99)}, max ${formatMs(d.max)}`;

/** The watchers' messages and delays, and with signed-in watchers their outbid messages. */
export function watchersSummary(w: WatchersTotals): string {
  const lines = [
    `watchers: ${w.opened} open, ${w.closedEarly} closed early, ${w.messages} messages ` +
      `(per watcher min ${w.perWatcher.min}, median ${w.perWatcher.p50}, max ${w.perWatcher.max}), ` +
      `${w.seqRegressions} seq regressions; on ${w.sampled} sampled watchers, the first board whose seq shows the bid:`,
    `  bids ranked within the board, from the 201:       ${delays(w.delayMs)}`,
    `  bids ranked within the board, from acceptance:    ${delays(w.acceptedToBoardMs)}`,
    `  every bid, from the 201 (how stale boards get):   ${delays(w.delayAllBidsMs)}; ${w.unmatched} not shown by the end`,
    `  by watcher (connection order), from the 201 / from acceptance: ${w.perSampled
      .map(
        (p) =>
          `#${p.index} p50 ${formatMs(p.delayMs.p50)} / ${formatMs(p.acceptedToBoardMs.p50)}, ` +
          `p99 ${formatMs(p.delayMs.p99)} / ${formatMs(p.acceptedToBoardMs.p99)}`,
      )
      .join("; ")}`,
  ];
  const o = w.outbid;
  if (o) {
    lines.push(
      `outbid: ${o.displaced} signed-in bidders displaced, ${o.told} told, ${o.displaced - o.told} not told, ` +
        `${o.unexplained} messages no displacement explains, ${o.repeated} repeated`,
      `  from the displacing bid's acceptance: ${delays(o.fromAcceptanceMs)}`,
      `  from the displacing bid's 201:        ${delays(o.fromAckMs)}`,
    );
  }
  return lines.join("\n");
}

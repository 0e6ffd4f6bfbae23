// The one line per second `npm run load` prints while it runs.

import { describeErrors, type SecondSample } from "../bids/metrics.js";
import { describePool, type FiguresSnapshot } from "../kit/admin-figures.js";
import { formatMs } from "../kit/report.js";
import type { WatchersSecond } from "./watchers.js";

function describePending(figures: FiguresSnapshot | undefined): string {
  if (!figures) return "pending ?";
  if (figures.stats instanceof Error) return "pending ? (stats unavailable)";
  const { pendingBids, consecutiveFlushFailures } = figures.stats;
  return consecutiveFlushFailures > 0
    ? `pending ${pendingBids} (flush failing ×${consecutiveFlushFailures})`
    : `pending ${pendingBids}`;
}

export function formatLiveLine(
  bids: SecondSample,
  inFlight: number,
  reads: SecondSample,
  figures: FiguresSnapshot | undefined,
  watchers?: WatchersSecond,
): string {
  const l = bids.latency;
  const errors: Record<string, number> = { ...bids.errors };
  for (const [label, count] of Object.entries(reads.errors)) errors[`read ${label}`] = count;
  return [
    `${String(bids.second).padStart(4)}s`,
    `bids ${String(bids.offered).padStart(4)} offered ${String(bids.completed).padStart(4)} done`,
    `p50 ${formatMs(l.p50).padStart(7)} p95 ${formatMs(l.p95).padStart(7)} p99 ${formatMs(l.p99).padStart(7)}`,
    `in flight ${inFlight}`,
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

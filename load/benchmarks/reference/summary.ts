// The side-by-side benchmark's tables: each cell the range over the rounds,
// each ratio taken round by round (this service against the reference design
// measured in the same round), so a round's machine noise meets its own pair.

import { formatTable } from "../../../tools/table.js";
import type { BurstResult } from "../../bids/burst.js";
import type { RawLoopResult } from "../../bids/closed-loop.js";
import { describeCpu, type Measured } from "../../kit/cpu.js";
import { formatMs } from "../../kit/report.js";
import type { BenchResults, Series } from "./rounds.js";
import type { SystemKey } from "./systems.js";
import type { WebhookRun } from "./webhook-run.js";
import { FLOOR_ROUTES } from "./workloads.js";

/** `min–max` (one figure when they agree), `—` when there is none. */
function range(format: (value: number) => string, values: readonly number[]): string {
  if (values.length === 0) return "—";
  const low = format(Math.min(...values));
  const high = format(Math.max(...values));
  return low === high ? low : `${low}–${high}`;
}

/** f of each round's pair, for the rounds both systems completed. */
function paired<T>(series: Series<T>, f: (service: T, reference: T) => number): number[] {
  const ratios: number[] = [];
  for (let round = 0; round < Math.min(series.service.length, series.reference.length); round++) {
    const service = series.service[round];
    const reference = series.reference[round];
    if (service !== undefined && reference !== undefined) ratios.push(f(service, reference));
  }
  return ratios;
}

const seconds = (value: number) => `${value.toFixed(2)} s`;
const perSecond = (value: number) => Math.round(value).toLocaleString("en-US");
const times = (value: number) => `${value.toFixed(2)}×`;
const whole = (value: number) => String(value);
const cores = (value: number) => value.toFixed(2);
const answered = (burst: BurstResult) => burst.outcomes["201"] ?? 0;
const okRate = (m: Measured<RawLoopResult>) => m.result.okPerSecond;
const okRatio = (s: Measured<RawLoopResult>, r: Measured<RawLoopResult>) => okRate(s) / okRate(r);
const serverCores = (m: Measured<unknown>) => m.serverCores;
const loaderCores = (m: Measured<unknown>) => m.loaderCores;

/** A closed-loop workload's row: 2xx per second of each system, and this service's over the reference's. */
function throughputRow(label: string, series: Series<Measured<RawLoopResult>>): string[] {
  return [
    label,
    range(perSecond, series.service.map(okRate)),
    range(perSecond, series.reference.map(okRate)),
    range(times, paired(series, okRatio)),
  ];
}

/** The bids/s of each round's plain W2 that has a webhook run beside it, with webhooks ÷ none. */
function webhookRatios(results: BenchResults): number[] {
  return results.w2Webhooks.flatMap((run, round) => {
    const plain = results.w2.service[round]?.result.okPerSecond;
    return plain === undefined ? [] : [run.w2.result.okPerSecond / plain];
  });
}

/** This service's W2 with a webhook subscription, and its ratio to plain W2 (not to the reference). */
function webhookRow(results: BenchResults): string[][] {
  if (results.w2Webhooks.length === 0) return [];
  return [
    [
      "W2 with webhooks subscribed, bids/s",
      range(perSecond, results.w2Webhooks.map((run) => run.w2).map(okRate)),
      "—",
      `webhooks ÷ none ${range(times, webhookRatios(results))}`,
    ],
  ];
}

/** The headline: W1–W4 side by side; ratios read "this service is N× the reference" (above 1: better). */
export function formatHeadline(results: BenchResults): string {
  const w1 = (key: SystemKey) => results.w1[key].map((m) => m.result.allAnsweredMs / 1000);
  const w4 = (key: SystemKey) => results.w4[key].map((r) => r.lost);
  return formatTable(
    ["workload", "this service", "reference design", "ratio"],
    [
      [
        "W1: 1000 bids at once, s until all answered",
        range(seconds, w1("service")),
        range(seconds, w1("reference")),
        range(
          times,
          paired(results.w1, (s, r) => r.result.allAnsweredMs / s.result.allAnsweredMs),
        ),
      ],
      throughputRow("W2: fresh raises, bids/s (201 only)", results.w2),
      ...webhookRow(results),
      throughputRow("W3: leaderboard top 50, req/s", results.w3),
      [
        "W4: acknowledged bids lost after the fault",
        range(whole, w4("service")),
        range(whole, w4("reference")),
        "—",
      ],
    ],
  );
}

/** Every round of W1–W3 on its own line: answers, latency, CPU. */
export function formatRounds(results: BenchResults): string {
  const rows: string[][] = [];
  for (const key of ["service", "reference"] as const) {
    results.w1[key].forEach((m, round) => {
      const r = m.result;
      rows.push([
        "W1",
        String(round + 1),
        key,
        `${seconds(r.allAnsweredMs / 1000)} (${answered(r)} × 201 of ${r.connections})`,
        formatMs(r.latency.p50),
        formatMs(r.latency.p99),
        outcomesOtherThan(r.outcomes, "201"),
        cores(m.serverCores),
        cores(m.loaderCores),
      ]);
    });
    type Loop = [string, readonly Measured<RawLoopResult>[]];
    const withWebhooks: Loop[] =
      key === "service" ? [["W2 + webhooks", results.w2Webhooks.map((run) => run.w2)]] : [];
    const loops: Loop[] = [["W2", results.w2[key]], ...withWebhooks, ["W3", results.w3[key]]];
    for (const [workload, series] of loops) {
      series.forEach((m, round) => {
        const r = m.result;
        rows.push([
          workload,
          String(round + 1),
          key,
          `${perSecond(r.okPerSecond)}/s`,
          formatMs(r.latency.p50),
          formatMs(r.latency.p99),
          `${r.non2xx + r.errors}${r.non2xx + r.errors > 0 ? ` (${outcomesOtherThan(r.outcomes, "200", "201")})` : ""}`,
          cores(m.serverCores),
          cores(m.loaderCores),
        ]);
      });
    }
    results.w4[key].forEach((r, round) => {
      rows.push([
        "W4",
        String(round + 1),
        key,
        `lost ${r.lost} of ${r.acknowledged} × 201`,
        formatMs(r.bids.latency.p50),
        formatMs(r.bids.latency.p99),
        `${r.unresolved} unresolved`,
        "",
        "",
      ]);
    });
  }
  return formatTable(
    [
      "workload",
      "round",
      "system",
      "result",
      "p50",
      "p99",
      "non-2xx / errors",
      "server cores",
      "loadgen cores",
    ],
    rows,
  );
}

function outcomesOtherThan(outcomes: Record<string, number>, ...ok: string[]): string {
  const others = Object.entries(outcomes).filter(([label]) => !ok.includes(label));
  return others.length === 0 ? "0" : others.map(([label, count]) => `${label}=${count}`).join(", ");
}

/** The floor routes, and this service's W2 bids/s as a ratio to each (round by round). */
export function formatFloor(results: BenchResults): string {
  const rows = FLOOR_ROUTES.map((route) => {
    const rates = results.floor.map((floor) => floor[route].result.okPerSecond);
    const last = results.floor.at(-1)?.[route].result;
    const ratios = results.floor.flatMap((floor, round) => {
      const bids = results.w2.service[round]?.result.okPerSecond;
      return bids === undefined ? [] : [bids / floor[route].result.okPerSecond];
    });
    return [
      route,
      range(perSecond, rates),
      last ? formatMs(last.latency.p50) : "—",
      last ? formatMs(last.latency.p99) : "—",
      range(times, ratios),
    ];
  });
  return formatTable(["floor route", "req/s", "p50", "p99", "service W2 bids/s ÷ floor"], rows);
}

/** CPU per process tree during W1–W3 (cores = CPU-seconds per second), and the load generator's. */
export function formatCpu(results: BenchResults): string {
  const rows: string[][] = [];
  for (const [workload, series] of [
    ["W1", results.w1],
    ["W2", results.w2],
    ["W3", results.w3],
  ] as const) {
    for (const key of ["service", "reference"] as const) {
      const measured: Measured<unknown>[] = series[key];
      const last = measured.at(-1);
      rows.push([
        workload,
        key,
        range(cores, measured.map(serverCores)),
        range(cores, measured.map(loaderCores)),
        last ? describeCpu(last.server) : "",
      ]);
    }
  }
  if (results.w2Webhooks.length > 0) {
    const runs = results.w2Webhooks;
    const last = runs.at(-1);
    rows.push([
      "W2 + webhooks",
      "service",
      range(cores, runs.map((run) => run.w2).map(serverCores)),
      range(cores, runs.map((run) => run.w2).map(loaderCores)),
      last ? describeCpu(last.w2.server) : "",
    ]);
    rows.push([
      "W2 + webhooks",
      "webhook receiver",
      range(
        cores,
        runs.map((run) => run.receiverCores),
      ),
      "",
      last ? describeCpu(last.receiverCpu.duringW2) : "",
    ]);
  }
  const floor = results.floor.flatMap((round) => FLOOR_ROUTES.map((route) => round[route]));
  const floorServer = floor.map(serverCores);
  rows.push(["floor", "floor Worker", range(cores, floorServer), range(cores, floor.map(loaderCores)), ""]);
  return formatTable(
    ["workload", "system", "server cores", "loadgen cores", "busiest processes (last round)"],
    rows,
  );
}

/** The highest load-generator CPU of any measurement, in cores. */
export function maxLoaderCores(results: BenchResults): number {
  const all: Measured<unknown>[] = [
    ...results.w1.service,
    ...results.w1.reference,
    ...results.w2.service,
    ...results.w2.reference,
    ...results.w2Webhooks.map((run) => run.w2),
    ...results.w3.service,
    ...results.w3.reference,
    ...results.floor.flatMap((floor) => FLOOR_ROUTES.map((route) => floor[route])),
  ];
  return Math.max(0, ...all.map(loaderCores));
}

/**
 * This service's W2 without and with a webhook subscription, and what the receiver got,
 * one column per round: against the events the object must have written (from PostgreSQL)
 * and the service's own count.
 */
export function formatWebhooks(results: BenchResults): string {
  const runs = results.w2Webhooks;
  const row = (label: string, cell: (run: WebhookRun, round: number) => string) => [
    label,
    ...runs.map((run, round) => cell(run, round)),
  ];
  const plain = (round: number) => results.w2.service[round]?.result.okPerSecond;
  return formatTable(
    ["this service, W2", ...runs.map((_, round) => `round ${round + 1}`)],
    [
      row("bids/s, no subscription", (_, round) => {
        const value = plain(round);
        return value === undefined ? "—" : perSecond(value);
      }),
      row("bids/s, webhooks subscribed", (run) => perSecond(run.w2.result.okPerSecond)),
      row("webhooks ÷ none", (run, round) => {
        const value = plain(round);
        return value === undefined ? "—" : times(run.w2.result.okPerSecond / value);
      }),
      row("events the object wrote (from PostgreSQL)", (run) =>
        run.expected.extended > 0
          ? `${run.expected.total} (${run.expected.outbid} bid.outbid)`
          : String(run.expected.total),
      ),
      row("  received (distinct ids, this session)", (run) => whole(run.received.sessionIds)),
      row("  missing after the wait", (run) => whole(run.missing)),
      row("  beyond those expected", (run) => whole(run.unexpected)),
      row("deliveries (all)", (run) => whole(run.received.deliveries)),
      row("  distinct webhook-ids", (run) => whole(run.received.distinctIds)),
      row("  duplicates", (run) => whole(run.received.duplicates)),
      row("  bad signatures", (run) => whole(run.received.badSignatures)),
      row("  of earlier sessions (queue backlog)", (run) => whole(run.received.otherSessionIds)),
      row(
        "by type",
        (run) =>
          Object.entries(run.received.byType)
            .map(([type, count]) => `${type} ${count}`)
            .join(", ") || "—",
      ),
      row("lag p50 / p99 (arrival − event timestamp)", (run) =>
        run.received.sessionIds === 0
          ? "—"
          : `${formatMs(run.received.lagMs.p50)} / ${formatMs(run.received.lagMs.p99)}`,
      ),
      row("all in, after W2's end", (run) =>
        run.allReceivedAfterMs === null ? "not all" : `≤ ${seconds(run.allReceivedAfterMs / 1000)}`,
      ),
      row("service's count: delivered / failed / dead-lettered", (run) =>
        [run.delivery.delivered, run.delivery.failedAttempts, run.delivery.deadLettered].join(" / "),
      ),
      row("receiver cores during W2", (run) => cores(run.receiverCores)),
      row("receiver CPU, W2 and the wait", (run) => {
        const cpu = run.receiverCpu.throughWait.total;
        const per1000 =
          run.received.deliveries === 0
            ? ""
            : `, ${((cpu / run.received.deliveries) * 1000).toFixed(2)} s per 1000 deliveries`;
        return `${cpu.toFixed(2)} s${per1000}`;
      }),
    ],
  );
}

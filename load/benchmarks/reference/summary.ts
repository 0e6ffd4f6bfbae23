// The side-by-side benchmark's tables: each cell the range over the rounds,
// each ratio taken round by round (this service against the reference design
// measured in the same round), so a round's machine noise meets its own pair.

import { formatTable } from "../../../tools/table.js";
import type { BurstResult } from "../../bids/burst.js";
import type { RawLoopResult } from "../../bids/closed-loop.js";
import { describeCpu, type Measured } from "../../kit/cpu.js";
import { formatMs, type LatencySummary } from "../../kit/report.js";
import type { BenchResults, Series } from "./rounds.js";
import { SYSTEM_KEYS, type SystemKey } from "./systems.js";
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

/** `f` of every round, per system. */
const eachRound = <T>(series: Series<T>, f: (run: T) => number): Series<number> => ({
  service: series.service.map(f),
  reference: series.reference.map(f),
});

/** A headline row: each system's figures over the rounds, and the ratio cell. */
function systemsRow(label: string, format: (value: number) => string, values: Series<number>, ratio: string) {
  return [label, range(format, values.service), range(format, values.reference), ratio];
}

/** A closed-loop workload's row: 2xx per second of each system, and this service's over the reference's. */
function throughputRow(label: string, series: Series<Measured<RawLoopResult>>): string[] {
  return systemsRow(label, perSecond, eachRound(series, okRate), range(times, paired(series, okRatio)));
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
  const rates = { service: results.w2Webhooks.map((run) => okRate(run.w2)), reference: [] };
  const ratio = `webhooks ÷ none ${range(times, webhookRatios(results))}`;
  return [systemsRow("W2 with webhooks subscribed, bids/s", perSecond, rates, ratio)];
}

/** The headline: W1–W4 side by side; ratios read "this service is N× the reference" (above 1: better). */
export function formatHeadline(results: BenchResults): string {
  const w1Seconds = eachRound(results.w1, (m) => m.result.allAnsweredMs / 1000);
  const w1Ratios = paired(results.w1, (s, r) => r.result.allAnsweredMs / s.result.allAnsweredMs);
  const w4Lost = eachRound(results.w4, (r) => r.lost);
  return formatTable(
    ["workload", "this service", "reference design", "ratio"],
    [
      systemsRow("W1: 1000 bids at once, s until all answered", seconds, w1Seconds, range(times, w1Ratios)),
      throughputRow("W2: fresh raises, bids/s (201 only)", results.w2),
      ...webhookRow(results),
      throughputRow("W3: leaderboard top 50, req/s", results.w3),
      systemsRow("W4: acknowledged bids lost after the fault", whole, w4Lost, "—"),
    ],
  );
}

/** One row per round of `series`: its result, latency and other answers, and the CPU when measured. */
function roundRows<T>(
  workload: string,
  key: SystemKey,
  series: readonly T[],
  cells: (run: T) => [result: string, latency: LatencySummary, other: string, cpu?: Measured<unknown>],
): string[][] {
  return series.map((run, round) => {
    const [result, latency, other, cpu] = cells(run);
    const cpuCells = cpu ? [cores(cpu.serverCores), cores(cpu.loaderCores)] : ["", ""];
    const figures = [result, formatMs(latency.p50), formatMs(latency.p99), other];
    return [workload, String(round + 1), key, ...figures, ...cpuCells];
  });
}

/** Every round of W1–W4 on its own line: answers, latency, CPU. */
export function formatRounds(results: BenchResults): string {
  const rows = SYSTEM_KEYS.flatMap((key) => {
    type Loop = [string, readonly Measured<RawLoopResult>[]];
    const withWebhooks: Loop[] =
      key === "service" ? [["W2 + webhooks", results.w2Webhooks.map((run) => run.w2)]] : [];
    const loops: Loop[] = [["W2", results.w2[key]], ...withWebhooks, ["W3", results.w3[key]]];
    return [
      ...roundRows("W1", key, results.w1[key], (m) => [
        `${seconds(m.result.allAnsweredMs / 1000)} (${answered(m.result)} × 201 of ${m.result.connections})`,
        m.result.latency,
        outcomesOtherThan(m.result.outcomes, "201"),
        m,
      ]),
      ...loops.flatMap(([workload, series]) =>
        roundRows(workload, key, series, (m) => {
          const { okPerSecond, latency, non2xx, errors, outcomes } = m.result;
          const other = non2xx + errors > 0 ? ` (${outcomesOtherThan(outcomes, "200", "201")})` : "";
          return [`${perSecond(okPerSecond)}/s`, latency, `${non2xx + errors}${other}`, m];
        }),
      ),
      ...roundRows("W4", key, results.w4[key], (r) => [
        `lost ${r.lost} of ${r.acknowledged} × 201`,
        r.bids.latency,
        `${r.unresolved} unresolved`,
      ]),
    ];
  });
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

type MeasuredSeries = [workload: string, system: string, series: Measured<unknown>[]];

/** Every CPU-measured series, as the CPU table lists them: W1–W3 per system, W2 with webhooks, the floor. */
function measurements(results: BenchResults): MeasuredSeries[] {
  const bySystem = (workload: string, series: Series<Measured<unknown>>) =>
    SYSTEM_KEYS.map((key): MeasuredSeries => [workload, key, series[key]]);
  const webhooks: MeasuredSeries[] =
    results.w2Webhooks.length > 0
      ? [["W2 + webhooks", "service", results.w2Webhooks.map((run) => run.w2)]]
      : [];
  return [
    ...bySystem("W1", results.w1),
    ...bySystem("W2", results.w2),
    ...bySystem("W3", results.w3),
    ...webhooks,
    ["floor", "floor Worker", results.floor.flatMap((round) => FLOOR_ROUTES.map((route) => round[route]))],
  ];
}

/** CPU per process tree during W1–W3 (cores = CPU-seconds per second), and the load generator's. */
export function formatCpu(results: BenchResults): string {
  const rows = measurements(results).map(([workload, system, series]) => {
    const last = workload === "floor" ? undefined : series.at(-1);
    const server = range(cores, series.map(serverCores));
    const busiest = last ? describeCpu(last.server) : "";
    return [workload, system, server, range(cores, series.map(loaderCores)), busiest];
  });
  const lastWebhooks = results.w2Webhooks.at(-1);
  if (lastWebhooks) {
    const receiver = results.w2Webhooks.map((run) => run.receiverCores);
    const busiest = describeCpu(lastWebhooks.receiverCpu.duringW2);
    rows.splice(-1, 0, ["W2 + webhooks", "webhook receiver", range(cores, receiver), "", busiest]);
  }
  return formatTable(
    ["workload", "system", "server cores", "loadgen cores", "busiest processes (last round)"],
    rows,
  );
}

/** The highest load-generator CPU of any measurement, in cores. */
export const maxLoaderCores = (results: BenchResults): number =>
  Math.max(0, ...measurements(results).flatMap(([, , series]) => series.map(loaderCores)));

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

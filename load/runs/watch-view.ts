// The screen `npm run watch` redraws: pool figures (PostgreSQL's and Hyperdrive's own) and the session's flush figures.
import type { FiguresSnapshot, PoolFigures, SessionStats } from "../kit/admin-figures.js";
import { formatMs } from "../kit/report.js";

const time = (iso: string) => iso.slice(11, 23);

function ago(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  return ms >= 0 ? `${formatMs(ms)} ago` : `in ${formatMs(-ms)}`;
}

function poolLines(pool: PoolFigures | Error): string[] {
  if (pool instanceof Error) return [`  unavailable: ${pool.message}`];
  const max = pool.max_connections === null ? "?" : String(pool.max_connections);
  const lines = [
    `  status              ${pool.status.toUpperCase()}`,
    `  checked out / in    ${pool.checked_out_connections} / ${pool.checked_in_connections}`,
    `  total / pool_size   ${pool.total_connections} / ${pool.pool_size}   (server max_connections ${max})`,
    `  overflow / queue    ${pool.overflow_connections} / ${pool.queue_size}`,
  ];
  if (pool.source?.error) lines.push(`  error               ${pool.source.error}`);
  return lines;
}

const figure = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Hyperdrive's own pool figures (GraphQL Analytics API), one line per location, under their title. */
function hyperdriveLines(pool: PoolFigures): string[] {
  const block = pool.hyperdrive;
  if (block.state === "not_configured") {
    return ["Hyperdrive pool (GraphQL Analytics)", `  not configured (set ${block.missing.join(", ")})`];
  }
  const { window, fetched_at } = block;
  const title = `Hyperdrive pool (GraphQL Analytics, ${window.start.slice(11, 16)}–${window.end.slice(11, 16)} UTC, fetched ${fetched_at.slice(11, 19)})`;
  if (block.state === "unavailable") return [title, `  unavailable: ${block.error}`];
  const ms = (value: number | null) => (value === null ? "-" : formatMs(value));
  return [
    title,
    `  status              ${block.status.toUpperCase()}`,
    ...(block.locations.length === 0 ? ["  (no pool samples in the window)"] : []),
    ...block.locations.map(
      (l) =>
        `  ${l.colo.padEnd(6)}${l.status.padEnd(10)}open ${figure(l.current_pool_size_avg)} avg / ` +
        `${figure(l.current_pool_size_max)} peak of ${figure(l.max_pool_size)}   ` +
        `available ${figure(l.available_pool_slots_avg)}   waiting ${figure(l.waiting_clients_avg)} avg / ` +
        `${figure(l.waiting_clients_max)} peak`,
    ),
    `  queries             ${block.queries.count} (${block.queries.errors} failed), ` +
      `query ${ms(block.queries.query_latency_ms_avg)} avg, connect ${ms(block.queries.connection_latency_ms_avg)} avg`,
  ];
}

function statsLines(stats: SessionStats | Error, now: number): string[] {
  if (stats instanceof Error) return [`  unavailable: ${stats.message}`];
  const oldest = stats.oldestPendingAgeMs === null ? "" : ` (oldest ${formatMs(stats.oldestPendingAgeMs)})`;
  const lastFlush =
    stats.lastFlushAt === null
      ? "never"
      : `${time(stats.lastFlushAt)} (${ago(stats.lastFlushAt, now)}), ` +
        `${formatMs(stats.lastFlushDurationMs ?? 0)}, ${stats.lastFlushRows ?? 0} rows`;
  const nextAlarm =
    stats.nextAlarmAt === null ? "none" : `${time(stats.nextAlarmAt)} (${ago(stats.nextAlarmAt, now)})`;
  return [
    `  pending bids        ${stats.pendingBids}${oldest}`,
    `  seq / flushed seq   ${stats.seq} / ${stats.flushedSeq}`,
    `  last flush          ${lastFlush}`,
    `  total flushed       ${stats.totalFlushed}`,
    `  flush failures      ${stats.consecutiveFlushFailures} in a row, ${stats.totalFlushFailures} in all` +
      (stats.lastFlushError === null ? "" : `; last: ${stats.lastFlushError}`),
    `  next alarm          ${nextAlarm}`,
    `  open sockets        ${stats.openSockets}`,
  ];
}

export function renderWatchView(origin: string, sessionId: string, snapshot: FiguresSnapshot): string {
  return [
    `${origin}   ${new Date(snapshot.at).toISOString().slice(11, 19)} UTC   (Ctrl-C to stop)`,
    "",
    "Database pool (GET /metrics/pool)",
    ...poolLines(snapshot.pool),
    ...(snapshot.pool instanceof Error ? [] : ["", ...hyperdriveLines(snapshot.pool)]),
    "",
    `Session ${sessionId} (GET /v1/sessions/{id}/stats)`,
    ...statsLines(snapshot.stats, snapshot.at),
  ].join("\n");
}

// Figures and reports: exact percentiles over the recorded values (nearest
// rank), durations as people read them, and the JSON reports under
// load/results/ (git-ignored).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** `sorted` ascending; p in (0, 100]. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

export const median = (values: readonly number[]) => summarize(values).p50;

export function summarize(values: readonly number[]): LatencySummary {
  const list = Array.from(Float64Array.from(values).sort());
  return {
    count: list.length,
    mean: list.length === 0 ? 0 : list.reduce((sum, value) => sum + value, 0) / list.length,
    p50: percentile(list, 50),
    p95: percentile(list, 95),
    p99: percentile(list, 99),
    max: list.at(-1) ?? 0,
  };
}

/** `4.2 ms`, `12 ms`, `1.24 s`, `3 min 5 s` */
export function formatMs(ms: number): string {
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

export const RESULTS_DIR = fileURLToPath(new URL("../results/", import.meta.url));

/**
 * Writes the report to `path`, by default `load/results/<kind>-<UTC timestamp>.json`,
 * and returns where, relative to the working directory.
 */
export function writeReport(kind: string, report: unknown, path?: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return writeJsonFile(path ?? join(RESULTS_DIR, `${kind}-${stamp}.json`), report);
}

/** Writes `value` as JSON (the folder created as needed); returns the path relative to the working directory. */
export function writeJsonFile(path: string, value: unknown, mode?: number): string {
  const absolute = resolve(path);
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, `${JSON.stringify(value, null, 2)}\n`, { mode });
  return relative(process.cwd(), absolute);
}

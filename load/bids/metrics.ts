// Counts and latencies of one kind of request, per second and in total.
import { type LatencySummary, summarize } from "../kit/report.js";

/** How one request ended, e.g. `201`, `422 bid_increment_too_small`, `timeout`; status null without a response. */
export interface Outcome {
  status: number | null;
  label: string;
}

export interface SecondSample {
  /** Seconds since the start, counting from 1. */
  second: number;
  offered: number;
  completed: number;
  latency: LatencySummary;
  /** Every answer that was not a success, and every failed attempt that was retried. */
  errors: Record<string, number>;
}

export interface MetricsTotals {
  offered: number;
  completed: number;
  latency: LatencySummary;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
  /** Failed attempts that were retried, by label (also counted in `errors`). */
  retried: Record<string, number>;
  serverErrors: number;
}

const isError = (outcome: Outcome) => outcome.status === null || outcome.status >= 300;

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export class RequestMetrics {
  private seconds = 0;
  private offeredInSecond = 0;
  private latenciesInSecond: number[] = [];
  private errorsInSecond = new Map<string, number>();
  private offered = 0;
  private readonly latencies: number[] = [];
  private readonly outcomes = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly retried = new Map<string, number>();
  private serverErrors = 0;

  offer(): void {
    this.offered += 1;
    this.offeredInSecond += 1;
  }

  /** A request finished (after any retries); latency from when it was due to be sent. */
  complete(latencyMs: number, outcome: Outcome): void {
    this.latencies.push(latencyMs);
    this.latenciesInSecond.push(latencyMs);
    increment(this.outcomes, outcome.label);
    this.countIfError(outcome);
  }

  /** An attempt that failed and was retried: its error counts, its latency does not. */
  attemptFailed(outcome: Outcome): void {
    increment(this.retried, outcome.label);
    this.countIfError(outcome);
  }

  private countIfError(outcome: Outcome): void {
    if (!isError(outcome)) return;
    increment(this.errors, outcome.label);
    increment(this.errorsInSecond, outcome.label);
    if (outcome.status !== null && outcome.status >= 500) this.serverErrors += 1;
  }

  /** The figures of the second that just ended; starts the next one. */
  takeSecond(): SecondSample {
    this.seconds += 1;
    const sample: SecondSample = {
      second: this.seconds,
      offered: this.offeredInSecond,
      completed: this.latenciesInSecond.length,
      latency: summarize(this.latenciesInSecond),
      errors: Object.fromEntries(this.errorsInSecond),
    };
    this.offeredInSecond = 0;
    this.latenciesInSecond = [];
    this.errorsInSecond = new Map();
    return sample;
  }

  totals(): MetricsTotals {
    return {
      offered: this.offered,
      completed: this.latencies.length,
      latency: summarize(this.latencies),
      outcomes: Object.fromEntries(this.outcomes),
      errors: Object.fromEntries(this.errors),
      retried: Object.fromEntries(this.retried),
      serverErrors: this.serverErrors,
    };
  }
}

/** `422 bid_increment_too_small=3, timeout=1` or `none` */
export function describeErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? "none" : entries.map(([label, count]) => `${label}=${count}`).join(", ");
}

// Leaderboard readers: each polls GET leaderboard on its own interval, one
// request at a time, like a page refreshing the board.
import { setTimeout as sleep } from "node:timers/promises";
import { HttpClient, NetworkError, outcomeLabel } from "../kit/http.js";
import type { RequestMetrics } from "./metrics.js";

export interface ReaderPlan {
  url: URL;
  sessionId: string;
  readers: number;
  intervalMs: number;
  durationMs: number;
  limit: number;
  metrics: RequestMetrics;
  signal: AbortSignal;
}

export async function runReaders(plan: ReaderPlan): Promise<void> {
  if (plan.readers === 0) return;
  const client = new HttpClient(plan.url, { maxSockets: plan.readers });
  const path = `/v1/sessions/${plan.sessionId}/leaderboard?limit=${plan.limit}`;
  const start = performance.now();
  const polls = Math.ceil(plan.durationMs / plan.intervalMs);

  const reader = async (index: number) => {
    // Spread the readers over the interval rather than polling in step.
    let dueAt = start + (plan.intervalMs * index) / plan.readers;
    for (let poll = 0; poll < polls && !plan.signal.aborted; poll++) {
      await sleep(Math.max(0, dueAt - performance.now()));
      if (dueAt - start >= plan.durationMs || plan.signal.aborted) break;
      plan.metrics.offer();
      try {
        const response = await client.request("GET", path, { timeoutMs: 10_000 });
        plan.metrics.complete(performance.now() - dueAt, {
          status: response.status,
          label: outcomeLabel(response),
        });
      } catch (error) {
        const label = error instanceof NetworkError ? error.label : "client_error";
        plan.metrics.complete(performance.now() - dueAt, { status: null, label });
      }
      // A reader that fell behind polls again at once, but never twice at the same time.
      dueAt = Math.max(dueAt + plan.intervalMs, performance.now());
    }
  };
  try {
    await Promise.all(Array.from({ length: plan.readers }, (_, index) => reader(index)));
  } finally {
    client.close();
  }
}

// Closed loop on the lean client: a fixed number of keep-alive connections,
// each sending its next request as soon as the previous answer arrives, until
// the duration ends. Every request is built by the caller (a fresh raise, the
// same read), so the loop itself does no more than write, parse and time.
import { setTimeout as sleep } from "node:timers/promises";
import { errorLabel, type RawAnswer, RawConnection } from "../kit/http.js";
import { type LatencySummary, summarize } from "../kit/report.js";

export interface RawLoopPlan {
  url: URL;
  connections: number;
  durationMs: number;
  /** The next request of connection `index`. */
  nextRequest: (index: number) => string;
  /** The answer to connection `index`'s last request (undefined: none). */
  onAnswer?: (index: number, answer: RawAnswer | undefined) => void;
  signal: AbortSignal;
  timeoutMs?: number;
}

export interface RawLoopResult {
  connections: number;
  /** From the first send until the last answer (the duration plus the last requests' time). */
  seconds: number;
  completed: number;
  /** 2xx answers per second: bids/s for bids (201), req/s for reads (200). */
  okPerSecond: number;
  non2xx: number;
  /** Requests with no answer (connection failed, timeout). */
  errors: number;
  /** Answers by status, and failures by label. */
  outcomes: Record<string, number>;
  latency: LatencySummary;
}

const ERROR_PAUSE_MS = 50;

export async function runRawClosedLoop(plan: RawLoopPlan): Promise<RawLoopResult> {
  const outcomes = new Map<string, number>();
  const count = (label: string) => outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + plan.durationMs;

  const loop = async (index: number) => {
    const connection = new RawConnection(plan.url);
    try {
      while (performance.now() < deadline && !plan.signal.aborted) {
        const request = plan.nextRequest(index);
        const sentAt = performance.now();
        try {
          const answer = await connection.send(request, plan.timeoutMs);
          latencies.push(performance.now() - sentAt);
          count(String(answer.status));
          if (answer.status >= 200 && answer.status < 300) ok += 1;
          else non2xx += 1;
          plan.onAnswer?.(index, answer);
        } catch (error) {
          errors += 1;
          count(errorLabel(error));
          plan.onAnswer?.(index, undefined);
          await sleep(ERROR_PAUSE_MS);
        }
      }
    } finally {
      connection.close();
    }
  };
  await Promise.all(Array.from({ length: plan.connections }, (_, index) => loop(index)));
  const seconds = (performance.now() - start) / 1000;
  return {
    connections: plan.connections,
    seconds,
    completed: latencies.length,
    okPerSecond: ok / seconds,
    non2xx,
    errors,
    outcomes: Object.fromEntries(outcomes),
    latency: summarize(latencies),
  };
}

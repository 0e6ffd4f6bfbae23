// Closed-loop throughput with autocannon: a fixed number of connections, each
// sending its next request as soon as the previous answer arrives.
import autocannon, { type Request } from "autocannon";

export interface ClosedLoopPlan {
  label: string;
  url: URL;
  connections: number;
  durationSeconds: number;
  request: Request;
  signal: AbortSignal;
}

export interface ClosedLoopResult {
  label: string;
  requestsPerSecond: number;
  completed: number;
  /** Requests sent, answered or not: those still in flight when the phase stopped are included. */
  sent: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  /** Connection errors and timeouts: requests with no answer. */
  errors: number;
  statusCodes: Record<string, number>;
}

export function runClosedLoop(plan: ClosedLoopPlan): Promise<ClosedLoopResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: plan.url.origin,
        connections: plan.connections,
        duration: plan.durationSeconds,
        timeout: 10,
        requests: [plan.request],
        title: plan.label,
      },
      (error, result) => {
        plan.signal.removeEventListener("abort", stop);
        if (error) {
          reject(error);
          return;
        }
        resolve({
          label: plan.label,
          requestsPerSecond: result.requests.average,
          completed: result.requests.total,
          sent: result.requests.sent,
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
          non2xx: result.non2xx,
          errors: result.errors,
          statusCodes: Object.fromEntries(
            Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]),
          ),
        });
      },
    );
    const stop = () => instance.stop();
    plan.signal.addEventListener("abort", stop, { once: true });
  });
}

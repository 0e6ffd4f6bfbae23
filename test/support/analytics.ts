import { env } from "cloudflare:workers";
import { vi } from "vitest";

/**
 * Data points written to the Analytics Engine binding. Locally the binding
 * accepts points and discards them (the dataset exists only on Cloudflare), so
 * tests watch the calls on the real binding the session objects share.
 */
export function watchDataPoints() {
  const spy = vi.spyOn(env.BID_ANALYTICS, "writeDataPoint");
  return {
    for: (sessionId: string) =>
      spy.mock.calls.flatMap(([point]) => (point?.indexes?.[0] === sessionId ? [point] : [])),
    stop: () => spy.mockRestore(),
  };
}

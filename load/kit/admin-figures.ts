// The operator's figures: the session object's flush state and the database pool.
import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import { PoolFiguresSchema, ResultsSchema, SessionStatsSchema } from "../../src/api/contract.js";
import { expectJson, type HttpClient, problemOf } from "./http.js";

export type SessionStats = z.infer<typeof SessionStatsSchema>;
export type PoolFigures = z.infer<typeof PoolFiguresSchema>;
export type Results = z.infer<typeof ResultsSchema>;

export interface FiguresSnapshot {
  at: number;
  stats: SessionStats | Error;
  pool: PoolFigures | Error;
}

const asError = (reason: unknown) => (reason instanceof Error ? reason : new Error(String(reason)));

export class AdminFigures {
  constructor(
    private readonly client: HttpClient,
    private readonly adminToken: string,
  ) {}

  async stats(sessionId: string): Promise<SessionStats> {
    const path = `/v1/sessions/${sessionId}/stats`;
    const response = await this.client.request("GET", path, { token: this.adminToken, timeoutMs: 5_000 });
    return expectJson(response, 200, SessionStatsSchema, `GET ${path}`);
  }

  /** The session's results once it has ended; null before (409 session_not_ended). */
  async results(sessionId: string): Promise<Results | null> {
    const path = `/v1/sessions/${sessionId}/results`;
    const response = await this.client.request("GET", path, { timeoutMs: 5_000 });
    if (response.status === 409 && problemOf(response.body)?.code === "session_not_ended") return null;
    return expectJson(response, 200, ResultsSchema, `GET ${path}`);
  }

  async pool(): Promise<PoolFigures> {
    const response = await this.client.request("GET", "/metrics/pool", {
      token: this.adminToken,
      timeoutMs: 5_000,
    });
    return expectJson(response, 200, PoolFiguresSchema, "GET /metrics/pool");
  }

  /** Both figures at once; a failing one is reported as its error rather than thrown. */
  async snapshot(sessionId: string): Promise<FiguresSnapshot> {
    const [stats, pool] = await Promise.allSettled([this.stats(sessionId), this.pool()]);
    return {
      at: Date.now(),
      stats: stats.status === "fulfilled" ? stats.value : asError(stats.reason),
      pool: pool.status === "fulfilled" ? pool.value : asError(pool.reason),
    };
  }

  /**
   * Polls every `pollMs` until the session has no pending bids, or `timeoutMs` passes.
   * Returns the last stats read (undefined when none could be read).
   */
  async waitForFlush(sessionId: string, timeoutMs: number, pollMs = 500): Promise<SessionStats | undefined> {
    const deadline = Date.now() + timeoutMs;
    let last: SessionStats | undefined;
    while (Date.now() < deadline) {
      try {
        last = await this.stats(sessionId);
        if (last.pendingBids === 0) return last;
      } catch {
        // The object or the admin route may be briefly unavailable; keep polling until the deadline.
      }
      await sleep(pollMs);
    }
    return last;
  }
}

/** `healthy 3/20 out, 2 in, total 5` */
export function describePool(pool: PoolFigures | Error): string {
  if (pool instanceof Error) return "pool ?";
  return `pool ${pool.status} ${pool.checked_out_connections}/${pool.pool_size} out, ${pool.checked_in_connections} in`;
}

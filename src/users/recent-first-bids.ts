import type { Redis } from "@upstash/redis/cloudflare";
import { readConfig } from "../config/config";
import { cacheClient } from "./cache-client";
import { logCacheFailure } from "./username-cache";

/** Far longer than a flush takes to land (every 5 s), and than most outages it waits out. */
const KEEP_MS = 15 * 60_000;
/** After a failed write, first bids skip the cache this long instead of each waiting out its timeout. */
const BACK_OFF_MS = 10_000;
/** KEYS: each user's set; ARGV: now, keep ms, session id. One round trip and one small body per batch. */
const ADD_SCRIPT = `
for _, key in ipairs(KEYS) do
  redis.call("ZADD", key, ARGV[1], ARGV[3])
  redis.call("PEXPIRE", key, ARGV[2])
end
return #KEYS`;

/**
 * The sessions where a user placed a first bid lately, in Upstash Redis.
 * PostgreSQL learns of a user's first bid in a session only at the object's
 * next flush, so `GET /v1/me/bids`, which finds a user's sessions there, would
 * not list it until then. The object records the session here before its 201;
 * the route asks that session's object for the figures. The cache holds which
 * sessions, never a figure a bid could change. Like the other caches, every
 * call is bounded by a short timeout and never throws: without it a first bid
 * shows after the flush, as before.
 */
export class RecentFirstBids {
  private skipUntil = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  static fromEnv(env: Env): RecentFirstBids | undefined {
    const redis = cacheClient(env);
    if (!redis) return undefined;
    return new RecentFirstBids(redis, readConfig(env).cacheNamespace);
  }

  private key(userId: number): string {
    return `${this.namespace}:first-bids:${userId}`;
  }

  /** One command for a batch: each user's set gets the session and expires KEEP_MS after its newest (old entries are shed on reading). */
  async add(sessionId: string, userIds: readonly number[], now: number): Promise<void> {
    if (userIds.length === 0 || now < this.skipUntil) return;
    try {
      const keys = userIds.map((userId) => this.key(userId));
      await this.redis.eval(ADD_SCRIPT, keys, [String(now), String(KEEP_MS), sessionId]);
    } catch (error) {
      this.skipUntil = now + BACK_OFF_MS;
      logCacheFailure("first_bids_add", error);
    }
  }

  /** The sessions of the user's recent first bids, newest first, with when they were placed (epoch ms). */
  async of(userId: number, now: number): Promise<{ sessionId: string; placedAt: number }[]> {
    try {
      const key = this.key(userId);
      const pipeline = this.redis.pipeline();
      pipeline.zremrangebyscore(key, 0, now - KEEP_MS);
      pipeline.zrange(key, now - KEEP_MS, "+inf", { byScore: true, withScores: true });
      const [, found] = await pipeline.exec<[number, (string | number)[]]>();
      const entries: { sessionId: string; placedAt: number }[] = [];
      for (let i = 0; i + 1 < found.length; i += 2) {
        entries.push({ sessionId: String(found[i]), placedAt: Number(found[i + 1]) });
      }
      return entries.reverse();
    } catch (error) {
      logCacheFailure("first_bids_read", error);
      return [];
    }
  }
}

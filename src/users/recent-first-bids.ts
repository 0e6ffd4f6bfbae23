import type { Redis } from "@upstash/redis/cloudflare";
import { readConfig } from "../config/config";
import { cacheClient } from "./cache-client";
import { logCacheFailure } from "./username-cache";

/** Far longer than a flush takes to land (every 5 s), and than most outages it waits out. */
const KEEP_MS = 15 * 60_000;
/** After a failed write, first bids skip the cache this long instead of each waiting out its timeout. */
const BACK_OFF_MS = 10_000;

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

  /** One pipeline for a batch: each user's set gets the session, sheds entries past KEEP_MS, and expires with them. */
  async add(sessionId: string, userIds: readonly number[], now: number): Promise<void> {
    if (userIds.length === 0 || now < this.skipUntil) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const userId of userIds) {
        const key = this.key(userId);
        pipeline.zadd(key, { score: now, member: sessionId });
        pipeline.zremrangebyscore(key, 0, now - KEEP_MS);
        pipeline.pexpire(key, KEEP_MS);
      }
      await pipeline.exec();
    } catch (error) {
      this.skipUntil = now + BACK_OFF_MS;
      logCacheFailure("first_bids_add", error);
    }
  }

  /** The sessions of the user's recent first bids, newest first, with when they were placed (epoch ms). */
  async of(userId: number, now: number): Promise<{ sessionId: string; placedAt: number }[]> {
    try {
      const found = await this.redis.zrange<(string | number)[]>(this.key(userId), now - KEEP_MS, "+inf", {
        byScore: true,
        withScores: true,
      });
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

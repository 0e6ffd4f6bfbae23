import type { Redis } from "@upstash/redis/cloudflare";
import { readConfig } from "../config/config";
import { cacheClient } from "./cache-client";
import { logCacheFailure } from "./username-cache";

/** Far longer than a flush takes to land (every 5 s), and than most outages it waits out. */
const KEEP_MS = 15 * 60_000;
/** Bound the memory that stands in for the cache. */
const MAX_USERS_IN_MEMORY = 100_000;
const MAX_SESSIONS_PER_USER = 1_000;
/** After a failed write, first bids skip the cache this long instead of each waiting out its timeout. */
const BACK_OFF_MS = 10_000;
/** KEYS: each user's set; ARGV: now, keep ms, session id. One round trip and one small body per batch. */
const ADD_SCRIPT = `
for _, key in ipairs(KEYS) do
  redis.call("ZADD", key, ARGV[1], ARGV[3])
  redis.call("PEXPIRE", key, ARGV[2])
end
return #KEYS`;

/** The sessions of a user's recent first bids, newest first, with when they were placed (epoch ms). */
export type RecentSessions = { sessionId: string; placedAt: number }[];

/**
 * The sessions where a user placed a first bid lately. PostgreSQL learns of a
 * user's first bid in a session only at the object's next flush, so
 * `GET /v1/me/bids`, which finds a user's sessions there, would not list it
 * until then. The Worker records the session here before the bid's 201
 * (src/session-client/session-client.ts); the route asks that session's
 * object for the figures. This holds which sessions,
 * never a figure a bid could change.
 */
export interface RecentFirstBids {
  add(sessionId: string, userIds: readonly number[], now: number): Promise<void>;
  of(userId: number, now: number): Promise<RecentSessions>;
}

/** In Upstash Redis when the cache is configured, else in this isolate's memory. */
export function recentFirstBidsOf(env: Env): RecentFirstBids {
  const redis = cacheClient(env);
  return redis ? new CachedFirstBids(redis, readConfig(env).cacheNamespace) : isolateFirstBids;
}

/**
 * Shared by every Worker isolate through Upstash. Like the other
 * caches, every call is bounded by a short timeout and never throws: while it
 * is down a first bid shows after the flush, as it did before.
 */
class CachedFirstBids implements RecentFirstBids {
  private skipUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

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

  async of(userId: number, now: number): Promise<RecentSessions> {
    try {
      const key = this.key(userId);
      const pipeline = this.redis.pipeline();
      pipeline.zremrangebyscore(key, 0, now - KEEP_MS);
      pipeline.zrange(key, now - KEEP_MS, "+inf", { byScore: true, withScores: true });
      const [, found] = await pipeline.exec<[number, (string | number)[]]>();
      const entries: RecentSessions = [];
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

/**
 * Without the cache (the quick start's embedded default): the isolate's own
 * memory. Exact where one isolate serves every request (npm start, npm run
 * dev); on Cloudflare the bid and the later read may land in different
 * isolates, which is what the cache is for.
 */
class IsolateFirstBids implements RecentFirstBids {
  /** Users in the order they last placed a first bid: the front is the stalest. */
  private readonly byUser = new Map<number, { last: number; sessions: Map<string, number> }>();

  async add(sessionId: string, userIds: readonly number[], now: number): Promise<void> {
    const fresh = (placedAt: number) => placedAt > now - KEEP_MS;
    for (const userId of userIds) {
      const sessions = this.byUser.get(userId)?.sessions ?? new Map<string, number>();
      sessions.delete(sessionId);
      this.byUser.delete(userId);
      this.byUser.set(userId, { last: now, sessions: sessions.set(sessionId, now) });
      shedOldest(sessions, fresh, MAX_SESSIONS_PER_USER);
    }
    shedOldest(this.byUser, ({ last }) => fresh(last), MAX_USERS_IN_MEMORY);
  }

  async of(userId: number, now: number): Promise<RecentSessions> {
    const sessions = this.byUser.get(userId)?.sessions ?? new Map<string, number>();
    return [...sessions]
      .filter(([, placedAt]) => placedAt > now - KEEP_MS)
      .map(([sessionId, placedAt]) => ({ sessionId, placedAt }))
      .sort((a, b) => b.placedAt - a.placedAt);
  }
}

/** Drops `map`'s entries from the front (the oldest) while they are stale or more than `max`. */
function shedOldest<K, V>(map: Map<K, V>, isFresh: (value: V) => boolean, max: number): void {
  for (const [key, value] of map) {
    if (isFresh(value) && map.size <= max) break;
    map.delete(key);
  }
}

const isolateFirstBids = new IsolateFirstBids();

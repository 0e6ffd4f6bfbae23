import type { Redis } from "@upstash/redis/cloudflare";
import { usernameCacheKey } from "../api/username-cache-key";
import { readConfig } from "../config/config";
import { cacheClient } from "./cache-client";

/**
 * Usernames in Upstash Redis. Usernames never change, so entries only expire
 * to bound memory. Every call is bounded by a short timeout and never throws:
 * the cache is an optimisation, PostgreSQL stays the source of truth.
 */
export class UsernameCache {
  /** After one failure the rest of the request skips the cache. */
  private unavailable = false;

  private constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly namespace: string,
  ) {}

  private key(userId: number): string {
    return usernameCacheKey(this.namespace, userId);
  }

  static fromEnv(env: Env): UsernameCache | undefined {
    const redis = cacheClient(env);
    if (!redis) return undefined;
    const config = readConfig(env);
    return new UsernameCache(redis, config.usernameCacheTtlSeconds, config.cacheNamespace);
  }

  /** One MGET; a failed lookup counts as all misses. */
  async getMany(userIds: number[]): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    if (userIds.length === 0 || this.unavailable) return found;
    try {
      const values = await this.redis.mget<(string | null)[]>(...userIds.map((id) => this.key(id)));
      userIds.forEach((id, i) => {
        const name = values[i];
        if (typeof name === "string") found.set(id, name);
      });
    } catch (error) {
      this.unavailable = true;
      logCacheFailure("mget", error);
    }
    return found;
  }

  /** One pipeline of SET … EX for every entry. */
  async putMany(entries: Map<number, string>): Promise<void> {
    if (entries.size === 0 || this.unavailable) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const [id, name] of entries) pipeline.set(this.key(id), name, { ex: this.ttlSeconds });
      await pipeline.exec();
    } catch (error) {
      this.unavailable = true;
      logCacheFailure("set", error);
    }
  }
}

export function logCacheFailure(operation: string, error: unknown): void {
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "cache_unavailable",
      operation,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
}

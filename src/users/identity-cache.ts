import type { Redis } from "@upstash/redis/cloudflare";
import { z } from "zod";
import { readConfig } from "../config/config";
import { cacheClient } from "./cache-client";
import type { Identity } from "./identities";

/** Long enough to carry known identities through an outage; an unlink deletes its entries at once. */
const TTL_SECONDS = 24 * 60 * 60;

const UserId = z.number().int().positive();

/** `<namespace>:identity:["<iss>","<sub>"]`: JSON keeps any issuer and subject apart. */
export function identityCacheKey(namespace: string, identity: Identity): string {
  return `${namespace}:identity:${JSON.stringify([identity.issuer, identity.subject])}`;
}

/**
 * Identity → user id in Upstash Redis, shared by every isolate: a known
 * identity's first request in a new isolate costs one cache read instead of
 * SQL, and keeps working while PostgreSQL is down. Like the username cache,
 * every call is bounded by a short timeout and never throws; PostgreSQL stays
 * the source of truth.
 */
export class IdentityCache {
  private constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  static fromEnv(env: Env): IdentityCache | undefined {
    const redis = cacheClient(env);
    if (!redis) return undefined;
    return new IdentityCache(redis, readConfig(env).cacheNamespace);
  }

  private key(identity: Identity): string {
    return identityCacheKey(this.namespace, identity);
  }

  /** The user id cached for `identity`; a miss when the cache cannot answer. */
  async get(identity: Identity): Promise<number | undefined> {
    try {
      const parsed = UserId.safeParse(await this.redis.get(this.key(identity)));
      return parsed.success ? parsed.data : undefined;
    } catch (error) {
      logCacheFailure("get", error);
      return undefined;
    }
  }

  async put(identity: Identity, userId: number): Promise<void> {
    try {
      await this.redis.set(this.key(identity), userId, { ex: TTL_SECONDS });
    } catch (error) {
      logCacheFailure("set", error);
    }
  }

  /** Whether the entries are gone: an unlink must not leave one behind for other isolates to find. */
  async delete(identities: readonly Identity[]): Promise<boolean> {
    if (identities.length === 0) return true;
    try {
      await this.redis.del(...identities.map((identity) => this.key(identity)));
      return true;
    } catch (error) {
      logCacheFailure("del", error);
      return false;
    }
  }
}

function logCacheFailure(operation: string, error: unknown): void {
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "identity_cache_unavailable",
      operation,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
}

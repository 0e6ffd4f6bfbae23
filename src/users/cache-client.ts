import { Redis } from "@upstash/redis/cloudflare";

const CACHE_TIMEOUT_MS = 300;

/**
 * The Upstash client the caches share, or undefined when none is configured.
 * Every call is bounded by a short timeout and never retried: a cache is an
 * optimisation, and PostgreSQL or the session's object stays the source of truth.
 */
export function cacheClient(env: Env): Redis | undefined {
  if (!env.UPSTASH_REDIS_REST_URL || !env.UPSTASH_REDIS_REST_TOKEN) return undefined;
  return new Redis({
    url: env.UPSTASH_REDIS_REST_URL,
    token: env.UPSTASH_REDIS_REST_TOKEN,
    retry: false,
    signal: () => AbortSignal.timeout(CACHE_TIMEOUT_MS),
    enableTelemetry: false,
    // Calls are already batched (one MGET, one pipeline); auto-pipelining
    // would only add a promise nobody awaits when Redis is unreachable.
    enableAutoPipelining: false,
  });
}

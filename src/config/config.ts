import { DEFAULT_CACHE_NAMESPACE } from "../api/username-cache-key";

/** Typed view of the Worker's vars: every number parsed once, with its default. */
export interface Config {
  dbDriver: "hyperdrive" | "neon";
  applicationName: string;
  poolSize: number;
  flushIntervalMs: number;
  bidRatePerSecond: number;
  bidRateBurst: number;
  usernameCacheTtlSeconds: number;
  cacheNamespace: string;
  liveSocketsPerSession: number;
}

export function positiveNumber(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

export function readConfig(env: Env): Config {
  return {
    dbDriver: env.DB_DRIVER === "neon" ? "neon" : "hyperdrive",
    applicationName: env.PG_APPLICATION_NAME || "edge-bidding-api",
    poolSize: positiveNumber(env.POOL_SIZE, 20),
    flushIntervalMs: positiveNumber(env.FLUSH_INTERVAL_MS, 5000),
    bidRatePerSecond: positiveNumber(env.BID_RATE_PER_SECOND, 5),
    bidRateBurst: positiveNumber(env.BID_RATE_BURST, 10),
    usernameCacheTtlSeconds: positiveNumber(env.USERNAME_CACHE_TTL_SECONDS, 3600),
    cacheNamespace: env.CACHE_NAMESPACE || DEFAULT_CACHE_NAMESPACE,
    liveSocketsPerSession: positiveNumber(env.LIVE_SOCKETS_PER_SESSION, 10_000),
  };
}

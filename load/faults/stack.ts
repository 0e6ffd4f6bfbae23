// The fault run's own stack, on free ports so it never meets a developer's
// `npm run dev`:
//   scratch database on DATABASE_URL's server, migrated through the proxy
//   pg wire proxy (tools/) ── the Worker's only way to PostgreSQL
//   [Redis ── gate ── Upstash adapter ── gate] ── the Worker's username cache
//   the service (`npm start`, or `npm run dev` with --runner dev) with --persist-to a
//   temp folder that survives a restart
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { DEFAULT_CACHE_NAMESPACE, usernameCacheKey } from "../../src/api/username-cache-key.js";
import { migrateDatabase } from "../../tools/db-migrate.js";
import { errorMessage, redactUrl } from "../../tools/net.js";
import { type ClientOptions, withClient } from "../../tools/pg-client.js";
import { type PgWireProxy, startPgWireProxy } from "../../tools/pg-wire-proxy.js";
import { createDatabase, dropDatabase } from "../../tools/scratch-database.js";
import { declaredSecrets } from "../../tools/serve.js";
import { type Runner, ServiceProcess } from "../../tools/service-process.js";
import { readDevSecret } from "../../tools/token.js";
import { startUpstashAdapter } from "../../tools/upstash-adapter.js";
import type { CreatedBidder } from "../kit/api.js";
import type { Cleanups } from "../kit/cleanups.js";
import { startTcpGate, type TcpGate } from "./tcp-gate.js";

const HOST = "127.0.0.1";
const FLUSH_INTERVAL_MS = 1_000;
const CACHE_TTL_SECONDS = 600;
const REDIS_PROBE_TIMEOUT_MS = 2_000;
/** The statements the run sends itself (CREATE, ALTER, DROP): a lock held elsewhere fails the run instead of hanging it. */
const SCRATCH_CLIENT: ClientOptions = { statementTimeoutMs: 30_000 };

export interface CachePath {
  /** Between the adapter and Redis: Redis itself unreachable. */
  redisGate: TcpGate;
  /** Between the Worker and the adapter: the REST endpoint unreachable. */
  restGate: TcpGate;
  restUrl: string;
  restToken: string;
  /** Straight to Redis (under the Worker's CACHE_NAMESPACE): how many of `users` have their name cached. */
  cachedNames: (users: readonly CreatedBidder[]) => Promise<number>;
  /** Removes the names of `users` from the cache, as if evicted. */
  forget: (users: readonly CreatedBidder[]) => Promise<unknown>;
}

export interface FaultStack {
  /** The scratch database, reached directly (not through the proxy). */
  databaseUrl: string;
  proxy: PgWireProxy;
  worker: ServiceProcess;
  cache: CachePath | undefined;
  /** Why there is no cache, when there is none. */
  cacheSkipReason: string | undefined;
  /** The stack as the JSON report describes it. */
  report: Record<string, unknown>;
  /** User ids the run created, so their cache entries can be removed at the end. */
  createdUserIds: Set<number>;
}

interface StackOptions {
  serverUrl: string;
  redisUrl: string | undefined;
  runner: Runner;
  cleanups: Cleanups;
  log: (line: string) => void;
}

async function probeRedis(url: string): Promise<Redis | string> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects with a generic "Connection is closed."; the reason comes as an error event.
  let lastError = "";
  redis.on("error", (error: unknown) => {
    lastError = errorMessage(error);
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    return `Redis at ${redactUrl(url)} is not reachable (${lastError || errorMessage(error)})`;
  }
}

/** Redis behind a gate, the Upstash adapter over it behind another; or why there is no cache. */
async function startCachePath(
  { redisUrl, cleanups, log }: StackOptions,
  createdUserIds: ReadonlySet<number>,
): Promise<CachePath | string> {
  if (redisUrl === undefined) return "REDIS_URL is not set";
  const redis = await probeRedis(redisUrl);
  if (typeof redis === "string") return redis;
  const keys = (ids: Iterable<number>) => [...ids].map((id) => usernameCacheKey(DEFAULT_CACHE_NAMESPACE, id));
  cleanups.add("cache entries", async () => {
    if (createdUserIds.size > 0 && redis.status === "ready") await redis.del(...keys(createdUserIds));
    redis.disconnect();
  });
  const target = new URL(redisUrl);
  const redisGate = await startTcpGate({
    targetHost: target.hostname.replace(/^\[(.*)\]$/, "$1") || HOST,
    targetPort: Number(target.port || "6379"),
  });
  cleanups.add("Redis gate", () => redisGate.close());
  target.host = `${HOST}:${redisGate.port}`;
  const restToken = randomBytes(16).toString("hex");
  const adapter = await startUpstashAdapter({
    redisUrl: target.toString(),
    token: restToken,
    host: HOST,
    port: 0,
  });
  cleanups.add("Upstash adapter", () => adapter.close());
  const restGate = await startTcpGate({ targetHost: HOST, targetPort: Number(new URL(adapter.url).port) });
  cleanups.add("REST gate", () => restGate.close());
  log(`username cache: Upstash adapter over ${redactUrl(redisUrl)}, both behind gates`);
  return {
    redisGate,
    restGate,
    restUrl: `http://${HOST}:${restGate.port}`,
    restToken,
    async cachedNames(users) {
      const names = await redis.mget(...keys(users.map((user) => user.id)));
      return users.filter((user, i) => names[i] === user.username).length;
    },
    forget: (users) => redis.del(...keys(users.map((user) => user.id))),
  };
}

export async function startStack(opts: StackOptions): Promise<FaultStack> {
  const { cleanups, log } = opts;
  const tempDir = mkdtempSync(join(tmpdir(), "bidding-faults-"));
  const removeTemp = () => rmSync(tempDir, { recursive: true, force: true });
  cleanups.add("temp folder", async () => removeTemp(), removeTemp);

  const databaseName = `faults_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const databaseUrl = await createDatabase(opts.serverUrl, databaseName, SCRATCH_CLIENT);
  cleanups.add("scratch database", () => dropDatabase(opts.serverUrl, databaseName, SCRATCH_CLIENT));

  const proxy = await startPgWireProxy({ targetUrl: databaseUrl, host: HOST });
  cleanups.add("pg wire proxy", () => proxy.close());
  // Through the proxy, as the Worker will connect: a broken proxy shows here already.
  await migrateDatabase(proxy.url);
  // The username cache is keyed by user id only, and the Redis may be a
  // developer's: ids far from anyone's 1, 2, 3 never read or overwrite their entries.
  const firstUserId = 1_000_000_000_000 + randomInt(1_000_000_000) * 1_000;
  await withClient(
    databaseUrl,
    (client) => client.query(`ALTER TABLE users ALTER COLUMN id RESTART WITH ${firstUserId}`),
    SCRATCH_CLIENT,
  );
  log(`database ${databaseName} on ${redactUrl(opts.serverUrl)}, migrated through the pg wire proxy`);

  const createdUserIds = new Set<number>();
  const cachePath = await startCachePath(opts, createdUserIds);
  const cache = typeof cachePath === "string" ? undefined : cachePath;

  const vars: Record<string, string> = {
    // Every secret set, so none of a developer's .dev.vars reaches the run.
    ...Object.fromEntries(declaredSecrets().map((name) => [name, ""])),
    JWT_SECRET: readDevSecret(),
    DB_DRIVER: "hyperdrive",
    FLUSH_INTERVAL_MS: String(FLUSH_INTERVAL_MS),
    USERNAME_CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS),
    ...(cache && {
      UPSTASH_REDIS_REST_URL: cache.restUrl,
      UPSTASH_REDIS_REST_TOKEN: cache.restToken,
      CACHE_NAMESPACE: DEFAULT_CACHE_NAMESPACE,
    }),
  };
  const worker = await ServiceProcess.create({
    runner: opts.runner,
    persistTo: join(tempDir, "state"),
    // The Worker's only way to PostgreSQL is the proxy; its cache is the gated adapter above.
    env: { DATABASE_URL: proxy.url, REDIS_URL: undefined },
    vars,
  });
  cleanups.add(
    worker.command,
    () => worker.stop(),
    () => worker.killNow(),
  );
  await worker.start();
  log(
    `${worker.command} on ${worker.url.origin} (pid ${worker.pid ?? "?"}), state in ${join(tempDir, "state")}`,
  );

  const cacheSkipReason = typeof cachePath === "string" ? cachePath : undefined;
  const report = {
    scratchDatabase: databaseName,
    api: worker.url.origin,
    runner: worker.command,
    flushIntervalMs: FLUSH_INTERVAL_MS,
    cache: cache ? "Upstash adapter over REDIS_URL, behind gates" : `none (${cacheSkipReason})`,
  };
  return { databaseUrl, proxy, worker, cache, cacheSkipReason, report, createdUserIds };
}

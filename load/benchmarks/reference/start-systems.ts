// Both designs started for a side-by-side run (bench:reference, bench:locust):
// this service on a scratch database `<prefix>_<tag>` with its own cache
// namespace, and the reference design on `<peerPrefix>_<tag>`. `cleanups`
// stops both, drops their databases and the service's cache entries, and
// removes the temp folder that holds their state and logs.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { redactUrl } from "../../../tools/net.js";
import { createDatabase, dropDatabase } from "../../../tools/scratch-database.js";
import { type Runner, ServiceProcess } from "../../../tools/service-process.js";
import type { Cleanups } from "../../kit/cleanups.js";
import { startPeer } from "./peer.js";

export interface StartOptions {
  /** Of the service's database, its cache namespace and the temp folder; `peerPrefix`: of the peer's database. */
  prefix: string;
  peerPrefix: string;
  runner: Runner;
  /** A URL of the PostgreSQL server both databases are created on. */
  pgServer: string;
  redisUrl: string;
  /** The service's vars, beside its CACHE_NAMESPACE. */
  vars?: Record<string, string>;
  log?: (line: string) => void;
}

async function deleteCacheKeys(redisUrl: string, namespace: string): Promise<number> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = "0";
    for (let page = 0; page < 10_000; page++) {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === "0") break;
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Both started; `tag` is unique to this run (database names, usernames, the cache namespace). */
export async function startSystems(cleanups: Cleanups, options: StartOptions) {
  const { prefix, pgServer, redisUrl, log = () => {} } = options;
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  const tempDir = mkdtempSync(join(tmpdir(), `bench-${prefix}-`));
  cleanups.add("temp folder", async () => rmSync(tempDir, { recursive: true, force: true }));
  const serviceDb = `${prefix}_${tag}`;
  const serviceDbUrl = await createDatabase(pgServer, serviceDb);
  cleanups.add("service database", () => dropDatabase(pgServer, serviceDb));
  const namespace = `${prefix}-${tag}`;
  const service = await ServiceProcess.create({
    runner: options.runner,
    env: { DATABASE_URL: serviceDbUrl, REDIS_URL: redisUrl },
    persistTo: join(tempDir, "service-state"),
    ready: (response) => response.ok,
    vars: { ...options.vars, CACHE_NAMESPACE: namespace },
  });
  cleanups.add(
    service.command,
    () => service.stop(),
    () => service.killNow(),
  );
  cleanups.add("username cache entries", () => deleteCacheKeys(redisUrl, namespace));
  log(
    `this service: ${service.command} on ${service.url.origin}, database ${serviceDb} on ${redactUrl(pgServer)}...`,
  );
  await service.start();

  const peerDb = `${options.peerPrefix}_${tag}`;
  log(`reference design: run.sh start, database ${peerDb}...`);
  const { peer, output } = await startPeer(pgServer, peerDb, tempDir, cleanups);
  if (output) log(`  ${output.replace(/\n/g, "\n        ")}`);
  return { tag, tempDir, service, serviceDb, serviceDbUrl, peer, peerDb };
}

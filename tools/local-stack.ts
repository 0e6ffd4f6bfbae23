// What both `npm run dev` and `npm start` put beside the Worker: the database
// (the embedded PGlite unless DATABASE_URL is set) with its migrations, the
// WebSocket proxy the Neon driver dials, and the Upstash REST adapter over
// REDIS_URL. The Worker itself is the caller's to serve.
//   DATABASE_URL  use this PostgreSQL instead of the embedded PGlite
//   PGLITE_PORT   port of the embedded PGlite (default 5433)
//   PGLITE_DATA_DIR  its data directory (default .data/pglite)
//   REDIS_URL     serve the Upstash REST protocol over this Redis for the username cache
//   UPSTASH_PORT  port of that adapter (default 8079, or any free port when 8079 is taken)
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrateDatabase } from "./db-migrate.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { errorMessage, isPortFree, redactUrl } from "./net.js";
import { startUpstashAdapter } from "./upstash-adapter.js";
import { startWsProxy } from "./ws-proxy.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const HOST = "127.0.0.1";
const DEFAULT_UPSTASH_PORT = 8079;

export interface LocalStack {
  /** The database the Worker uses (PGlite's URL when embedded). */
  databaseUrl: string;
  /** Vars the Worker needs to reach the pieces started here. */
  bindings: Record<string, string>;
  /** One line per piece, for the ready banner. */
  labels: { database: string; cache: string; neonProxy: string };
  /** Stops what was started, newest first; safe to call more than once. */
  close(): Promise<void>;
}

export function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${raw} is not a port number (1-65535)`);
  }
  return port;
}

export async function requirePortFree(port: number, what: string, envName: string): Promise<void> {
  if (!(await isPortFree(HOST, port))) {
    throw new Error(
      `port ${port} (${what}) is already in use on ${HOST}: stop what uses it, or pick another with ${envName}=<port>`,
    );
  }
}

/** Local secrets come from `.dev.vars`, created from the committed example on first run. */
export function ensureDevVars(log: (line: string) => void): void {
  const devVars = join(ROOT, ".dev.vars");
  if (existsSync(devVars)) return;
  copyFileSync(join(ROOT, ".dev.vars.example"), devVars);
  log("created .dev.vars from .dev.vars.example (local secrets; never committed)");
}

/**
 * Starts the pieces. Every port is checked before anything starts, so a clash
 * costs nothing to undo; a failure later stops what had started.
 */
export async function startLocalStack(log: (line: string) => void): Promise<LocalStack> {
  const pglitePort = portFromEnv("PGLITE_PORT", 5433);
  const externalDatabaseUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;

  if (externalDatabaseUrl === undefined) {
    await requirePortFree(pglitePort, "the embedded PostgreSQL", "PGLITE_PORT");
  }
  let upstashPort = 0;
  if (redisUrl !== undefined) {
    if (process.env.UPSTASH_PORT) {
      upstashPort = portFromEnv("UPSTASH_PORT", DEFAULT_UPSTASH_PORT);
      await requirePortFree(upstashPort, "the Upstash REST adapter", "UPSTASH_PORT");
    } else if (await isPortFree(HOST, DEFAULT_UPSTASH_PORT)) {
      upstashPort = DEFAULT_UPSTASH_PORT;
    }
  }

  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      await closer().catch((error: unknown) => log(`while stopping: ${errorMessage(error)}`));
    }
  };
  try {
    let databaseUrl: string;
    let databaseLabel: string;
    if (externalDatabaseUrl === undefined) {
      const dataDir = process.env.PGLITE_DATA_DIR || join(ROOT, ".data/pglite");
      log(`starting the embedded PostgreSQL (PGlite, data in ${dataDir})...`);
      const embedded = await startEmbeddedPostgres({ dataDir, host: HOST, port: pglitePort });
      closers.push(embedded.close);
      databaseUrl = embedded.url;
      databaseLabel = `${redactUrl(databaseUrl)} (embedded PGlite, data in ${dataDir})`;
    } else {
      databaseUrl = externalDatabaseUrl;
      databaseLabel = `${redactUrl(databaseUrl)} (DATABASE_URL)`;
    }
    try {
      await migrateDatabase(databaseUrl);
    } catch (error) {
      throw new Error(`migrations failed: ${errorMessage(error)}`);
    }

    const proxy = await startWsProxy({ host: HOST });
    closers.push(proxy.close);
    const bindings: Record<string, string> = { DATABASE_URL: databaseUrl, NEON_WS_PROXY: proxy.url };

    let cacheLabel = "off (set REDIS_URL to serve the username cache from a local Redis)";
    if (redisUrl !== undefined) {
      const token = randomBytes(16).toString("hex");
      const adapter = await startUpstashAdapter({ redisUrl, token, host: HOST, port: upstashPort });
      closers.push(adapter.close);
      bindings.UPSTASH_REDIS_REST_URL = adapter.url;
      bindings.UPSTASH_REDIS_REST_TOKEN = token;
      cacheLabel = `${adapter.url} (Upstash REST over ${redactUrl(redisUrl)})`;
    }
    return {
      databaseUrl,
      bindings,
      labels: { database: databaseLabel, cache: cacheLabel, neonProxy: `ws://${proxy.url}` },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

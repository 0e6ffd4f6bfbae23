// `npm run dev`: the whole local stack in one command, on a machine with only Node.
//   DATABASE_URL  use this PostgreSQL instead of the embedded PGlite (.data/pglite)
//   PGLITE_PORT   port of the embedded PGlite (default 5433)
//   PGLITE_DATA_DIR  its data directory (default .data/pglite), e.g. a scratch one for a test run
//   REDIS_URL     serve the Upstash REST protocol over this Redis for the username cache
//   UPSTASH_PORT  port of that adapter (default 8079, or any free port when 8079 is taken)
//   PORT          port of the API (default 8787)
//   DB_DRIVER     hyperdrive | neon, passed to the Worker
// Extra arguments go to wrangler dev: npm run dev -- --log-level error
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrateDatabase } from "./db-migrate.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { errorMessage, isPortFree, redactUrl, withPlaceholderPassword } from "./net.js";
import { startUpstashAdapter } from "./upstash-adapter.js";
import { startWsProxy } from "./ws-proxy.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HOST = "127.0.0.1";
const DEFAULT_UPSTASH_PORT = 8079;

const cleanups: (() => Promise<void>)[] = [];
let wrangler: ChildProcess | undefined;
let stopping = false;
let stopped: Promise<never> | undefined;

/** Stops what was started, newest first, once, then exits. */
function stopAll(exitCode: number): Promise<never> {
  stopped ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => console.error(`dev: while stopping: ${errorMessage(error)}`));
    }
    process.exit(exitCode);
  })();
  return stopped;
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  const child = wrangler;
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    // wrangler stops workerd itself; its exit handler below stops the rest.
    child.kill(signal);
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  } else {
    void stopAll(0);
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${raw} is not a port number (1-65535)`);
  }
  return port;
}

async function requirePortFree(port: number, what: string, envName: string): Promise<void> {
  if (!(await isPortFree(HOST, port))) {
    throw new Error(
      `port ${port} (${what}) is already in use on ${HOST}: stop what uses it, or pick another with ${envName}=<port> npm run dev`,
    );
  }
}

function ensureDevVars(): void {
  const devVars = join(ROOT, ".dev.vars");
  if (existsSync(devVars)) return;
  copyFileSync(join(ROOT, ".dev.vars.example"), devVars);
  console.log("dev: created .dev.vars from .dev.vars.example (local secrets; never committed)");
}

/** Resolves once the API answers HTTP at all, or false when wrangler exits first. */
async function waitUntilServing(url: string, child: ChildProcess): Promise<boolean> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return false;
}

async function main(): Promise<void> {
  const apiPort = portFromEnv("PORT", 8787);
  const pglitePort = portFromEnv("PGLITE_PORT", 5433);
  const externalDatabaseUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;
  const dbDriver = process.env.DB_DRIVER || undefined;

  // Every port is checked before anything starts, so a clash costs nothing to undo.
  await requirePortFree(apiPort, "the API, wrangler dev", "PORT");
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

  ensureDevVars();

  let databaseUrl: string;
  let databaseLabel: string;
  if (externalDatabaseUrl === undefined) {
    const dataDir = process.env.PGLITE_DATA_DIR || join(ROOT, ".data/pglite");
    console.log(`dev: starting the embedded PostgreSQL (PGlite, data in ${dataDir})...`);
    const embedded = await startEmbeddedPostgres({ dataDir, host: HOST, port: pglitePort });
    cleanups.push(embedded.close);
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
  cleanups.push(proxy.close);

  const vars = [`DATABASE_URL:${databaseUrl}`, `NEON_WS_PROXY:${proxy.url}`];
  let cacheLabel = "off (set REDIS_URL to serve the username cache from a local Redis)";
  if (redisUrl !== undefined) {
    const token = randomBytes(16).toString("hex");
    const adapter = await startUpstashAdapter({ redisUrl, token, host: HOST, port: upstashPort });
    cleanups.push(adapter.close);
    vars.push(`UPSTASH_REDIS_REST_URL:${adapter.url}`, `UPSTASH_REDIS_REST_TOKEN:${token}`);
    cacheLabel = `${adapter.url} (Upstash REST over ${redactUrl(redisUrl)})`;
  }
  if (dbDriver !== undefined) vars.push(`DB_DRIVER:${dbDriver}`);

  const args = [
    join(ROOT, "node_modules/.bin/wrangler"),
    "dev",
    "--ip",
    HOST,
    "--port",
    String(apiPort),
    ...vars.flatMap((v) => ["--var", v]),
    ...process.argv.slice(2),
  ];
  // process.execPath is the Node 22 that npm put on PATH; wrangler refuses older ones.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPlaceholderPassword(databaseUrl),
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      // wrangler's local observability collector records every invocation's spans in its own
      // isolate and SQLite: more CPU than the Worker itself under load. Cloudflare collects
      // them off the request path; here it is off unless asked for.
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
    },
  });
  wrangler = child;
  child.on("error", (error) => {
    console.error(`dev: cannot start wrangler: ${errorMessage(error)}`);
    void stopAll(1);
  });
  child.on("exit", (code) => void stopAll(stopping ? 0 : (code ?? 1)));

  const apiUrl = `http://${HOST}:${apiPort}`;
  if (await waitUntilServing(apiUrl, child)) {
    console.log(
      [
        "",
        "Local stack ready:",
        `  API         ${apiUrl}`,
        `  Docs        ${apiUrl}/docs`,
        `  Database    ${databaseLabel}`,
        `  Cache       ${cacheLabel}`,
        `  Neon proxy  ws://${proxy.url} (used with DB_DRIVER=neon)`,
        "  Token       npm run token -- --sub 1 --role admin",
        "Ctrl-C stops everything.",
        "",
      ].join("\n"),
    );
  }
}

process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// Every startup failure is one line: the port, URL or server it is about, no stack.
main().catch((error: unknown) => {
  console.error(`dev: ${errorMessage(error)}`);
  void stopAll(1);
});

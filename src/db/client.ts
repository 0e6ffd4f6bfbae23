import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import { drizzle as drizzleNeon } from "drizzle-orm/neon-serverless";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { Client as PgClient } from "pg";
import { readConfig } from "../config/config";
import * as schema from "./schema";

/** The one drizzle type the rest of the code sees, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 15_000;

interface Connection {
  db: Database;
  close(): Promise<void>;
}

// Workers cannot share a socket between requests, so every unit of work opens
// its own connection; Hyperdrive (or Neon's pooler) keeps the pool at the origin.
async function connectWithPg(env: Env, applicationName: string): Promise<Connection> {
  const client = new PgClient({
    connectionString: env.HYPERDRIVE.connectionString,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
  // pg-cloudflare rejects with "socket has been closed" after end(); nobody waits for it.
  client.on("error", () => {});
  await client.connect();
  return { db: drizzlePg(client, { schema }), close: () => client.end() };
}

function configureNeonProxy(proxy: string): void {
  // Locally the Neon driver reaches PostgreSQL through the project's WebSocket-to-TCP
  // proxy (tools/ws-proxy.ts); in production it dials Neon directly over wss.
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
}

async function connectWithNeon(env: Env, applicationName: string): Promise<Connection> {
  if (!env.DATABASE_URL) throw new Error("DB_DRIVER=neon needs DATABASE_URL");
  if (env.NEON_WS_PROXY) configureNeonProxy(env.NEON_WS_PROXY);
  const pool = new NeonPool({
    connectionString: env.DATABASE_URL,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    max: 1,
  });
  pool.on("error", () => {});
  // Connect eagerly so "database down" surfaces here, like with pg.
  const probe = await pool.connect();
  probe.release();
  return { db: drizzleNeon(pool, { schema }), close: () => pool.end() };
}

export async function connect(env: Env): Promise<Connection> {
  const config = readConfig(env);
  try {
    return config.dbDriver === "neon"
      ? await connectWithNeon(env, config.applicationName)
      : await connectWithPg(env, config.applicationName);
  } catch (error) {
    throw new DatabaseUnavailable(error);
  }
}

/** The database or the connection to it failed: an outage a client may retry (the routes answer 503). */
export class DatabaseUnavailable extends Error {
  constructor(cause: unknown) {
    super("The database cannot be reached; try again shortly.", { cause });
  }
}

/** The SQLSTATE of a database error, looking through drizzle's wrapper. */
export function sqlState(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if ("code" in e && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

const CONNECTION_ERROR_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTCONN"]);
const CONNECTION_ERROR_MESSAGE =
  /connection (terminated|ended|lost|closed|error)|network connection lost|socket (has been |was )?closed|not queryable|timeout/i;

/**
 * Whether `error` means the database or the connection to it failed: SQLSTATE
 * classes 08 (connection), 53 (insufficient resources) and 57 (operator
 * intervention, such as a shutdown), or a driver's own connection errors,
 * which carry no SQLSTATE. Anything else (a bug such as a TypeError, a
 * constraint violation) is not an outage and must not look like one.
 */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return /^(08|53|57)/.test(state);
  for (let e = error; e instanceof Error; e = e.cause) {
    if ("code" in e && typeof e.code === "string" && CONNECTION_ERROR_CODES.has(e.code)) return true;
    if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) return false;
    if (CONNECTION_ERROR_MESSAGE.test(e.message)) return true;
  }
  return false;
}

/** Runs `work` on a fresh connection and always closes it. */
export async function withDatabase<T>(env: Env, work: (db: Database) => Promise<T>): Promise<T> {
  const connection = await connect(env);
  try {
    return await work(connection.db);
  } catch (error) {
    // Only an outage is a 503 the client may retry; everything else is the
    // caller's to map, or a logged 500.
    if (isConnectionFailure(error) && !(error instanceof DatabaseUnavailable))
      throw new DatabaseUnavailable(error);
    throw error;
  } finally {
    connection.close().catch(() => {});
  }
}

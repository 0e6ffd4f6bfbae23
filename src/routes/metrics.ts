import { createRoute, type z } from "@hono/zod-openapi";
import { and, eq, ne, sql } from "drizzle-orm";
import { PoolFiguresSchema } from "../api/contract";
import { type Config, readConfig } from "../config/config";
import { withDatabase } from "../db/client";
import { pgStatActivity as activity } from "../db/pg-catalog";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { requireRole } from "../http/auth";
import { hyperdrivePoolFigures, worstStatus } from "../metrics/hyperdrive-analytics";

const pool = createRoute({
  method: "get",
  path: "/pool",
  tags: ["operations"],
  summary: "Database connection figures",
  description:
    "Counted by PostgreSQL itself in pg_stat_activity, for connections whose application_name is this service's. " +
    "status: healthy below 80 % of pool_size checked out, degraded from 80 %, exhausted from 95 % or when no connection can be had. " +
    "With CF_ACCOUNT_ID, CF_API_TOKEN and HYPERDRIVE_CONFIG_ID set, hyperdrive holds Hyperdrive's own pool figures per location " +
    "for the last five complete minutes (Cloudflare's GraphQL Analytics API, cached per window), and status is also " +
    "degraded when a client waited for a connection, exhausted when clients waited throughout or the pool sat at its " +
    "maximum with no slot available. A failing API call leaves the PostgreSQL figures as they are and is named in source.hyperdrive_error.",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  responses: {
    200: { description: "Pool figures", content: { "application/json": { schema: PoolFiguresSchema } } },
    ...problems(401, 403),
  },
});

interface ConnectionCounts {
  idle: number;
  busy: number;
  waiting: number;
  max_connections: number;
}

async function countConnections(env: Env, applicationName: string): Promise<ConnectionCounts> {
  const count = (condition: ReturnType<typeof sql>) =>
    sql`count(*) filter (where ${condition})`.mapWith(Number);
  const [row] = await withDatabase(env, (db) =>
    db
      .select({
        idle: count(sql`${activity.state} = 'idle'`),
        busy: count(sql`${activity.state} is distinct from 'idle'`),
        waiting: count(sql`${activity.waitEventType} = 'Lock'`),
        max_connections: sql`current_setting('max_connections')::int`.mapWith(Number),
      })
      .from(activity)
      // This request's own connection is left out: it exists only to measure.
      .where(and(eq(activity.applicationName, applicationName), ne(activity.pid, sql`pg_backend_pid()`))),
  );
  return row ?? { idle: 0, busy: 0, waiting: 0, max_connections: 0 };
}

export function poolStatus(checkedOut: number, poolSize: number): "healthy" | "degraded" | "exhausted" {
  const usage = checkedOut / poolSize;
  if (usage >= 0.95) return "exhausted";
  return usage >= 0.8 ? "degraded" : "healthy";
}

type PoolFigures = z.infer<typeof PoolFiguresSchema>;
type DatabaseFigures = Omit<PoolFigures, "source" | "hyperdrive"> & { error?: string };

async function databaseFigures(env: Env, config: Config): Promise<DatabaseFigures> {
  const figures = { pool_size: config.poolSize, overflow_connections: 0, queue_size: 0 };
  try {
    const counts = await countConnections(env, config.applicationName);
    const total = counts.idle + counts.busy;
    return {
      ...figures,
      checked_in_connections: counts.idle,
      checked_out_connections: counts.busy,
      overflow_connections: Math.max(0, total - config.poolSize),
      total_connections: total,
      queue_size: counts.waiting,
      status: poolStatus(counts.busy, config.poolSize),
      max_connections: counts.max_connections,
    };
  } catch (error) {
    // No connection could be had: that is what an exhausted pool looks like to us.
    return {
      ...figures,
      checked_in_connections: 0,
      checked_out_connections: 0,
      total_connections: 0,
      status: "exhausted",
      max_connections: null,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

export const metricsRouter = createRouter().openapi(pool, async (c) => {
  const config = readConfig(c.env);
  const [{ error, ...database }, hyperdrive] = await Promise.all([
    databaseFigures(c.env, config),
    hyperdrivePoolFigures(c.env),
  ]);
  const source = {
    connections: `pg_stat_activity, application_name = '${config.applicationName}'`,
    pool_size:
      config.dbDriver === "hyperdrive"
        ? "POOL_SIZE: the Hyperdrive origin connection limit"
        : "POOL_SIZE: the Neon pooler's size",
    driver: config.dbDriver,
    ...(error === undefined ? {} : { error }),
    hyperdrive:
      hyperdrive.state === "not_configured"
        ? `not configured: set ${hyperdrive.missing.join(", ")}`
        : `GraphQL Analytics API, hyperdrivePoolSizesAdaptiveGroups and hyperdriveQueriesAdaptiveGroups, configId ${hyperdrive.config_id}, ${hyperdrive.window.start} to ${hyperdrive.window.end}`,
    ...(hyperdrive.state === "unavailable" ? { hyperdrive_error: hyperdrive.error } : {}),
  };
  const status =
    hyperdrive.state === "ok" ? worstStatus(database.status, hyperdrive.status) : database.status;
  return c.json({ ...database, status, source, hyperdrive }, 200);
});

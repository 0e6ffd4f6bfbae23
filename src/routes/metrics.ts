import { createRoute } from "@hono/zod-openapi";
import { and, eq, ne, sql } from "drizzle-orm";
import { readConfig } from "../config";
import { withDatabase } from "../db/client";
import { pgStatActivity as activity } from "../db/pg-catalog";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { requireRole } from "../http/auth";
import { PoolFiguresSchema } from "../http/contract";

const pool = createRoute({
  method: "get",
  path: "/pool",
  tags: ["operations"],
  summary: "Database connection figures",
  description:
    "Counted by PostgreSQL itself in pg_stat_activity, for connections whose application_name is this service's. " +
    "status: healthy below 80 % of pool_size checked out, degraded from 80 %, exhausted from 95 % or when no connection can be had.",
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

export const metricsRouter = createRouter().openapi(pool, async (c) => {
  const config = readConfig(c.env);
  const source = {
    connections: `pg_stat_activity, application_name = '${config.applicationName}'`,
    pool_size:
      config.dbDriver === "hyperdrive"
        ? "POOL_SIZE: the Hyperdrive origin connection limit"
        : "POOL_SIZE: the Neon pooler's size",
    driver: config.dbDriver,
  };
  const figures = { pool_size: config.poolSize, overflow_connections: 0, queue_size: 0 };
  try {
    const counts = await countConnections(c.env, config.applicationName);
    const total = counts.idle + counts.busy;
    return c.json(
      {
        ...figures,
        checked_in_connections: counts.idle,
        checked_out_connections: counts.busy,
        overflow_connections: Math.max(0, total - config.poolSize),
        total_connections: total,
        queue_size: counts.waiting,
        status: poolStatus(counts.busy, config.poolSize),
        max_connections: counts.max_connections,
        source,
      },
      200,
    );
  } catch (error) {
    // No connection could be had: that is what an exhausted pool looks like to us.
    return c.json(
      {
        ...figures,
        checked_in_connections: 0,
        checked_out_connections: 0,
        total_connections: 0,
        status: "exhausted" as const,
        max_connections: null,
        source: { ...source, error: error instanceof Error ? error.message : String(error) },
      },
      200,
    );
  }
});

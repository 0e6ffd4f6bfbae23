import { createRoute } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { withDatabase } from "../db/client";
import { createRouter } from "../http/app";
import { HealthSchema } from "../http/contract";

const health = createRoute({
  method: "get",
  path: "/",
  tags: ["operations"],
  summary: "Liveness and database reachability",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: { description: "Degraded", content: { "application/json": { schema: HealthSchema } } },
  },
});

async function databaseReachable(env: Env): Promise<boolean> {
  try {
    await withDatabase(env, (db) => db.execute(sql`select 1`));
    return true;
  } catch {
    return false;
  }
}

export const healthRouter = createRouter().openapi(health, async (c) => {
  if (await databaseReachable(c.env)) {
    return c.json({ status: "ok" as const, checks: { database: "ok" as const } }, 200);
  }
  return c.json({ status: "degraded" as const, checks: { database: "down" as const } }, 503);
});

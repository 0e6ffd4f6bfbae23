import { createRoute } from "@hono/zod-openapi";
import { HealthSchema } from "../api/contract";
import { databaseReachable } from "../db/reachability";
import { createRouter } from "../http/app";

const health = createRoute({
  method: "get",
  path: "/",
  tags: ["operations"],
  summary: "Liveness and database reachability",
  description: "The database check is at most a second old: probes, however many, cost one query a second.",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: { description: "Degraded", content: { "application/json": { schema: HealthSchema } } },
  },
});

export const healthRouter = createRouter().openapi(health, async (c) => {
  if (await databaseReachable(c.env, c.executionCtx)) {
    return c.json({ status: "ok" as const, checks: { database: "ok" as const } }, 200);
  }
  return c.json({ status: "degraded" as const, checks: { database: "down" as const } }, 503);
});

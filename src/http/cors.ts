import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";

// The contract (API.md, "Browsers"): what a browser may send and read.
const ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"];
const EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After"];
const ALLOW_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE"];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** `CORS_ORIGINS` as Hono's `origin` option: `*`, a list of origins, or undefined for none. */
export function corsOrigins(setting: string | undefined): "*" | string[] | undefined {
  const origins = (setting ?? "")
    .split(",")
    .map((origin) => origin.trim().replace(/\/+$/, "").toLowerCase())
    .filter(Boolean);
  if (origins.length === 0) return undefined;
  return origins.includes("*") ? "*" : origins;
}

const handlers = new Map<string, MiddlewareHandler>();

/**
 * Hono's CORS middleware, configured by the `CORS_ORIGINS` var and built once
 * per value. Unset or empty: no CORS headers at all, and `OPTIONS` is answered
 * like any other unknown route. WebSocket upgrades pass by untouched: CORS
 * does not govern them.
 */
export const corsFromEnv = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const setting = c.env.CORS_ORIGINS || "";
  const origin = corsOrigins(setting);
  if (!origin || c.req.header("Upgrade")?.toLowerCase() === "websocket") return next();
  let handler = handlers.get(setting);
  if (!handler) {
    handler = cors({
      origin,
      allowMethods: ALLOW_METHODS,
      allowHeaders: ALLOW_HEADERS,
      exposeHeaders: EXPOSE_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    });
    handlers.set(setting, handler);
  }
  return handler(c, next);
});

import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "./problem";
import { type Caller, type Role, tokenVerifier } from "./token-verifier";

export type { Caller, Role };

export type AuthVariables = { caller: Caller };

/** Lets a key-set fetch outlive this request (others may wait on it); without an execution context it just runs. */
function keepAlive(c: Context, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // app.fetch(request, env) with no context, as some tests call it.
  }
}

/** Admits callers holding one of `roles`: 401 without a valid token, 403 with another role. */
export const requireRole = (...roles: Role[]) =>
  createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
    const verifier = tokenVerifier(c.env);
    if (!verifier.configured) throw new Error("neither JWT_SECRET nor JWT_JWKS_URL is configured");
    const token = c.req.header("Authorization")?.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
    if (!token) throw new ApiError("unauthorized", "A Bearer token is required.");
    const caller = await verifier.verify(token, (promise) => keepAlive(c, promise));
    if (!roles.includes(caller.role)) {
      throw new ApiError("forbidden", `This needs the ${roles.join(" or ")} role.`);
    }
    c.set("caller", caller);
    await next();
  });

/**
 * The role of the caller on a route anyone may call, when they sent a token:
 * undefined without one, 401 for a bad one (a client that sends a token wants
 * to know it is refused).
 */
export async function callerRoleIfAny(c: Context): Promise<Role | undefined> {
  const header = c.req.header("Authorization");
  if (header === undefined) return undefined;
  const token = header.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
  if (!token) throw new ApiError("unauthorized", "A Bearer token is required.");
  const caller = await tokenVerifier(c.env).verify(token, (promise) => keepAlive(c, promise));
  return caller.role;
}

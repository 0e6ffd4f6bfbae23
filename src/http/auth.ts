import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api/problem";
import { userIdForIdentity } from "../users/identity-users";
import { type Principal, type Role, tokenVerifier } from "./token-verifier";

export type { Role };

/** Who is calling: always one of our users, whichever kind of token said so. */
export interface Caller {
  userId: number;
  role: Role;
}

export type AuthVariables = { caller: Caller };

/** Lets a key-set fetch outlive this request (others may wait on it); without an execution context it just runs. */
function keepAlive(c: Context, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // app.fetch(request, env) with no context, as some tests call it.
  }
}

type WithEnv = { Bindings: Env };

async function verify<E extends WithEnv>(c: Context<E>, token: string): Promise<Principal> {
  const verifier = tokenVerifier(c.env);
  if (!verifier.configured) throw new Error("neither JWT_SECRET nor JWT_JWKS_URL is configured");
  return verifier.verify(token, (promise) => keepAlive(c, promise));
}

/**
 * The caller a valid `token` names when it holds one of `roles` (else 403). A
 * provider identity becomes our user only after the role check, so a refused
 * request creates no user.
 */
export async function authenticate<E extends WithEnv>(
  c: Context<E>,
  token: string,
  roles: readonly Role[],
): Promise<Caller> {
  const principal = await verify(c, token);
  if (!roles.includes(principal.role)) {
    throw new ApiError("forbidden", `This needs the ${roles.join(" or ")} role.`);
  }
  const userId =
    principal.kind === "user"
      ? principal.userId
      : await userIdForIdentity(c.env, principal.identity, principal.username);
  return { userId, role: principal.role };
}

/** Admits callers holding one of `roles`: 401 without a valid token, 403 with another role. */
export const requireRole = (...roles: Role[]) =>
  createMiddleware<WithEnv & { Variables: AuthVariables }>(async (c, next) => {
    const token = c.req.header("Authorization")?.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
    if (!token) throw new ApiError("unauthorized", "A Bearer token is required.");
    c.set("caller", await authenticate(c, token, roles));
    await next();
  });

/**
 * The role of the caller on a route anyone may call, when they sent a token:
 * undefined without one, 401 for a bad one (a client that sends a token wants
 * to know it is refused). Only the role counts here, so a provider identity
 * is not looked up.
 */
export async function callerRoleIfAny(c: Context): Promise<Role | undefined> {
  const header = c.req.header("Authorization");
  if (header === undefined) return undefined;
  const token = header.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
  if (!token) throw new ApiError("unauthorized", "A Bearer token is required.");
  return (await verify(c, token)).role;
}

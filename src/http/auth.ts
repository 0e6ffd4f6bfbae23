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

/** What checking a token needs of the request: the Worker's env, and a way to let work outlive the request. */
export interface AuthScope {
  env: Env;
  keepAlive(promise: Promise<unknown>): void;
}

type WithEnv = { Bindings: Env };

/** A Hono request's scope; a key-set fetch outlives the request (others may wait on it), when there is a context. */
export function authScope(c: {
  env: Env;
  executionCtx: { waitUntil(promise: Promise<unknown>): void };
}): AuthScope {
  return {
    env: c.env,
    keepAlive(promise) {
      try {
        c.executionCtx.waitUntil(promise);
      } catch {
        // app.fetch(request, env) with no context, as some tests call it.
      }
    },
  };
}

async function verify(scope: AuthScope, token: string): Promise<Principal> {
  const verifier = tokenVerifier(scope.env);
  if (!verifier.configured) throw new Error("neither JWT_SECRET nor JWT_JWKS_URL is configured");
  return verifier.verify(token, (promise) => scope.keepAlive(promise));
}

/**
 * The caller a valid `token` names when it holds one of `roles` (else 403). A
 * provider identity becomes our user only after the role check, so a refused
 * request creates no user.
 */
export async function authenticate(scope: AuthScope, token: string, roles: readonly Role[]): Promise<Caller> {
  const principal = await verify(scope, token);
  if (!roles.includes(principal.role)) {
    throw new ApiError("forbidden", `This needs the ${roles.join(" or ")} role.`);
  }
  const userId =
    principal.kind === "user"
      ? principal.userId
      : await userIdForIdentity(scope.env, principal.identity, principal.username);
  return { userId, role: principal.role };
}

/** Admits callers holding one of `roles`: 401 without a valid token, 403 with another role. */
export const requireRole = (...roles: Role[]) =>
  createMiddleware<WithEnv & { Variables: AuthVariables }>(async (c, next) => {
    const token = c.req.header("Authorization")?.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
    if (!token) throw new ApiError("unauthorized", "A Bearer token is required.");
    c.set("caller", await authenticate(authScope(c), token, roles));
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
  return (await verify(authScope(c), token)).role;
}

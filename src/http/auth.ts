import { createMiddleware } from "hono/factory";
import { verify } from "hono/jwt";
import { z } from "zod";
import { ApiError } from "./problem";
import { decimalId } from "./schemas";

export type Role = "user" | "admin";

export interface Caller {
  userId: number;
  role: Role;
}

export type AuthVariables = { caller: Caller };

const claimsSchema = z.object({
  sub: decimalId,
  role: z.enum(["user", "admin"]),
  exp: z.number(),
});

const verificationKeys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for `secret`, imported once per isolate rather than on every request. */
function verificationKey(secret: string): Promise<CryptoKey> {
  let key = verificationKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    verificationKeys.set(secret, key);
  }
  return key;
}

async function readCaller(header: string | undefined, secret: string): Promise<Caller> {
  const token = header?.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
  if (!token) throw new ApiError("unauthorized", "A Bearer token is required.");
  let payload: unknown;
  try {
    // The algorithm is pinned: tokens claiming "none" or any other alg are refused.
    payload = await verify(token, await verificationKey(secret), "HS256");
  } catch {
    throw new ApiError("unauthorized", "The token is malformed, badly signed or expired.");
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new ApiError("unauthorized", "The token needs sub (a user id), role and exp claims.");
  }
  return { userId: claims.data.sub, role: claims.data.role };
}

/** Admits callers holding one of `roles`: 401 without a valid token, 403 with another role. */
export const requireRole = (...roles: Role[]) =>
  createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
    if (!c.env.JWT_SECRET) throw new Error("JWT_SECRET is not configured");
    const caller = await readCaller(c.req.header("Authorization"), c.env.JWT_SECRET);
    if (!roles.includes(caller.role)) {
      throw new ApiError("forbidden", `This needs the ${roles.join(" or ")} role.`);
    }
    c.set("caller", caller);
    await next();
  });

// Tokens signed with the local dev secret (tools/token.ts), for the admin and the load's users.
import { readDevSecret, signToken } from "../../tools/token.js";

/** The admin's `sub`: any id works for the admin routes; this one is out of the way of real users. */
const ADMIN_SUB = 1_000_000_000;

export function signAdminToken(expiresInSeconds: number): Promise<string> {
  return signToken({ sub: ADMIN_SUB, role: "admin", secret: readDevSecret(), expiresInSeconds });
}

export function signUserToken(userId: number, expiresInSeconds: number): Promise<string> {
  return signToken({ sub: userId, role: "user", secret: readDevSecret(), expiresInSeconds });
}

import { exports } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { inject } from "vitest";
import type { BidReceipt, SessionView as Session } from "../../src/objects/protocol";

export type { Leaderboard } from "../../src/objects/protocol";
export type { BidReceipt, Session };

export interface User {
  id: number;
  username: string;
  createdAt: string;
}

export type Role = "user" | "admin";

export async function tokenFor(
  sub: number,
  role: Role,
  options: { expiresInSeconds?: number; secret?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { sub: String(sub), role, iat: now, exp: now + (options.expiresInSeconds ?? 600) },
    options.secret ?? inject("jwtSecret"),
    "HS256",
  );
}

export const adminToken = () => tokenFor(1_000_000, "admin");

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the Worker in workerd, as a client would over HTTP. */
export async function call<T = Problem>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const response = await exports.default.fetch(`http://bidding.test${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

const runPrefix = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
let uniqueCounter = 0;
/** A short username no other test file (or earlier run on the same database) has used. */
export function uniqueName(): string {
  uniqueCounter += 1;
  return `u${runPrefix}${uniqueCounter.toString(36)}`;
}

export async function createUsers(count: number): Promise<{ id: number; username: string }[]> {
  const usernames = Array.from({ length: count }, () => uniqueName());
  const created: { id: number; username: string }[] = [];
  for (let i = 0; i < usernames.length; i += 1000) {
    const res = await call<{ users: { id: number; username: string }[] }>("POST", "/v1/users/batch", {
      token: await adminToken(),
      body: { usernames: usernames.slice(i, i + 1000) },
    });
    if (res.status !== 201) throw new Error(`user batch failed: ${res.status} ${JSON.stringify(res.body)}`);
    created.push(...res.body.users);
  }
  return created;
}

export async function createSession(
  overrides: Partial<{
    title: string;
    startsAt: string;
    endsAt: string;
    minBid: number;
    minIncrement: number;
  }> = {},
): Promise<Session> {
  const now = Date.now();
  const res = await call<Session>("POST", "/v1/sessions", {
    token: await adminToken(),
    body: {
      title: "Test session",
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      minBid: 100,
      minIncrement: 10,
      ...overrides,
    },
  });
  if (res.status !== 201) throw new Error(`session create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function bid(
  sessionId: string,
  userId: number,
  amount: number,
  headers: Record<string, string> = {},
): Promise<ApiResponse<BidReceipt & Problem>> {
  return call("POST", `/v1/sessions/${sessionId}/bids`, {
    token: await tokenFor(userId, "user"),
    body: { amount },
    headers,
  });
}

// POST /v1/sessions/{id}/bids the naive way: verify the token, then one
// INSERT ... ON CONFLICT DO UPDATE per request on a fresh connection, so
// every bid costs a database round trip (and locally a new connection).
// GET /v1/sessions/{id}/leaderboard the reference system's way: the top bids
// from PostgreSQL, then one query per entry for its username (1 + N statements).
import { verify } from "hono/jwt";
import pg from "pg";
import type { z } from "zod";
import type { LeaderboardEntrySchema } from "../../../src/api/contract.js";
import { problemResponse } from "../../../src/api/problem.js";

interface NaiveEnv {
  HYPERDRIVE: { connectionString: string };
  JWT_SECRET: string;
}

const BID_PATH = /^\/v1\/sessions\/([0-9a-f-]{36})\/bids$/;
const LEADERBOARD_PATH = /^\/v1\/sessions\/([0-9a-f-]{36})\/leaderboard$/;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

async function callerId(request: Request, secret: string): Promise<number | undefined> {
  const token = request.headers.get("Authorization")?.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
  if (!token) return undefined;
  try {
    const payload = await verify(token, secret, "HS256");
    return typeof payload.sub === "string" && /^[1-9][0-9]{0,15}$/.test(payload.sub)
      ? Number(payload.sub)
      : undefined;
  } catch {
    return undefined;
  }
}

async function readAmount(request: Request): Promise<number | undefined> {
  try {
    const body: unknown = JSON.parse(await request.text());
    if (typeof body !== "object" || body === null || !("amount" in body)) return undefined;
    const { amount } = body;
    return typeof amount === "number" && Number.isInteger(amount) && amount >= 1 ? amount : undefined;
  } catch {
    return undefined;
  }
}

async function upsertBid(env: NaiveEnv, sessionId: string, userId: number, amount: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: env.HYPERDRIVE.connectionString });
  client.on("error", () => {});
  await client.connect();
  try {
    const result = await client.query(
      `INSERT INTO bids (session_id, user_id, amount, seq, bid_count, placed_at)
       VALUES ($1, $2, $3, 0, 1, now())
       ON CONFLICT (session_id, user_id) DO UPDATE
       SET amount = excluded.amount, bid_count = bids.bid_count + 1, placed_at = excluded.placed_at,
           updated_at = now()
       WHERE bids.amount < excluded.amount
       RETURNING amount`,
      [sessionId, userId, amount],
    );
    return result.rowCount === 1;
  } finally {
    await client.end().catch(() => {});
  }
}

/** An entry of the product's leaderboard, so the two boards compare field by field. */
type NaiveEntry = z.infer<typeof LeaderboardEntrySchema>;

/** A row of the top query; pg returns bigint columns as strings and timestamptz as a Date. */
function topRowOf(row: unknown): { userId: number; amount: number; placedAt: string } | undefined {
  if (typeof row !== "object" || row === null) return undefined;
  if (!("user_id" in row) || !("amount" in row) || !("placed_at" in row)) return undefined;
  const { user_id: userId, amount, placed_at: placedAt } = row;
  if (typeof userId !== "string" || typeof amount !== "string" || !(placedAt instanceof Date)) {
    return undefined;
  }
  return { userId: Number(userId), amount: Number(amount), placedAt: placedAt.toISOString() };
}

/** The top `limit` bids, then each username with its own query: the N+1 the product avoids. */
async function naiveLeaderboard(env: NaiveEnv, sessionId: string, limit: number): Promise<NaiveEntry[]> {
  const client = new pg.Client({ connectionString: env.HYPERDRIVE.connectionString });
  client.on("error", () => {});
  await client.connect();
  try {
    const top = await client.query(
      `SELECT user_id, amount, placed_at FROM bids WHERE session_id = $1
       ORDER BY amount DESC, seq ASC LIMIT $2`,
      [sessionId, limit],
    );
    const entries: NaiveEntry[] = [];
    for (const raw of top.rows) {
      const row = topRowOf(raw);
      if (!row) continue;
      const named = await client.query("SELECT username FROM users WHERE id = $1", [row.userId]);
      const first: unknown = named.rows[0];
      const username =
        typeof first === "object" &&
        first !== null &&
        "username" in first &&
        typeof first.username === "string"
          ? first.username
          : null;
      entries.push({ rank: entries.length + 1, ...row, username });
    }
    return entries;
  } finally {
    await client.end().catch(() => {});
  }
}

function limitOf(url: URL): number | undefined {
  const raw = url.searchParams.get("limit");
  if (raw === null) return DEFAULT_LIMIT;
  const limit = Number(raw);
  return /^[0-9]{1,3}$/.test(raw) && limit >= 1 && limit <= MAX_LIMIT ? limit : undefined;
}

export default {
  async fetch(request: Request, env: NaiveEnv): Promise<Response> {
    const url = new URL(request.url);
    const boardSessionId = url.pathname.match(LEADERBOARD_PATH)?.[1];
    if (request.method === "GET" && boardSessionId !== undefined) {
      const limit = limitOf(url);
      if (limit === undefined)
        return problemResponse("invalid_request", "limit: must be an integer from 1 to 100");
      try {
        const entries = await naiveLeaderboard(env, boardSessionId, limit);
        return Response.json({ sessionId: boardSessionId, entries });
      } catch (error) {
        return problemResponse(
          "database_unavailable",
          error instanceof Error ? error.message : String(error),
        );
      }
    }
    const sessionId = url.pathname.match(BID_PATH)?.[1];
    if (request.method !== "POST" || sessionId === undefined)
      return problemResponse("not_found", "No such route.");
    const userId = await callerId(request, env.JWT_SECRET);
    if (userId === undefined) return problemResponse("unauthorized", "A valid Bearer token is required.");
    const amount = await readAmount(request);
    if (amount === undefined) return problemResponse("invalid_request", "amount: must be a positive integer");
    try {
      if (!(await upsertBid(env, sessionId, userId, amount))) {
        return problemResponse("bid_increment_too_small", "The bid must raise your previous one.");
      }
    } catch (error) {
      return problemResponse("database_unavailable", error instanceof Error ? error.message : String(error));
    }
    return Response.json({ sessionId, userId, amount }, { status: 201 });
  },
};

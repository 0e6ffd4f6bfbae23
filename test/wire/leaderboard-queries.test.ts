import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { describe, expect, inject, it } from "vitest";
import { LeaderboardSchema } from "../../src/api/contract";
import { usernameCacheKey } from "../../src/api/username-cache-key";
import worker from "../../src/worker";
import { bid, call, createSession, createUsers, readResponse } from "../support/api";
import { fireAlarm } from "../support/objects";
import { statementsDuring } from "../support/wire";

const withCache = inject("upstashUrl") !== "";

async function sessionWithBidders(count: number) {
  const session = await createSession({ minIncrement: 1 });
  const users = await createUsers(count);
  for (const [i, u] of users.entries()) expect((await bid(session.id, u.id, 100 + i)).status).toBe(201);
  // Flushed now, so the flush alarm (5 s after the first bid) cannot land inside a count on a slow machine.
  await fireAlarm(session.id);
  return { session, users };
}

describe("leaderboard usernames: one batched lookup", () => {
  it("runs at most one SQL statement for 60 bidders with a cold cache", async () => {
    const { session, users } = await sessionWithBidders(60);
    if (withCache) {
      // Forget what creating the users put in the cache.
      await fetch(`${inject("upstashUrl")}/pipeline`, {
        method: "POST",
        headers: { Authorization: `Bearer ${inject("upstashToken")}` },
        body: JSON.stringify(users.map((u) => ["DEL", usernameCacheKey(inject("cacheNamespace"), u.id)])),
      });
    }
    let board: z.infer<typeof LeaderboardSchema> | undefined;
    const statements = await statementsDuring(async () => {
      const path = `/v1/sessions/${session.id}/leaderboard?limit=50`;
      board = (await call("GET", path, { schema: LeaderboardSchema })).body;
    });
    expect(statements).toBeLessThanOrEqual(1);
    expect(board?.entries).toHaveLength(50);
    expect(board?.entries.every((e) => e.username !== null)).toBe(true);
  });

  it.skipIf(!withCache)("runs no SQL statement with a warm cache", async () => {
    const { session } = await sessionWithBidders(20);
    await call("GET", `/v1/sessions/${session.id}/leaderboard`);
    const statements = await statementsDuring(() => call("GET", `/v1/sessions/${session.id}/leaderboard`));
    expect(statements).toBe(0);
  });

  it("serves a correct board from SQL when the cache is unreachable", async () => {
    const { session, users } = await sessionWithBidders(5);
    const brokenCache = {
      ...env,
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "x",
    };
    const request = new Request(`http://bidding.test/v1/sessions/${session.id}/leaderboard`);
    const ctx = createExecutionContext();
    const res = await worker.fetch(request, brokenCache, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    const board = (await readResponse(`GET ${request.url}`, res, LeaderboardSchema)).body;
    expect(board.entries.map((e) => e.username)).toEqual([...users].reverse().map((u) => u.username));
  });
});

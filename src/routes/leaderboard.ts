import { createRoute, z } from "@hono/zod-openapi";
import type { SessionStatus } from "../bidding/rules";
import { createRouter, problems } from "../http/app";
import { LeaderboardSchema } from "../http/contract";
import { ApiError } from "../http/problem";
import { SessionIdParam } from "../http/schemas";
import { expectOk, sessionObject } from "../objects/session-client";
import { withMissingUsernames } from "../users/leaderboard";

const Limit = z
  .string()
  .regex(/^[0-9]{1,3}$/, "must be an integer from 1 to 100")
  .transform(Number)
  .pipe(z.number().min(1, "must be at least 1").max(100, "must be at most 100"))
  .optional()
  .openapi({ param: { name: "limit", in: "query" }, type: "integer", minimum: 1, maximum: 100, default: 50 });

const leaderboard = createRoute({
  method: "get",
  path: "/{id}/leaderboard",
  tags: ["leaderboard"],
  summary: "Top bidders with usernames",
  description:
    "From the session object's memory; usernames from one batched lookup (cache MGET, then one SQL query for the misses).",
  request: { params: z.object({ id: SessionIdParam }), query: z.object({ limit: Limit }) },
  responses: {
    200: { description: "The leaderboard", content: { "application/json": { schema: LeaderboardSchema } } },
    ...problems(400, 404),
  },
});

/** Short while bids can still move the board, longer once it is final. */
const cacheControl: Record<SessionStatus, string> = {
  scheduled: "public, max-age=5",
  active: "public, max-age=1",
  ended: "public, max-age=300",
};

const live = createRoute({
  method: "get",
  path: "/{id}/live",
  tags: ["leaderboard"],
  summary: "WebSocket: leaderboard snapshots as bids change",
  description:
    'Sends `{"type":"leaderboard",...}` on connect and whenever the top changes (at most one message per 250 ms per socket), ' +
    'then `{"type":"status","status":"ended"}` when the session ends and closes with 1000. Messages from clients are ignored; ' +
    'a text "ping" is answered "pong".',
  request: { params: z.object({ id: SessionIdParam }), query: z.object({ limit: Limit }) },
  responses: { 101: { description: "Switching to WebSocket" }, ...problems(400, 404, 426, 503) },
});

export const leaderboardRouter = createRouter()
  .openapi(live, async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("upgrade_required", "Connect with a WebSocket upgrade.", { Upgrade: "websocket" });
    }
    const { id } = c.req.valid("param");
    const limit = c.req.valid("query").limit ?? 50;
    const url = new URL(c.req.url);
    url.search = `?limit=${limit}`;
    return sessionObject(c.env, id).fetch(new Request(url, c.req.raw));
  })
  .openapi(leaderboard, async (c) => {
    const { id } = c.req.valid("param");
    const limit = c.req.valid("query").limit ?? 50;
    const named = await expectOk(sessionObject(c.env, id).leaderboard(limit));
    const board = { ...named, entries: await withMissingUsernames(c.env, named.entries) };
    return c.json(board, 200, { "Cache-Control": cacheControl[board.status] });
  });

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LeaderboardSchema } from "../api/contract";
import { ApiError } from "../api/problem";
import { limitParam, SessionIdParam } from "../api/schemas";
import { BIDDER_HEADER } from "../api/session-protocol";
import type { SessionStatus } from "../bidding/rules";
import { type AppEnv, createRouter, problems } from "../http/app";
import { authenticate } from "../http/auth";
import { expectOk, sessionObject } from "../session-client/session-client";
import { withMissingUsernames } from "../users/leaderboard";

const Limit = limitParam(100, 50);

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
    'a text "ping" is answered "pong". Offer the subprotocols `bearer` and `bearer.<JWT>` to authenticate (answered with `bearer`; ' +
    "a bad token is a 401 before the upgrade): the socket then also gets, for its user only, " +
    '`{"type":"outbid","amount","rank"}` when a batch of bids pushes them out of the winning set, and at the end, after `result`, ' +
    '`{"type":"won","amount","rank"}` or `{"type":"lost"}`.',
  request: { params: z.object({ id: SessionIdParam }), query: z.object({ limit: Limit }) },
  responses: { 101: { description: "Switching to WebSocket" }, ...problems(400, 401, 404, 426, 503) },
});

/**
 * The user a `/live` upgrade authenticates as: the client offers the
 * subprotocols `bearer` and `bearer.<JWT>` (browsers cannot set headers on a
 * WebSocket), and the token is verified here, before the upgrade. Undefined
 * when no `bearer` subprotocol is offered; 401 for a bad or missing token.
 */
async function liveBidder(c: Context<AppEnv>): Promise<number | undefined> {
  const offered = (c.req.header("Sec-WebSocket-Protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p === "bearer" || p.startsWith("bearer."));
  if (offered.length === 0) return undefined;
  const tokens = offered.filter((p) => p.startsWith("bearer.")).map((p) => p.slice("bearer.".length));
  const [token] = tokens;
  if (!offered.includes("bearer") || tokens.length !== 1 || !token || !/^[A-Za-z0-9_.-]+$/.test(token)) {
    throw new ApiError("unauthorized", "Offer the subprotocols `bearer` and `bearer.<JWT>`, one token.");
  }
  return (await authenticate(c, token, ["user", "admin"])).userId;
}

export const leaderboardRouter = createRouter()
  .openapi(live, async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("upgrade_required", "Connect with a WebSocket upgrade.", { Upgrade: "websocket" });
    }
    const { id } = c.req.valid("param");
    const limit = c.req.valid("query").limit ?? 50;
    const bidder = await liveBidder(c);
    const url = new URL(c.req.url);
    url.search = `?limit=${limit}`;
    const forwarded = new Request(url, c.req.raw);
    // Only this Worker says who a socket belongs to, never the client.
    forwarded.headers.delete(BIDDER_HEADER);
    if (bidder !== undefined) forwarded.headers.set(BIDDER_HEADER, String(bidder));
    return sessionObject(c.env, id).fetch(forwarded);
  })
  .openapi(leaderboard, async (c) => {
    const { id } = c.req.valid("param");
    const limit = c.req.valid("query").limit ?? 50;
    const named = await expectOk(sessionObject(c.env, id).leaderboard(limit));
    const board = { ...named, entries: await withMissingUsernames(c.env, named.entries) };
    return c.json(board, 200, { "Cache-Control": cacheControl[board.status] });
  });

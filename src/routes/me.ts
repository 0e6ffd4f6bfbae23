import { createRoute, z } from "@hono/zod-openapi";
import { MeSchema, MyBidsSchema } from "../api/contract";
import { ApiError } from "../api/problem";
import { limitParam } from "../api/schemas";
import { withDatabase } from "../db/client";
import { unflushedFirstBids } from "../discovery/first-bids";
import { withLiveStandings } from "../discovery/live-standings";
import { listMyBids, type MyBidsKey } from "../discovery/my-bids";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { requireRole } from "../http/auth";
import { CursorParam, issueCursor, readCursor, TimeAndIdKey } from "../http/cursor";
import { identitiesOf } from "../users/identities";
import { findUser } from "../users/store";

const Limit = limitParam(100, 50);

const me = createRoute({
  method: "get",
  path: "/",
  tags: ["users"],
  summary: "The signed-in caller: user id, username and linked identities",
  description:
    "Lets an app learn its user's id and name after sign-in. Any valid token, dev tokens included; a provider " +
    "token's first request creates its user. 404 `user_not_found` when a dev token names a user id nobody has.",
  security: bearerSecurity,
  middleware: [requireRole("user", "admin")] as const,
  responses: {
    200: { description: "The caller's user", content: { "application/json": { schema: MeSchema } } },
    ...problems(401, 404, 503),
  },
});

const myBids = createRoute({
  method: "get",
  path: "/bids",
  tags: ["bids"],
  summary: "The caller's live bids across sessions, most recently placed first",
  description:
    "One SQL statement a page, keyset-paged with an opaque cursor that only its own user can use (any other: 400). " +
    "Which sessions, and their order, come from PostgreSQL (as of each session's last flush, 5 s); for every " +
    "session whose results are not fixed yet, `status`, `amount`, `rank` and `winning` come from the session's " +
    "object, so a raise shows the instant after its 201, and so does a first bid in a session (at the front of the " +
    "first page until the session's next flush puts it in its place). `rank` counts the live bids above yours (a higher amount, or the same amount placed earlier); " +
    "`winning` is, once the results are fixed, whether you are among the winners, and before, whether your rank " +
    "is within the session's units at or above its reserve. A bid you (or your maximum) raise while you page " +
    "moves to the front on a first page after the next flush.",
  security: bearerSecurity,
  middleware: [requireRole("user")] as const,
  request: { query: z.object({ limit: Limit, cursor: CursorParam }) },
  responses: {
    200: { description: "A page of your bids", content: { "application/json": { schema: MyBidsSchema } } },
    ...problems(400, 401, 403, 503),
  },
});

const privateAnswer = { "Cache-Control": "private, no-store" };

export const meRouter = createRouter()
  .openapi(me, async (c) => {
    const { userId } = c.get("caller");
    const found = await withDatabase(c.env, async (db) => {
      const user = await findUser(db, userId);
      return user && { user, identities: await identitiesOf(db, userId) };
    });
    if (!found) throw new ApiError("user_not_found", `The token names user ${userId}, who does not exist.`);
    const { user, identities } = found;
    const body = {
      id: user.id,
      username: user.username,
      createdAt: user.createdAt.toISOString(),
      identities,
    };
    return c.json(body, 200, privateAnswer);
  })
  .openapi(myBids, async (c) => {
    const { limit = 50, cursor } = c.req.valid("query");
    const { userId } = c.get("caller");
    const name = `me:${userId}`;
    const after: MyBidsKey | undefined =
      cursor === undefined ? undefined : await readCursor(c.env, name, cursor, TimeAndIdKey);
    const now = Date.now();
    const { page, firstBids } = await withDatabase(c.env, async (db) => {
      // The first page leads with first bids PostgreSQL has not seen yet (one slot is always left for it).
      const firstBids = after ? [] : (await unflushedFirstBids(c.env, db, userId, now)).slice(0, limit - 1);
      return { page: await listMyBids(db, userId, now, limit - firstBids.length, after), firstBids };
    });
    const nextCursor = page.more && page.last ? await issueCursor(c.env, name, page.last) : null;
    const live = await withLiveStandings(c.env, userId, page.bids);
    const bids = [...firstBids, ...live].map(({ closed: _closed, ...entry }) => entry);
    return c.json({ bids, nextCursor }, 200, privateAnswer);
  });

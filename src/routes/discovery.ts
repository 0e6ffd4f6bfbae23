import { createRoute, z } from "@hono/zod-openapi";
import { SessionListSchema } from "../api/contract";
import { limitParam } from "../api/schemas";
import { withDatabase } from "../db/client";
import { type Listing, type ListKey, listSessions } from "../discovery/session-list";
import { createRouter, problems } from "../http/app";
import { callerRoleIfAny } from "../http/auth";
import { CursorParam, issueCursor, readCursor, TimeAndIdKey } from "../http/cursor";
import { forCaller } from "./sessions";

const Status = z
  .enum(["scheduled", "active", "ended"])
  .optional()
  .openapi({ param: { name: "status", in: "query" } });

const Limit = limitParam(100, 20);

const listSessionsRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["sessions"],
  summary: "Find sessions: active ending soonest, scheduled starting soonest, ended most recent first",
  description:
    "Without `status`, every session, newest created first. Keyset pages on indexes (one SQL statement a page); " +
    "`cursor` is opaque and signed: an altered one, or one of another `status`, is 400. A cursor stays valid " +
    "while sessions are created: no session appears twice and none is skipped, except one whose status or end " +
    "changes between two pages. Status comes from the times PostgreSQL holds: a soft-close extension or a PATCH " +
    "of the end reaches it with the session's next flush (within the flush interval, 5 s), so for that long a list " +
    "may show a just-extended session as ended, or in its old place. `bidders` and `highestBid` are likewise as of " +
    "the last flush; `GET /v1/sessions/{id}` is live. With an admin token, also `reservePrice` and `hardEndsAt`.",
  request: { query: z.object({ status: Status, limit: Limit, cursor: CursorParam }) },
  responses: {
    200: {
      description: "A page of sessions",
      content: { "application/json": { schema: SessionListSchema } },
    },
    ...problems(400, 401, 503),
  },
});

export const discoveryRouter = createRouter().openapi(listSessionsRoute, async (c) => {
  const { status, limit = 20, cursor } = c.req.valid("query");
  const role = await callerRoleIfAny(c);
  const listing: Listing = status ?? "all";
  const name = `sessions:${listing}`;
  const after: ListKey | undefined =
    cursor === undefined ? undefined : await readCursor(c.env, name, cursor, TimeAndIdKey);
  const now = Date.now();
  const page = await withDatabase(c.env, (db) => listSessions(db, listing, now, limit, after));
  const nextCursor = page.more && page.last ? await issueCursor(c.env, name, page.last) : null;
  return c.json({ sessions: page.sessions.map((s) => forCaller(s, role)), nextCursor }, 200);
});

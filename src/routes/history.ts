import { createRoute, z } from "@hono/zod-openapi";
import { BidHistorySchema } from "../api/contract";
import { limitParam, SessionIdParam } from "../api/schemas";
import { toIso } from "../api/time";
import { withDatabase } from "../db/client";
import { exportHistoryCsv } from "../history/csv-export";
import { Pseudonyms } from "../history/pseudonym";
import { HistoryReader } from "../history/reader";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { callerRoleIfAny, requireRole } from "../http/auth";
import { withMissingUsernames } from "../users/leaderboard";

const params = z.object({ id: SessionIdParam });

const After = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, "must be a seq: an integer from 0")
  .transform(Number)
  .refine(Number.isSafeInteger, `must be at most ${Number.MAX_SAFE_INTEGER}`)
  .optional()
  .openapi({
    param: { name: "after", in: "query" },
    type: "integer",
    minimum: 0,
    default: 0,
    description: "Bids with a higher seq: the `nextAfter` of the previous page, or the last seq you have",
  });

const Limit = limitParam(500, 100);

const history = createRoute({
  method: "get",
  path: "/{id}/bids",
  tags: ["history"],
  summary: "Every accepted bid, in seq order",
  description:
    "Complete at every instant: bids not yet flushed come from the session's object, earlier ones from PostgreSQL " +
    "(below the object's flush watermark), joined so no seq is missing or doubled. `bidder` is a pseudonym " +
    "(`Bidder` and an 8-character tag of an HMAC of the session and user): the same for a bidder throughout a session, " +
    "unrelated across sessions. `hash` is the bid's link in the bid log (API.md v1.2), stored when the bid was " +
    "accepted and never recomputed. With an admin token each bid also carries `userId` and `username`. " +
    "While PostgreSQL is down, pages the object still holds (every bid not yet flushed, and flushed ones for about " +
    "two minutes) are served as usual; a page reaching further back is 503 `database_unavailable` with `Retry-After`.",
  request: { params, query: z.object({ after: After, limit: Limit }) },
  responses: {
    200: {
      description: "A page of the history",
      content: { "application/json": { schema: BidHistorySchema } },
    },
    ...problems(400, 401, 404, 503),
  },
});

const historyCsv = createRoute({
  method: "get",
  path: "/{id}/bids.csv",
  tags: ["history"],
  summary: "The whole history as CSV (admin)",
  description:
    "RFC 4180 (CRLF, a header record, usernames always quoted): `seq,user_id,username,amount,placed_at,auto,hash`, every " +
    "bid up to the one the session had reached when the export started. Streamed 2,000 rows at a time as the " +
    "client reads, so memory stays bounded whatever the session's size; an error after the first byte cuts the " +
    "download short (a complete file ends with the last seq's CRLF).",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { params },
  responses: {
    200: {
      description: "The CSV file, as an attachment",
      content: { "text/csv": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...problems(400, 401, 403, 404, 503),
  },
});

export const historyRouter = createRouter()
  .openapi(history, async (c) => {
    const { id } = c.req.valid("param");
    const { after = 0, limit = 100 } = c.req.valid("query");
    const admin = (await callerRoleIfAny(c)) === "admin";
    const reader = new HistoryReader(c.env, id, (work) => withDatabase(c.env, work));
    const page = await reader.page(after, limit);
    const pseudonyms = new Pseudonyms(c.env.JWT_SECRET);
    const rows = admin ? await withMissingUsernames(c.env, page.bids) : page.bids;
    const bids = rows.map((row) => ({
      seq: row.seq,
      // Fixed when the bid was accepted; rows stored before the bid log get it computed, as they always did.
      bidder: row.bidder ?? pseudonyms.of(id, row.userId),
      amount: row.amount,
      placedAt: toIso(row.placedAt),
      auto: row.auto,
      hash: row.hash,
      ...(admin ? { userId: row.userId, username: row.username } : {}),
    }));
    return c.json({ bids, nextAfter: page.nextAfter }, 200, { "Cache-Control": "no-store" });
  })
  .openapi(historyCsv, async (c) => {
    const { id } = c.req.valid("param");
    const body = await exportHistoryCsv(c.env, id);
    return new Response(body, {
      headers: {
        "Content-Type": "text/csv; charset=utf-8; header=present",
        "Content-Disposition": `attachment; filename="session-${id}-bids.csv"`,
        "Cache-Control": "no-store",
      },
    });
  });

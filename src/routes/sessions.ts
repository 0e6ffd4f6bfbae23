import { createRoute, z } from "@hono/zod-openapi";
import { ResultsSchema, SessionSchema, SessionStatsSchema } from "../api/contract";
import { Currency, Instant, Money, SessionIdParam } from "../api/schemas";
import type { SessionView } from "../api/session-protocol";
import { withAuctionDefaults } from "../bidding/rules";
import { withDatabase } from "../db/client";
import { biddingSessions } from "../db/schema";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { callerRoleIfAny, requireRole } from "../http/auth";
import { expectOk, sessionObject } from "../session-client/session-client";
import { withMissingUsernames } from "../users/leaderboard";

const Title = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
  .openapi({ example: "Charity auction: lot 7" });

const sessionJson = { "application/json": { schema: SessionSchema } };
const params = z.object({ id: SessionIdParam });

const Seconds = z.number().int().min(1).max(3600);
const SoftCloseRule = z.strictObject({ windowSeconds: Seconds, extendSeconds: Seconds }).openapi({
  description:
    "An accepted bid less than windowSeconds before the end moves it to extendSeconds after the bid",
});

const NewSession = z
  .strictObject({
    title: Title,
    startsAt: Instant,
    endsAt: Instant,
    minBid: Money,
    minIncrement: Money,
    units: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: "How many top bidders win (default 1)" }),
    reservePrice: Money.optional().openapi({
      description: "The lowest winning amount, at least minBid; admins only",
    }),
    softClose: SoftCloseRule.optional(),
    hardEndsAt: Instant.optional().openapi({
      description: "No extension goes past it; after endsAt, default endsAt + 24 h",
    }),
    currency: Currency.optional().openapi({
      description: "ISO 4217 code of the amounts (default USD); they stay integers of its minor units",
    }),
  })
  .refine((s) => s.endsAt > s.startsAt, { message: "must be after startsAt", path: ["endsAt"] })
  .refine((s) => s.reservePrice === undefined || s.reservePrice >= s.minBid, {
    message: "must be at least minBid",
    path: ["reservePrice"],
  })
  .refine((s) => s.hardEndsAt === undefined || s.hardEndsAt > s.endsAt, {
    message: "must be after endsAt",
    path: ["hardEndsAt"],
  });

const SessionChange = z
  .strictObject({
    title: Title.optional(),
    endsAt: Instant.optional(),
    softClose: SoftCloseRule.nullable()
      .optional()
      .openapi({ description: "Only before the start; null removes it" }),
    reservePrice: Money.nullable()
      .optional()
      .openapi({ description: "Only before the start; null removes it" }),
  })
  .refine(
    (c) => Object.values(c).some((value) => value !== undefined),
    "send at least one of title, endsAt, softClose, reservePrice",
  );

/** Everyone but admins sees the session without its reserve and hard end. */
export function forCaller(view: SessionView, role: string | undefined): SessionView {
  if (role === "admin") return view;
  const { reservePrice: _reserve, hardEndsAt: _hardEnd, ...open } = view;
  return open;
}

const createSession = createRoute({
  method: "post",
  path: "/",
  tags: ["sessions"],
  summary: "Create a bidding session",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { body: { required: true, content: { "application/json": { schema: NewSession } } } },
  responses: { 201: { description: "Created", content: sessionJson }, ...problems(400, 401, 403) },
});

const getSession = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["sessions"],
  summary: "Read a session",
  request: { params },
  description: "With an admin token, also `reservePrice` and `hardEndsAt`.",
  responses: { 200: { description: "The session", content: sessionJson }, ...problems(400, 401, 404) },
});

const updateSession = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["sessions"],
  summary: "Rename, end early or extend a session; applies to the very next bid",
  description:
    "An ended session is final: changing its end is 409 `session_ended`. `softClose` and `reservePrice` change only before the start (409 `session_already_started`).",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: {
    params,
    body: { required: true, content: { "application/json": { schema: SessionChange } } },
  },
  responses: {
    200: { description: "The updated session", content: sessionJson },
    ...problems(400, 401, 403, 404, 409),
  },
});

const sessionResults = createRoute({
  method: "get",
  path: "/{id}/results",
  tags: ["sessions"],
  summary: "The winners, fixed once when the session ends",
  description:
    "The top `units` live bids at or above the reserve, in board order; usernames by one batched lookup. 409 `session_not_ended` before the end.",
  request: { params },
  responses: {
    200: { description: "The results", content: { "application/json": { schema: ResultsSchema } } },
    ...problems(400, 404, 409),
  },
});

const sessionStats = createRoute({
  method: "get",
  path: "/{id}/stats",
  tags: ["operations"],
  summary: "The session object's buffer and flush figures",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { params },
  responses: {
    200: { description: "Figures", content: { "application/json": { schema: SessionStatsSchema } } },
    ...problems(400, 401, 403, 404),
  },
});

export const sessionsRouter = createRouter()
  .openapi(createSession, async (c) => {
    const body = c.req.valid("json");
    const session = withAuctionDefaults({
      id: crypto.randomUUID(),
      title: body.title,
      startsAt: body.startsAt.getTime(),
      endsAt: body.endsAt.getTime(),
      minBid: body.minBid,
      minIncrement: body.minIncrement,
      createdAt: Date.now(),
      units: body.units,
      reservePrice: body.reservePrice,
      softClose: body.softClose,
      hardEndsAt: body.hardEndsAt?.getTime(),
      currency: body.currency,
    });
    // PostgreSQL first: bids reference the row, and an object that misses the
    // hand-over below finds its session there.
    const [row] = await withDatabase(c.env, (db) =>
      db
        .insert(biddingSessions)
        .values({
          id: session.id,
          title: session.title,
          startsAt: body.startsAt,
          endsAt: body.endsAt,
          minBid: session.minBid,
          minIncrement: session.minIncrement,
          units: session.units,
          reservePrice: session.reservePrice,
          softCloseWindowSeconds: session.softClose?.windowSeconds ?? null,
          softCloseExtendSeconds: session.softClose?.extendSeconds ?? null,
          hardEndsAt: new Date(session.hardEndsAt),
          scheduledEndsAt: body.endsAt,
          currency: session.currency,
        })
        .returning({ createdAt: biddingSessions.createdAt }),
    );
    const created = { ...session, createdAt: (row?.createdAt ?? new Date()).getTime() };
    const view = await sessionObject(c.env, session.id).initialize(created);
    return c.json(view, 201, { Location: `/v1/sessions/${session.id}` });
  })
  .openapi(getSession, async (c) => {
    const { id } = c.req.valid("param");
    const role = await callerRoleIfAny(c);
    return c.json(forCaller(await expectOk(sessionObject(c.env, id).getSession()), role), 200);
  })
  .openapi(updateSession, async (c) => {
    const { id } = c.req.valid("param");
    const { endsAt, ...rest } = c.req.valid("json");
    const change = { ...rest, endsAt: endsAt?.getTime() };
    return c.json(await expectOk(sessionObject(c.env, id).updateSession(change)), 200);
  })
  .openapi(sessionResults, async (c) => {
    const { id } = c.req.valid("param");
    const results = await expectOk(sessionObject(c.env, id).results());
    const winners = await withMissingUsernames(c.env, results.winners);
    return c.json({ ...results, winners }, 200, { "Cache-Control": "public, max-age=300" });
  })
  .openapi(sessionStats, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await expectOk(sessionObject(c.env, id).stats()), 200, { "Cache-Control": "no-store" });
  });

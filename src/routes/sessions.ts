import { createRoute, z } from "@hono/zod-openapi";
import type { SessionParams } from "../bidding/rules";
import { withDatabase } from "../db/client";
import { biddingSessions } from "../db/schema";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { requireRole } from "../http/auth";
import { SessionSchema, SessionStatsSchema } from "../http/contract";
import { Instant, Money, SessionIdParam } from "../http/schemas";
import { expectOk, readSession, sessionObject } from "../objects/session-client";

const Title = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
  .openapi({ example: "Charity auction: lot 7" });

const sessionJson = { "application/json": { schema: SessionSchema } };
const params = z.object({ id: SessionIdParam });

const NewSession = z
  .strictObject({
    title: Title,
    startsAt: Instant,
    endsAt: Instant,
    minBid: Money,
    minIncrement: Money,
  })
  .refine((s) => s.endsAt > s.startsAt, { message: "must be after startsAt", path: ["endsAt"] });

const SessionChange = z
  .strictObject({ title: Title.optional(), endsAt: Instant.optional() })
  .refine((c) => c.title !== undefined || c.endsAt !== undefined, "send title or endsAt");

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
  responses: { 200: { description: "The session", content: sessionJson }, ...problems(400, 404) },
});

const updateSession = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["sessions"],
  summary: "Rename, end early or extend a session; applies to the very next bid",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: {
    params,
    body: { required: true, content: { "application/json": { schema: SessionChange } } },
  },
  responses: {
    200: { description: "The updated session", content: sessionJson },
    ...problems(400, 401, 403, 404),
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
    const id = crypto.randomUUID();
    // PostgreSQL first: bids reference the row, and an object that misses the
    // hand-over below finds its session there.
    const [row] = await withDatabase(c.env, (db) =>
      db
        .insert(biddingSessions)
        .values({ id, ...body })
        .returning({ createdAt: biddingSessions.createdAt }),
    );
    const session: SessionParams = {
      id,
      title: body.title,
      startsAt: body.startsAt.getTime(),
      endsAt: body.endsAt.getTime(),
      minBid: body.minBid,
      minIncrement: body.minIncrement,
      createdAt: (row?.createdAt ?? new Date()).getTime(),
    };
    const view = await sessionObject(c.env, id).initialize(session);
    return c.json(view, 201, { Location: `/v1/sessions/${id}` });
  })
  .openapi(getSession, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await expectOk(readSession(c.env, c.executionCtx, id)), 200);
  })
  .openapi(updateSession, async (c) => {
    const { id } = c.req.valid("param");
    const { title, endsAt } = c.req.valid("json");
    const change = { title, endsAt: endsAt?.getTime() };
    return c.json(await expectOk(sessionObject(c.env, id).updateSession(change)), 200);
  })
  .openapi(sessionStats, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await expectOk(sessionObject(c.env, id).stats()), 200, { "Cache-Control": "no-store" });
  });

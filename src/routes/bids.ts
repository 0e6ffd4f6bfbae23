import { createRoute, z } from "@hono/zod-openapi";
import { BidReceiptSchema, MyBidSchema } from "../api/contract";
import { Money, SessionIdParam } from "../api/schemas";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { requireRole } from "../http/auth";
import { expectOk, placeBidInSession, sessionObject } from "../session-client/session-client";

const params = z.object({ id: SessionIdParam });

const BidBody = z
  .strictObject({
    amount: Money.optional().openapi({ description: "A plain bid" }),
    maxAmount: Money.optional().openapi({
      description:
        "Instead of amount (sessions of one unit): the most the system may bid for you, kept private",
    }),
  })
  .superRefine((body, ctx) => {
    if (body.amount === undefined && body.maxAmount === undefined) {
      ctx.addIssue({ code: "custom", path: ["amount"], message: "required (or maxAmount)" });
    }
    if (body.amount !== undefined && body.maxAmount !== undefined) {
      ctx.addIssue({ code: "custom", path: ["maxAmount"], message: "send amount or maxAmount, not both" });
    }
  });

const placeBidRoute = createRoute({
  method: "post",
  path: "/{id}/bids",
  tags: ["bids"],
  summary: "Place or raise the caller's bid",
  description:
    "A 201 means the bid is durably stored by the session's object; it reaches PostgreSQL in the next flush. " +
    "With `maxAmount` the object bids for you up to it (eBay's proxy rules); an accepted bid near the end extends a soft close.",
  security: bearerSecurity,
  middleware: [requireRole("user")] as const,
  request: {
    params,
    headers: z.object({
      "idempotency-key": z
        .string()
        .regex(/^[\x20-\x7e]{1,128}$/, "must be 1–128 printable ASCII characters")
        .optional()
        .openapi({ description: "Makes retries safe: the same key and body replay the first answer" }),
    }),
    body: {
      required: true,
      content: { "application/json": { schema: BidBody } },
    },
  },
  responses: {
    201: {
      description: "Accepted and stored; `Idempotent-Replayed: true` on a replay",
      content: { "application/json": { schema: BidReceiptSchema } },
    },
    ...problems(400, 401, 403, 404, 409, 422, 429, 503),
  },
});

const myBid = createRoute({
  method: "get",
  path: "/{id}/bids/me",
  tags: ["bids"],
  summary: "The caller's live bid",
  security: bearerSecurity,
  middleware: [requireRole("user")] as const,
  request: { params },
  responses: {
    200: { description: "The live bid", content: { "application/json": { schema: MyBidSchema } } },
    ...problems(400, 401, 403, 404),
  },
});

export const bidsRouter = createRouter()
  .openapi(placeBidRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { amount, maxAmount } = c.req.valid("json");
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const { userId } = c.get("caller");
    const placed = await expectOk(
      placeBidInSession(c.env, c.executionCtx, id, { userId, amount, maxAmount, idempotencyKey }),
    );
    const headers: Record<string, string> = placed.replayed ? { "Idempotent-Replayed": "true" } : {};
    return c.json(placed.receipt, 201, headers);
  })
  .openapi(myBid, async (c) => {
    const { id } = c.req.valid("param");
    const { userId } = c.get("caller");
    return c.json(await expectOk(sessionObject(c.env, id).myBid(userId)), 200);
  });

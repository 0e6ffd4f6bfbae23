import { createRoute, z } from "@hono/zod-openapi";
import { CreatedWebhookSchema, NewWebhookSchema, WebhookListSchema } from "../api/contract";
import { ApiError } from "../api/problem";
import { SessionIdParam } from "../api/schemas";
import { withDatabase } from "../db/client";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { requireRole } from "../http/auth";
import { newWebhookSecret } from "../webhooks/signature";
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  type Subscription,
} from "../webhooks/subscriptions";
import { checkWebhookUrl, loopbackAllowed } from "../webhooks/url-policy";

const iso = (date: Date | null) => (date === null ? null : date.toISOString());
const knownEvents = z.array(z.enum(["session.extended", "session.ended", "bid.outbid"]));

/** An endpoint as admins see it: never its secret. */
const toJson = (s: Subscription) => ({
  id: s.id,
  url: s.url,
  events: knownEvents.parse(s.events),
  createdAt: s.createdAt.toISOString(),
  delivery: {
    lastAttemptAt: iso(s.lastAttemptAt),
    lastSuccessAt: iso(s.lastSuccessAt),
    lastError: s.lastError,
    delivered: s.deliveredCount,
    failedAttempts: s.failedAttempts,
    deadLettered: s.deadLettered,
  },
});

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["webhooks"],
  summary: "Subscribe an endpoint to events",
  description:
    "Events: `session.extended`, `session.ended` (with the results), `bid.outbid` (`sessionId`, `userId`, `amount`). " +
    "Delivered at least once through a queue, retried with backoff, signed as Standard Webhooks says " +
    "(`webhook-id`, stable across retries; `webhook-timestamp`; `webhook-signature: v1,<base64 HMAC-SHA256>`). " +
    "The secret is shown in this answer only. Only `https://` URLs (http://127.0.0.1 and localhost with " +
    "WEBHOOK_ALLOW_LOOPBACK); private, link-local and metadata addresses are refused here and on every redirect " +
    "(422 `webhook_url_refused`); names are not resolved.",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { body: { required: true, content: { "application/json": { schema: NewWebhookSchema } } } },
  responses: {
    201: { description: "Subscribed", content: { "application/json": { schema: CreatedWebhookSchema } } },
    ...problems(400, 401, 403, 422),
  },
});

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["webhooks"],
  summary: "Every endpoint with its delivery status (no secrets)",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  responses: {
    200: { description: "The endpoints", content: { "application/json": { schema: WebhookListSchema } } },
    ...problems(401, 403),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["webhooks"],
  summary: "Unsubscribe an endpoint; deliveries still queued for it are dropped",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { params: z.object({ id: SessionIdParam }) },
  responses: { 204: { description: "Deleted" }, ...problems(400, 401, 403, 404) },
});

export const webhooksRouter = createRouter()
  .openapi(create, async (c) => {
    const { url, events } = c.req.valid("json");
    const verdict = checkWebhookUrl(url, loopbackAllowed(c.env));
    if (!verdict.ok) throw new ApiError("webhook_url_refused", `url: ${verdict.reason}.`);
    const secret = newWebhookSecret();
    const [row] = await withDatabase(c.env, (db) => createSubscription(db, { url, events, secret }));
    if (!row) throw new Error("INSERT … RETURNING gave no row");
    return c.json({ id: row.id, url: row.url, events, secret }, 201);
  })
  .openapi(list, async (c) => {
    const rows = await withDatabase(c.env, listSubscriptions);
    return c.json({ webhooks: rows.map(toJson) }, 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const deleted = await withDatabase(c.env, (db) => deleteSubscription(db, id));
    if (!deleted) throw new ApiError("not_found", `No webhook has id ${id}.`);
    return c.body(null, 204);
  });

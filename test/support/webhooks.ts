import { z } from "@hono/zod-openapi";
import { inject } from "vitest";
import { CreatedWebhookSchema, WebhookListSchema } from "../../src/api/contract";
import { adminToken, call, uniqueName } from "./api";

export { hasValidSignature } from "../../tools/webhook-signature";

const ReceivedSchema = z.object({
  requests: z.array(
    z.object({
      at: z.number(),
      headers: z.record(z.string(), z.string()),
      body: z.string(),
      status: z.number(),
    }),
  ),
});
export type Received = z.infer<typeof ReceivedSchema>["requests"][number];

/** The body of a delivery, as Standard Webhooks shapes it. */
export const DeliveredEventSchema = z.object({
  type: z.enum(["session.extended", "session.ended", "bid.outbid"]),
  timestamp: z.string(),
  data: z.object({ sessionId: z.string() }).passthrough(),
});

const control = (what: string, path: string) =>
  `${inject("webhookReceiverUrl")}/control/${what}?path=${encodeURIComponent(path)}`;

/** A receiver path only the calling test uses. */
export const receiverPath = () => `/hooks/${uniqueName()}`;
export const receiverUrl = (path: string) => `${inject("webhookReceiverUrl")}${path}`;

export async function planReceiver(
  path: string,
  plan: { failFirst?: number; status?: number; redirectTo?: string; hangMs?: number },
): Promise<void> {
  const res = await fetch(control("plan", path), { method: "POST", body: JSON.stringify(plan) });
  if (!res.ok) throw new Error(`receiver plan: ${res.status}`);
}

export async function received(path: string): Promise<Received[]> {
  const res = await fetch(control("requests", path));
  return ReceivedSchema.parse(await res.json()).requests;
}

/** Polls the receiver until `predicate` holds of what `path` got. */
export async function receivedUntil(
  path: string,
  predicate: (requests: Received[]) => boolean,
  timeoutMs = 15_000,
): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const requests = await received(path);
    if (predicate(requests)) return requests;
    if (Date.now() > deadline)
      throw new Error(`receiver ${path}: condition not met; got ${JSON.stringify(requests)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const eventOf = (request: Received) => DeliveredEventSchema.parse(JSON.parse(request.body));
export const forSession = (sessionId: string) => (request: Received) =>
  eventOf(request).data.sessionId === sessionId;

export async function subscribe(path: string, events: string[]) {
  const res = await call("POST", "/v1/webhooks", {
    token: await adminToken(),
    body: { url: receiverUrl(path), events },
    schema: CreatedWebhookSchema,
  });
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${res.text}`);
  return res.body;
}

export async function unsubscribe(id: string): Promise<void> {
  const res = await call("DELETE", `/v1/webhooks/${id}`, { token: await adminToken() });
  if (res.status !== 204) throw new Error(`unsubscribe: ${res.status}`);
}

export async function webhookStatus(id: string) {
  const res = await call("GET", "/v1/webhooks", { token: await adminToken(), schema: WebhookListSchema });
  const found = res.body.webhooks.find((w) => w.id === id);
  if (!found) throw new Error(`no webhook ${id}`);
  return found;
}

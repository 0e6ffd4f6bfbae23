import { positiveNumber } from "../config";
import { withDatabase } from "../db/client";
import { deliver } from "./delivery";
import type { WebhookMessage } from "./events";
import {
  type AttemptTally,
  findSubscriptions,
  recordAttempts,
  recordDeadLettered,
  subscribersOf,
} from "./subscriptions";
import { loopbackAllowed } from "./url-policy";

/** The queue wrangler.toml names as the webhook queue's dead-letter queue. */
export const DEAD_LETTER_QUEUE = "bidding-webhooks-dlq";
const QUEUE_BATCH_MESSAGES = 100;
/**
 * POSTs in flight at once: a Worker invocation opens at most six connections
 * and queues the rest, a queued fetch would spend its timeout waiting, and
 * the fan-out running beside the deliveries holds one for PostgreSQL.
 */
const DELIVERIES_IN_FLIGHT = 5;
const MAX_RETRY_DELAY_SECONDS = 3600;

/** Retries double from the base per attempt: 10 s, 20 s, 40 s … up to an hour. */
export function retryDelaySeconds(attempts: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_SECONDS);
}

function isWebhookMessage(body: unknown): body is WebhookMessage {
  return (
    typeof body === "object" &&
    body !== null &&
    "kind" in body &&
    (body.kind === "event" || body.kind === "delivery") &&
    "event" in body
  );
}

/**
 * The Worker's queue() handler. An event message is fanned out into one
 * delivery message per subscription that wants it (sendBatch, 100 at a time)
 * and acknowledged; a delivery message is signed and POSTed, acknowledged on
 * 2xx and retried with backoff otherwise. The same event keeps its id, hence
 * its `webhook-id`, through every retry. Messages that reach the dead-letter
 * queue are only counted in their endpoint's status.
 */
export async function handleWebhookQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const base = positiveNumber(env.WEBHOOK_RETRY_BASE_SECONDS, 10);
  const settings = {
    allowLoopback: loopbackAllowed(env),
    timeoutMs: positiveNumber(env.WEBHOOK_TIMEOUT_MS, 10_000),
  };
  const retry = (message: Message<unknown>) =>
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts, base) });

  if (batch.queue === DEAD_LETTER_QUEUE) {
    const dead = new Map<string, number>();
    for (const message of batch.messages) {
      if (isWebhookMessage(message.body) && message.body.kind === "delivery") {
        const id = message.body.subscriptionId;
        dead.set(id, (dead.get(id) ?? 0) + 1);
      }
    }
    try {
      await withDatabase(env, async (db) => {
        for (const [id, count] of dead) await recordDeadLettered(db, id, count);
      });
      batch.ackAll();
    } catch {
      batch.retryAll({ delaySeconds: base });
    }
    return;
  }

  const events: Message<unknown>[] = [];
  const deliveries: Message<unknown>[] = [];
  for (const message of batch.messages) {
    if (!isWebhookMessage(message.body)) {
      console.error(JSON.stringify({ level: "error", event: "webhook_message_malformed", id: message.id }));
      message.ack();
    } else if (message.body.kind === "event") events.push(message);
    else deliveries.push(message);
  }
  await Promise.all([fanOut(env, events, retry), deliverAll(env, deliveries, settings, retry)]);
}

async function fanOut(
  env: Env,
  messages: Message<unknown>[],
  retry: (message: Message<unknown>) => void,
): Promise<void> {
  if (messages.length === 0) return;
  try {
    const out: MessageSendRequest<WebhookMessage>[] = [];
    await withDatabase(env, async (db) => {
      const byType = new Map<string, string[]>();
      for (const message of messages) {
        if (!isWebhookMessage(message.body)) continue;
        const { event } = message.body;
        let ids = byType.get(event.type);
        if (ids === undefined) {
          ids = await subscribersOf(db, event.type);
          byType.set(event.type, ids);
        }
        for (const subscriptionId of ids) out.push({ body: { kind: "delivery", subscriptionId, event } });
      }
    });
    for (let i = 0; i < out.length; i += QUEUE_BATCH_MESSAGES) {
      await env.WEBHOOK_EVENTS.sendBatch(out.slice(i, i + QUEUE_BATCH_MESSAGES));
    }
    for (const message of messages) message.ack();
  } catch (error) {
    // Sent deliveries may be sent again with the retry: receivers deduplicate on webhook-id.
    console.error(JSON.stringify({ level: "error", event: "webhook_fan_out_failed", error: String(error) }));
    for (const message of messages) retry(message);
  }
}

/**
 * A batch's deliveries: their subscriptions read in one query, at most
 * DELIVERIES_IN_FLIGHT POSTs at a time, the outcomes written to each
 * endpoint's status in one UPDATE per endpoint.
 */
async function deliverAll(
  env: Env,
  messages: Message<unknown>[],
  settings: { allowLoopback: boolean; timeoutMs: number },
  retry: (message: Message<unknown>) => void,
): Promise<void> {
  const deliveries = messages.flatMap((message) =>
    isWebhookMessage(message.body) && message.body.kind === "delivery"
      ? [{ message, body: message.body }]
      : [],
  );
  if (deliveries.length === 0) return;
  let subscriptions: Awaited<ReturnType<typeof findSubscriptions>>;
  try {
    subscriptions = await withDatabase(env, (db) =>
      findSubscriptions(
        db,
        deliveries.map((d) => d.body.subscriptionId),
      ),
    );
  } catch (error) {
    console.error(JSON.stringify({ level: "error", event: "webhook_delivery_failed", error: String(error) }));
    for (const { message } of deliveries) retry(message);
    return;
  }
  const tallies = new Map<string, AttemptTally>();
  // An endpoint that failed once in this batch is not tried again until the
  // retry: one that hangs costs the batch one timeout, not one per delivery.
  const failing = new Set<string>();
  let next = 0;
  const worker = async () => {
    for (let d = deliveries[next++]; d !== undefined; d = deliveries[next++]) {
      const subscription = subscriptions.get(d.body.subscriptionId);
      if (!subscription) {
        d.message.ack(); // deleted since: nobody to tell
        continue;
      }
      if (failing.has(subscription.id)) {
        retry(d.message);
        continue;
      }
      const outcome = await deliver(subscription.url, subscription.secret, d.body.event, settings).catch(
        (error: unknown) => ({ ok: false as const, error: String(error) }),
      );
      const tally = tallies.get(subscription.id) ?? { delivered: 0, failed: 0 };
      if (outcome.ok) tally.delivered += 1;
      else {
        tally.failed += 1;
        tally.lastError = outcome.error;
        failing.add(subscription.id);
      }
      tallies.set(subscription.id, tally);
      if (outcome.ok) d.message.ack();
      else retry(d.message);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELIVERIES_IN_FLIGHT, deliveries.length) }, worker));
  // The status is for admins to read; failing to write it must not repeat a delivery that worked.
  await withDatabase(env, (db) => recordAttempts(db, tallies)).catch((error: unknown) =>
    console.error(JSON.stringify({ level: "error", event: "webhook_status_failed", error: String(error) })),
  );
}

import { positiveNumber } from "../config/config";
import { withDatabase } from "../db/client";
import { type DeliveryOutcome, deliver } from "./delivery";
import type { WebhookEvent, WebhookMessage } from "./events";
import {
  type AttemptTally,
  findSubscriptions,
  recordAttempts,
  recordDeadLettered,
  type Subscription,
  subscriptionsFor,
} from "./subscriptions";
import { loopbackAllowed } from "./url-policy";

/** The queue wrangler.toml names as the webhook queue's dead-letter queue. */
export const DEAD_LETTER_QUEUE = "bidding-webhooks-dlq";
const QUEUE_BATCH_MESSAGES = 100;
/**
 * POSTs in flight at once: a Worker invocation opens at most six connections
 * and queues the rest, and a queued fetch would spend its timeout waiting;
 * one is left for PostgreSQL.
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
 * The Worker's queue() handler. An event message is tried at once at every
 * endpoint that wants it; each endpoint that did not take it gets a delivery
 * message of its own (sendBatch, 100 at a time), and the event is
 * acknowledged. A delivery message is signed and POSTed, acknowledged on 2xx
 * and retried with backoff otherwise. The same event keeps its id, hence its
 * `webhook-id`, through every retry. Messages that reach the dead-letter
 * queue are only counted in their endpoint's status.
 */
export async function handleWebhookQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const base = positiveNumber(env.WEBHOOK_RETRY_BASE_SECONDS, 10);
  const settings = {
    allowLoopback: loopbackAllowed(env),
    timeoutMs: positiveNumber(env.WEBHOOK_TIMEOUT_MS, 10_000),
  };

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

  const events: EventMessage[] = [];
  const deliveries: DeliveryMessage[] = [];
  for (const message of batch.messages) {
    const body = message.body;
    if (!isWebhookMessage(body)) {
      console.error(JSON.stringify({ level: "error", event: "webhook_message_malformed", id: message.id }));
      message.ack();
    } else if (body.kind === "event") events.push({ message, body });
    else deliveries.push({ message, body });
  }
  // One after the other: together they would open more connections than an invocation may.
  await fanOut(env, events, settings, base);
  await retryDeliveries(env, deliveries, settings, base);
}

type EventMessage = { message: Message<unknown>; body: Extract<WebhookMessage, { kind: "event" }> };
type DeliveryMessage = { message: Message<unknown>; body: Extract<WebhookMessage, { kind: "delivery" }> };
type Settings = { allowLoopback: boolean; timeoutMs: number };

/** Each event tried once at every endpoint that wants it; what did not go through goes back as deliveries. */
async function fanOut(env: Env, messages: EventMessage[], settings: Settings, base: number): Promise<void> {
  if (messages.length === 0) return;
  const retryAll = () => {
    for (const { message } of messages)
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, base) });
  };
  let subscriptions: Subscription[];
  try {
    subscriptions = await withDatabase(env, (db) =>
      subscriptionsFor(
        db,
        messages.map((m) => m.body.event.type),
      ),
    );
  } catch (error) {
    console.error(JSON.stringify({ level: "error", event: "webhook_fan_out_failed", error: String(error) }));
    retryAll();
    return;
  }
  const attempts = messages.flatMap(({ body: { event } }) =>
    subscriptions
      .filter((s) => s.events.includes(event.type))
      .map((subscription) => ({ subscription, event })),
  );
  const outcomes = await attemptAll(env, attempts, settings);
  const again: MessageSendRequest<WebhookMessage>[] = [];
  attempts.forEach(({ subscription, event }, i) => {
    const outcome = outcomes[i];
    if (outcome === "delivered") return;
    // Not tried (its endpoint failed earlier in the batch) or tried once: the first retry's wait either way.
    again.push({
      body: {
        kind: "delivery",
        subscriptionId: subscription.id,
        event,
        attemptsBefore: outcome === "failed" ? 1 : 0,
      },
      delaySeconds: retryDelaySeconds(1, base),
    });
  });
  try {
    for (let i = 0; i < again.length; i += QUEUE_BATCH_MESSAGES) {
      await env.WEBHOOK_EVENTS.sendBatch(again.slice(i, i + QUEUE_BATCH_MESSAGES));
    }
    for (const { message } of messages) message.ack();
  } catch (error) {
    // The events go round again: endpoints that took them get them twice and deduplicate on webhook-id.
    console.error(JSON.stringify({ level: "error", event: "webhook_fan_out_failed", error: String(error) }));
    retryAll();
  }
}

/** Delivery messages: endpoints that did not take an event before, each retried on its own. */
async function retryDeliveries(
  env: Env,
  messages: DeliveryMessage[],
  settings: Settings,
  base: number,
): Promise<void> {
  if (messages.length === 0) return;
  const retry = ({ message, body }: DeliveryMessage) =>
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts + (body.attemptsBefore ?? 0), base) });
  let subscriptions: Map<string, Subscription>;
  try {
    subscriptions = await withDatabase(env, (db) =>
      findSubscriptions(
        db,
        messages.map((m) => m.body.subscriptionId),
      ),
    );
  } catch (error) {
    console.error(JSON.stringify({ level: "error", event: "webhook_delivery_failed", error: String(error) }));
    for (const m of messages) retry(m);
    return;
  }
  const live = messages.flatMap((m) => {
    const subscription = subscriptions.get(m.body.subscriptionId);
    if (subscription) return [{ m, subscription, event: m.body.event }];
    m.message.ack(); // deleted since: nobody to tell
    return [];
  });
  const outcomes = await attemptAll(env, live, settings);
  live.forEach(({ m }, i) => {
    if (outcomes[i] === "delivered") m.message.ack();
    else retry(m);
  });
}

type AttemptOutcome = "delivered" | "failed" | "not tried";

/**
 * Signed POSTs, at most DELIVERIES_IN_FLIGHT at a time; an endpoint that
 * failed once is not tried again in this batch (one that hangs costs it one
 * timeout, not one per delivery). The outcomes go to each endpoint's status
 * in one UPDATE per endpoint.
 */
async function attemptAll(
  env: Env,
  attempts: { subscription: Subscription; event: WebhookEvent }[],
  settings: Settings,
): Promise<AttemptOutcome[]> {
  const outcomes: AttemptOutcome[] = attempts.map(() => "not tried");
  if (attempts.length === 0) return outcomes;
  const tallies = new Map<string, AttemptTally>();
  const failing = new Set<string>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < attempts.length; i = next++) {
      const attempt = attempts[i];
      if (!attempt || failing.has(attempt.subscription.id)) continue;
      const { subscription, event } = attempt;
      const outcome: DeliveryOutcome = await deliver(
        subscription.url,
        subscription.secret,
        event,
        settings,
      ).catch((error: unknown) => ({ ok: false as const, error: String(error) }));
      const tally = tallies.get(subscription.id) ?? { delivered: 0, failed: 0 };
      if (outcome.ok) tally.delivered += 1;
      else {
        tally.failed += 1;
        tally.lastError = outcome.error;
        failing.add(subscription.id);
      }
      tallies.set(subscription.id, tally);
      outcomes[i] = outcome.ok ? "delivered" : "failed";
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELIVERIES_IN_FLIGHT, attempts.length) }, worker));
  // The status is for admins to read; failing to write it must not repeat a delivery that worked.
  await withDatabase(env, (db) => recordAttempts(db, tallies)).catch((error: unknown) =>
    console.error(JSON.stringify({ level: "error", event: "webhook_status_failed", error: String(error) })),
  );
  return outcomes;
}

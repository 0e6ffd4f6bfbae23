import { arrayContains, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { webhookSubscriptions } from "../db/schema";
import type { WebhookEventType } from "./events";

export type Subscription = typeof webhookSubscriptions.$inferSelect;

export function createSubscription(
  db: Database,
  values: { url: string; events: WebhookEventType[]; secret: string },
): Promise<Subscription[]> {
  return db.insert(webhookSubscriptions).values(values).returning();
}

export function listSubscriptions(db: Database): Promise<Subscription[]> {
  return db
    .select()
    .from(webhookSubscriptions)
    .orderBy(webhookSubscriptions.createdAt, webhookSubscriptions.id);
}

export async function deleteSubscription(db: Database, id: string): Promise<boolean> {
  const rows = await db
    .delete(webhookSubscriptions)
    .where(eq(webhookSubscriptions.id, id))
    .returning({ id: webhookSubscriptions.id });
  return rows.length > 0;
}

/** The ids of the subscriptions that want events of `type`. */
export async function subscribersOf(db: Database, type: WebhookEventType): Promise<string[]> {
  const rows = await db
    .select({ id: webhookSubscriptions.id })
    .from(webhookSubscriptions)
    .where(arrayContains(webhookSubscriptions.events, [type]));
  return rows.map((row) => row.id);
}

export async function findSubscription(db: Database, id: string): Promise<Subscription | undefined> {
  const [row] = await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id));
  return row;
}

/** One attempt's outcome in the endpoint's delivery status. */
export async function recordAttempt(
  db: Database,
  id: string,
  outcome: { ok: true } | { ok: false; error: string },
): Promise<void> {
  const now = new Date();
  await db
    .update(webhookSubscriptions)
    .set(
      outcome.ok
        ? {
            lastAttemptAt: now,
            lastSuccessAt: now,
            deliveredCount: sql`${webhookSubscriptions.deliveredCount} + 1`,
          }
        : {
            lastAttemptAt: now,
            lastError: outcome.error.slice(0, 500),
            failedAttempts: sql`${webhookSubscriptions.failedAttempts} + 1`,
          },
    )
    .where(eq(webhookSubscriptions.id, id));
}

/** Deliveries to `id` that ran out of retries and reached the dead-letter queue. */
export async function recordDeadLettered(db: Database, id: string, count: number): Promise<void> {
  await db
    .update(webhookSubscriptions)
    .set({ deadLettered: sql`${webhookSubscriptions.deadLettered} + ${count}` })
    .where(eq(webhookSubscriptions.id, id));
}

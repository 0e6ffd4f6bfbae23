import { arrayOverlaps, eq, inArray, sql } from "drizzle-orm";
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

/** The subscriptions that want events of any of `types`. */
export function subscriptionsFor(db: Database, types: readonly WebhookEventType[]): Promise<Subscription[]> {
  if (types.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(webhookSubscriptions)
    .where(arrayOverlaps(webhookSubscriptions.events, [...new Set(types)]));
}

/** The subscriptions with these ids that still exist, by id: one query for a batch of deliveries. */
export async function findSubscriptions(
  db: Database,
  ids: readonly string[],
): Promise<Map<string, Subscription>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(webhookSubscriptions)
    .where(inArray(webhookSubscriptions.id, [...new Set(ids)]));
  return new Map(rows.map((row) => [row.id, row]));
}

/** A batch's attempts to one endpoint, added up for its delivery status. */
export interface AttemptTally {
  delivered: number;
  failed: number;
  /** The last failure's reason, when there was one. */
  lastError?: string;
}

/** The attempts of a batch in each endpoint's delivery status: one UPDATE per endpoint, not per delivery. */
export async function recordAttempts(
  db: Database,
  tallies: ReadonlyMap<string, AttemptTally>,
): Promise<void> {
  const now = new Date();
  for (const [id, { delivered, failed, lastError }] of tallies) {
    await db
      .update(webhookSubscriptions)
      .set({
        lastAttemptAt: now,
        ...(delivered > 0 ? { lastSuccessAt: now } : {}),
        ...(lastError !== undefined ? { lastError: lastError.slice(0, 500) } : {}),
        deliveredCount: sql`${webhookSubscriptions.deliveredCount} + ${delivered}`,
        failedAttempts: sql`${webhookSubscriptions.failedAttempts} + ${failed}`,
      })
      .where(eq(webhookSubscriptions.id, id));
  }
}

/** Deliveries to `id` that ran out of retries and reached the dead-letter queue. */
export async function recordDeadLettered(db: Database, id: string, count: number): Promise<void> {
  await db
    .update(webhookSubscriptions)
    .set({ deadLettered: sql`${webhookSubscriptions.deadLettered} + ${count}` })
    .where(eq(webhookSubscriptions.id, id));
}

/**
 * What the session objects tell the world (API.md, "Notifications"): events
 * written to an object's outbox with the change that caused them, carried by
 * the webhook queue, and signed and POSTed per subscription by the Worker.
 */

export const WEBHOOK_EVENT_TYPES = ["session.extended", "session.ended", "bid.outbid"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

interface EventOf<T extends WebhookEventType, D> {
  /** Stable: the same event keeps it across every retry and resend (the `webhook-id` header). */
  id: string;
  type: T;
  /** When the object wrote the event, ISO 8601. */
  timestamp: string;
  data: D;
}

export type WebhookEvent =
  | EventOf<"bid.outbid", { sessionId: string; userId: number; amount: number; rank: number }>
  | EventOf<"session.extended", { sessionId: string; endsAt: string; extensions: number }>
  | EventOf<
      "session.ended",
      {
        sessionId: string;
        closedAt: string;
        finalSeq: number;
        reserveMet: boolean;
        winners: { rank: number; userId: number; amount: number }[];
      }
    >;

/**
 * What travels on the queue: an event as the object sent it, tried once at
 * every endpoint that wants it; then, for each endpoint that did not take it,
 * a delivery of its own, so each endpoint is retried on its own.
 */
export type WebhookMessage =
  | { kind: "event"; event: WebhookEvent }
  | {
      kind: "delivery";
      subscriptionId: string;
      event: WebhookEvent;
      /** Attempts made before this message (the one when the event was fanned out). */
      attemptsBefore?: number;
    };

/**
 * Event ids follow from what happened, not from a counter, so writing the
 * same fact twice (a replayed end, a resent batch) cannot make two events.
 */
export const eventIds = {
  /** `seq` is the last seq of the batch that displaced the user. */
  outbid: (sessionId: string, seq: number, userId: number) => `evt_${sessionId}_outbid_${seq}_${userId}`,
  extended: (sessionId: string, extensions: number) => `evt_${sessionId}_extended_${extensions}`,
  ended: (sessionId: string) => `evt_${sessionId}_ended`,
};

/**
 * The events one batch of bids caused: a `bid.outbid` for each bidder it
 * displaced from a winning rank (ids follow from the batch's last seq) and a
 * `session.extended` when a soft close moved the end.
 */
export function batchEvents(
  sessionId: string,
  lastSeq: number,
  outbid: readonly { userId: number; amount: number; rank: number }[],
  extension: { endsAt: string; extensions: number } | null,
  timestamp: string,
): WebhookEvent[] {
  const events: WebhookEvent[] = outbid.map(({ userId, amount, rank }) => ({
    id: eventIds.outbid(sessionId, lastSeq, userId),
    type: "bid.outbid",
    timestamp,
    data: { sessionId, userId, amount, rank },
  }));
  if (extension) {
    events.push({
      id: eventIds.extended(sessionId, extension.extensions),
      type: "session.extended",
      timestamp,
      data: { sessionId, ...extension },
    });
  }
  return events;
}

// The messages between the benchmark (webhook-receiver.ts) and its webhook
// receiver process (webhook-receiver-child.ts) over Node's IPC channel,
// checked on arrival like any other input. Every request carries an id its
// answer repeats.
import { z } from "zod";

const LatencySummarySchema = z.object({
  count: z.number(),
  mean: z.number(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  max: z.number(),
});

export const ToReceiverSchema = z.discriminatedUnion("type", [
  /** Accept deliveries on `path` (before the subscription exists, so none is refused). */
  z.object({ type: z.literal("watch"), id: z.number(), path: z.string() }),
  /** The subscription's secret, as POST /v1/webhooks returned it; deliveries to `path` wait for it. */
  z.object({ type: z.literal("secret"), id: z.number(), path: z.string(), secret: z.string() }),
  /** What `path` received, with the lag of the events of `sessionId`. */
  z.object({ type: z.literal("figures"), id: z.number(), path: z.string(), sessionId: z.string() }),
]);
export type ToReceiver = z.infer<typeof ToReceiverSchema>;

export const ReceiverFiguresSchema = z.object({
  /** POSTs to the path. */
  deliveries: z.number(),
  /** Distinct `webhook-id`s among them. */
  distinctIds: z.number(),
  /** Deliveries of an id already received (a retry or a resend). */
  duplicates: z.number(),
  /** Deliveries whose signature does not verify with the secret (or that carry none). */
  badSignatures: z.number(),
  /** Bodies that are not a Standard Webhooks event (JSON with type, timestamp, data.sessionId). */
  malformed: z.number(),
  /** Distinct ids by event type. */
  byType: z.record(z.string(), z.number()),
  /** Distinct ids of events of the session asked about. */
  sessionIds: z.number(),
  /** Distinct ids of events of other sessions (the queue's backlog from earlier measurements). */
  otherSessionIds: z.number(),
  /** The session's events: first arrival of each id minus the event's `timestamp` (when the object wrote it), ms. */
  lagMs: LatencySummarySchema,
  /** POSTs to paths nobody watches (the whole receiver). */
  stray: z.number(),
});
export type ReceiverFigures = z.infer<typeof ReceiverFiguresSchema>;

export const FromReceiverSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("listening"), port: z.number() }),
  z.object({ type: z.literal("done"), id: z.number() }),
  z.object({ type: z.literal("figures"), id: z.number(), figures: ReceiverFiguresSchema }),
  z.object({ type: z.literal("failed"), id: z.number(), error: z.string() }),
]);
export type FromReceiver = z.infer<typeof FromReceiverSchema>;

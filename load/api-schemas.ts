// The shapes of the API's answers the load scripts read (API.md), checked at runtime.
import { z } from "zod";

export const ProblemSchema = z.object({ status: z.number(), code: z.string(), detail: z.string() });

export const SessionSchema = z.object({
  id: z.string(),
  title: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  minBid: z.number().int(),
  minIncrement: z.number().int(),
  status: z.enum(["scheduled", "active", "ended"]),
  bidders: z.number().int(),
  highestBid: z.number().int().nullable(),
  createdAt: z.string(),
});
export type Session = z.infer<typeof SessionSchema>;

export const BidReceiptSchema = z.object({
  sessionId: z.string(),
  userId: z.number().int(),
  amount: z.number().int(),
  rank: z.number().int(),
  placedAt: z.string(),
  seq: z.number().int(),
});
export type BidReceipt = z.infer<typeof BidReceiptSchema>;

/** The receipt in a 201's body, or undefined when the body is not one. */
export function parseReceipt(text: string): BidReceipt | undefined {
  try {
    const parsed = BidReceiptSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const CreatedUsersSchema = z.object({
  users: z.array(z.object({ id: z.number().int(), username: z.string() })),
});

export const SessionStatsSchema = z.object({
  sessionId: z.string(),
  seq: z.number().int(),
  flushedSeq: z.number().int(),
  pendingBids: z.number().int(),
  oldestPendingAgeMs: z.number().nullable(),
  lastFlushAt: z.string().nullable(),
  lastFlushDurationMs: z.number().nullable(),
  lastFlushRows: z.number().int().nullable(),
  totalFlushed: z.number().int(),
  consecutiveFlushFailures: z.number().int(),
  totalFlushFailures: z.number().int(),
  lastFlushError: z.string().nullable(),
  nextAlarmAt: z.string().nullable(),
  openSockets: z.number().int(),
});
export type SessionStats = z.infer<typeof SessionStatsSchema>;

export const PoolFiguresSchema = z.object({
  pool_size: z.number().int(),
  checked_in_connections: z.number().int(),
  checked_out_connections: z.number().int(),
  overflow_connections: z.number().int(),
  total_connections: z.number().int(),
  queue_size: z.number().int(),
  status: z.enum(["healthy", "degraded", "exhausted"]),
  max_connections: z.number().int().nullable(),
  source: z.object({ error: z.string().optional() }).optional(),
});
export type PoolFigures = z.infer<typeof PoolFiguresSchema>;

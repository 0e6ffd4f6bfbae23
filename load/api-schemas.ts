// The shapes of the API's answers the load scripts read (API.md), checked at runtime.
import { z } from "zod";
import {
  BidReceiptSchema,
  PoolFiguresSchema,
  SessionSchema,
  SessionStatsSchema,
} from "../src/http/contract.js";

export { BidReceiptSchema, PoolFiguresSchema, SessionSchema, SessionStatsSchema };

export const ProblemSchema = z.object({ status: z.number(), code: z.string(), detail: z.string() });

export type Session = z.infer<typeof SessionSchema>;

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

export type SessionStats = z.infer<typeof SessionStatsSchema>;

export type PoolFigures = z.infer<typeof PoolFiguresSchema>;

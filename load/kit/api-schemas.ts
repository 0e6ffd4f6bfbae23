// The shapes of the API's answers the load scripts read (API.md), checked at
// runtime: the contract's own schemas (src/http/contract.ts), none declared here.
// Sessions and receipts as a v1 client reads them, since the benchmark drives the
// reference design with the same scripts.
import type { z } from "zod";
import {
  BidReceiptV1Schema as BidReceiptSchema,
  CreatedUsersSchema,
  LeaderboardMessageSchema,
  LeaderboardSchema,
  LiveMessageSchema,
  OutbidMessageSchema,
  PoolFiguresSchema,
  ProblemSchema,
  ResultsSchema,
  SessionV1Schema as SessionSchema,
  SessionStatsSchema,
} from "../../src/http/contract.js";

export {
  BidReceiptSchema,
  CreatedUsersSchema,
  LeaderboardMessageSchema,
  LeaderboardSchema,
  LiveMessageSchema,
  OutbidMessageSchema,
  PoolFiguresSchema,
  ProblemSchema,
  ResultsSchema,
  SessionSchema,
  SessionStatsSchema,
};

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

export type CreatedUser = z.infer<typeof CreatedUsersSchema>["users"][number];

export type SessionStats = z.infer<typeof SessionStatsSchema>;

export type PoolFigures = z.infer<typeof PoolFiguresSchema>;

export type Results = z.infer<typeof ResultsSchema>;

export type Leaderboard = z.infer<typeof LeaderboardSchema>;

export type LeaderboardMessage = z.infer<typeof LeaderboardMessageSchema>;

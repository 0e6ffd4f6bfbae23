// The messages between `npm run load`'s main thread (watchers.ts) and its watcher thread
// (watcher-thread.ts), checked on arrival like any other input.
import { z } from "zod";

export const ThreadPlanSchema = z.object({
  url: z.string(),
  sessionId: z.string(),
  count: z.number().int().min(0),
  limit: z.number().int().min(1),
  sampledIndexes: z.array(z.number().int().min(0)),
  /** Watcher i signs in as `users[i]` (the `bearer.<JWT>` subprotocol); the rest watch anonymously. */
  users: z.array(z.object({ id: z.number().int(), token: z.string() })),
});
export type ThreadPlan = z.infer<typeof ThreadPlanSchema>;

export const ToThreadSchema = z.discriminatedUnion("type", [z.object({ type: z.literal("finish") })]);
export type ToThread = z.infer<typeof ToThreadSchema>;

export const FromThreadSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("connected"),
    opened: z.number(),
    failed: z.number(),
    ms: z.number(),
    /** The users whose signed-in sockets opened. */
    signedIn: z.array(z.number()),
  }),
  /** A sampled watcher received a board: `at` in epoch milliseconds, sub-millisecond. */
  z.object({ type: z.literal("board"), index: z.number(), seq: z.number(), at: z.number() }),
  /** A signed-in watcher was told its user was outbid (any watcher, not only the sampled ones). */
  z.object({ type: z.literal("outbid"), userId: z.number(), amount: z.number(), at: z.number() }),
  /** Messages received by all watchers since the last tick (one a second). */
  z.object({ type: z.literal("tick"), messages: z.number(), open: z.number() }),
  z.object({
    type: z.literal("totals"),
    opened: z.number(),
    closedEarly: z.number(),
    /** Messages received by each watcher that opened. */
    perWatcher: z.array(z.number()),
    /** Messages since the last tick. */
    lastTick: z.number(),
  }),
]);
export type FromThread = z.infer<typeof FromThreadSchema>;

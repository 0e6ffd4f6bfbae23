// The shapes of the API's answers (API.md), as zod schemas. The routes
// declare them in the OpenAPI document; the tests and the load scripts parse
// answers with them. Only zod here, so Node scripts can import it too.
import { z } from "@hono/zod-openapi";

/** Every 4xx/5xx answer (application/problem+json); `code` is one of problemCodes (src/http/problem.ts). */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: "invalid_request" }),
  })
  .openapi("Problem");

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    checks: z.object({ database: z.enum(["ok", "down"]) }),
  })
  .openapi("Health");

export const UserSchema = z
  .object({
    id: z.number().int(),
    username: z.string(),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("User");

/** An identity provider's name for a person: the token's `iss` and `sub`. */
export const IdentitySchema = z
  .object({
    issuer: z.string().openapi({ example: "https://example.eu.auth0.com/" }),
    subject: z.string().openapi({ example: "auth0|64f1c0d2e3a4b5c6d7e8f901" }),
  })
  .openapi("Identity");

/** GET /v1/me: the signed-in caller's own user and the provider identities that sign in as it. */
export const MeSchema = UserSchema.extend({ identities: z.array(IdentitySchema) }).openapi("Me");

/** GET /v1/users/{id}: admins also see the identities that sign in as the user. */
export const UserViewSchema = UserSchema.extend({
  identities: z.array(IdentitySchema).optional().openapi({ description: "Admins only" }),
}).openapi("UserView");

/** POST /v1/users/batch: the users created, in the order of the names sent. */
export const CreatedUsersSchema = z.object({
  users: z.array(z.object({ id: z.number().int(), username: z.string() })),
});

export const SoftCloseSchema = z
  .object({
    windowSeconds: z
      .number()
      .int()
      .openapi({ description: "An accepted bid this close to the end extends it" }),
    extendSeconds: z.number().int().openapi({ description: "…to this long after the bid" }),
  })
  .openapi("SoftClose");

/**
 * A link of the bid log (API.md v1.2): lowercase hex SHA-256. Null only for
 * the bids of a session that took bids before the log existed, which has no chain.
 */
const Link = z
  .string()
  .nullable()
  .openapi({ example: "9f2c4e0a7d5b3c1e8f6a4d2b0c9e7f5a3d1b8c6e4f2a0d9b7c5e3f1a8d6b4c2e" });
const linkOf = (what: string) => ({
  description: `The bid log's link of ${what} (API.md v1.2); null in a session that took bids before the log existed`,
});

/** A session as a v1 client reads it: what the reference system served, and every field v1 promised. */
export const SessionV1Schema = z.object({
  id: z.string().openapi({ format: "uuid" }),
  title: z.string(),
  startsAt: z.string().openapi({ format: "date-time" }),
  endsAt: z.string().openapi({ format: "date-time" }),
  minBid: z.number().int(),
  minIncrement: z.number().int(),
  status: z.enum(["scheduled", "active", "ended"]),
  bidders: z.number().int(),
  highestBid: z.number().int().nullable(),
  createdAt: z.string().openapi({ format: "date-time" }),
});

export const SessionSchema = SessionV1Schema.extend({
  units: z.number().int().openapi({ description: "How many top bidders win" }),
  reserveMet: z
    .boolean()
    .openapi({ description: "The highest live bid is at or above the reserve; true when there is none" }),
  softClose: SoftCloseSchema.nullable(),
  scheduledEndsAt: z.string().openapi({
    format: "date-time",
    description: "The end as created or last PATCHed; `endsAt` is the end in force",
  }),
  extensions: z.number().int().openapi({ description: "Soft-close extensions so far" }),
  serverTime: z
    .string()
    .openapi({ format: "date-time", description: "The server's clock when the answer was made" }),
  endsInMs: z.number().int().openapi({ description: "From serverTime to endsAt; 0 once ended" }),
  reservePrice: z.number().int().nullable().optional().openapi({ description: "Admins only" }),
  hardEndsAt: z
    .string()
    .optional()
    .openapi({ format: "date-time", description: "Admins only: no extension moves the end past it" }),
  currency: z.string().openapi({
    example: "EUR",
    description: "ISO 4217 code of every amount of the session; amounts stay integers of its minor units",
  }),
  headSeq: z.number().int().openapi({ description: "The seq of the last accepted bid; 0 before the first" }),
  headHash: Link.openapi(linkOf("headSeq, h0 before the first bid")),
}).openapi("Session");

export const SessionStatsSchema = z
  .object({
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
    nextAlarmJob: z
      .enum(["flush", "drain", "retry", "end", "prune", "deliver"])
      .nullable()
      .openapi({ description: "What the next alarm is set for" }),
    openSockets: z.number().int(),
  })
  .openapi("SessionStats");

/** A 201 as a v1 client reads it. */
export const BidReceiptV1Schema = z.object({
  sessionId: z.string().openapi({ format: "uuid" }),
  userId: z.number().int(),
  amount: z.number().int(),
  rank: z.number().int(),
  placedAt: z.string().openapi({ format: "date-time" }),
  seq: z.number().int(),
});

/** A 201 as a v1.1 client reads it. */
const BidReceiptV11Schema = BidReceiptV1Schema.extend({
  maxAmount: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "The caller's own maximum (proxy bid), or null: never shown to anyone else" }),
});

export const BidReceiptSchema = BidReceiptV11Schema.extend({
  bidder: z.string().openapi({
    description: "The caller's pseudonym in this session, as the public history shows the bid",
    example: "Bidder 7KQ2M9XD",
  }),
  hash: Link.openapi(linkOf("this bid: keep it to check the history later")),
}).openapi("BidReceipt");

export const MyBidSchema = BidReceiptV11Schema.extend({ bidCount: z.number().int() }).openapi("MyBid");

export const ResultsSchema = z
  .object({
    sessionId: z.string().openapi({ format: "uuid" }),
    closedAt: z.string().openapi({ format: "date-time" }),
    finalSeq: z.number().int(),
    finalHash: Link.openapi(linkOf("finalSeq")),
    reserveMet: z.boolean(),
    winners: z.array(
      z.object({
        rank: z.number().int(),
        userId: z.number().int(),
        username: z.string().nullable(),
        amount: z.number().int(),
      }),
    ),
  })
  .openapi("Results");

/** One row of a leaderboard (not a component of its own in the OpenAPI document). */
export const LeaderboardEntrySchema = z.object({
  rank: z.number().int(),
  userId: z.number().int(),
  username: z.string().nullable(),
  amount: z.number().int(),
  placedAt: z.string().openapi({ format: "date-time" }),
});

export const LeaderboardSchema = z
  .object({
    sessionId: z.string().openapi({ format: "uuid" }),
    status: z.enum(["scheduled", "active", "ended"]),
    asOf: z.string().openapi({ format: "date-time" }),
    total: z.number().int(),
    seq: z.number().int(),
    entries: z.array(LeaderboardEntrySchema),
  })
  .openapi("Leaderboard");

/**
 * What GET /v1/sessions/{id}/live sends: a discriminated union, clients switch
 * on `type` (the route's description in the OpenAPI document says when).
 */
export const LeaderboardMessageSchema = LeaderboardSchema.extend({
  type: z.literal("leaderboard"),
  headHash: Link.openapi(linkOf("`seq`")),
});

/** Only on sockets authenticated with the `bearer.<JWT>` subprotocol, for that user. */
export const OutbidMessageSchema = z.object({
  type: z.literal("outbid"),
  amount: z.number().int(),
  rank: z.number().int(),
});

export const LiveMessageSchema = z.discriminatedUnion("type", [
  LeaderboardMessageSchema,
  z.object({
    type: z.literal("extended"),
    endsAt: z.string(),
    extensions: z.number().int(),
    serverTime: z.string(),
  }),
  ResultsSchema.extend({ type: z.literal("result") }),
  z.object({ type: z.literal("status"), status: z.literal("ended") }),
  // These three only on sockets authenticated with the `bearer.<JWT>` subprotocol, for that user.
  OutbidMessageSchema,
  z.object({ type: z.literal("won"), amount: z.number().int(), rank: z.number().int() }),
  z.object({ type: z.literal("lost") }),
]);

const PoolStatusSchema = z.enum(["healthy", "degraded", "exhausted"]);

/** One Hyperdrive pool location, averaged and peaked over the window (hyperdrivePoolSizesAdaptiveGroups). */
export const HyperdrivePoolLocationSchema = z
  .object({
    colo: z.string().openapi({ description: "coloCode: the airport code of the location hosting the pool" }),
    current_pool_size_avg: z.number(),
    current_pool_size_max: z.number(),
    available_pool_slots_avg: z.number(),
    waiting_clients_avg: z.number(),
    waiting_clients_max: z.number(),
    max_pool_size: z.number(),
    status: PoolStatusSchema,
  })
  .openapi("HyperdrivePoolLocation");

const HyperdriveWindowSchema = z.object({
  start: z.string().openapi({ format: "date-time" }),
  end: z.string().openapi({ format: "date-time" }),
});

/** Hyperdrive's own pool figures from Cloudflare's GraphQL Analytics API, or why there are none. */
export const HyperdrivePoolSchema = z
  .discriminatedUnion("state", [
    z.object({
      state: z.literal("not_configured"),
      missing: z.array(z.string()),
    }),
    z.object({
      state: z.literal("ok"),
      config_id: z.string(),
      window: HyperdriveWindowSchema,
      fetched_at: z.string().openapi({ format: "date-time" }),
      status: PoolStatusSchema,
      locations: z.array(HyperdrivePoolLocationSchema),
      queries: z.object({
        count: z.number(),
        errors: z.number(),
        query_latency_ms_avg: z.number().nullable(),
        connection_latency_ms_avg: z.number().nullable(),
      }),
    }),
    z.object({
      state: z.literal("unavailable"),
      config_id: z.string(),
      window: HyperdriveWindowSchema,
      fetched_at: z.string().openapi({ format: "date-time" }),
      error: z.string(),
    }),
  ])
  .openapi("HyperdrivePool");

export const PoolFiguresSchema = z
  .object({
    pool_size: z.number().int(),
    checked_in_connections: z.number().int(),
    checked_out_connections: z.number().int(),
    overflow_connections: z.number().int(),
    total_connections: z.number().int(),
    queue_size: z.number().int(),
    status: PoolStatusSchema,
    max_connections: z.number().int().nullable(),
    source: z.object({
      connections: z.string(),
      pool_size: z.string(),
      driver: z.enum(["hyperdrive", "neon"]),
      error: z.string().optional(),
      hyperdrive: z.string(),
      hyperdrive_error: z.string().optional(),
    }),
    hyperdrive: HyperdrivePoolSchema,
  })
  .openapi("PoolFigures");

/** GET /v1/sessions: a page of sessions, in the order of the listing. */
export const SessionListSchema = z
  .object({
    sessions: z.array(SessionSchema),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Opaque: pass it as `cursor` for the next page; null on the last page" }),
  })
  .openapi("SessionList");

/** One accepted bid in a session's history; `userId` and `username` for admins only. */
export const HistoryBidSchema = z
  .object({
    seq: z.number().int(),
    bidder: z.string().openapi({
      description: "A pseudonym, the same for a bidder throughout the session and unrelated across sessions",
      example: "Bidder 7KQ2M9XD",
    }),
    amount: z.number().int(),
    placedAt: z.string().openapi({ format: "date-time" }),
    auto: z.boolean().openapi({ description: "An automatic raise of a maximum (proxy) bid" }),
    hash: Link.openapi(linkOf("this bid, as stored when it was accepted")),
    userId: z.number().int().optional().openapi({ description: "Admins only" }),
    username: z.string().nullable().optional().openapi({ description: "Admins only" }),
  })
  .openapi("HistoryBid");

/** GET /v1/sessions/{id}/bids: a page of the history, in seq order. */
export const BidHistorySchema = z
  .object({
    bids: z.array(HistoryBidSchema),
    nextAfter: z.number().int().nullable().openapi({
      description:
        "Pass it as `after` for the next page; null when the page reached the last bid (poll with the last seq you got for newer ones)",
    }),
  })
  .openapi("BidHistory");

/** GET /v1/me/bids: one of the caller's live bids, with where it stands. */
export const MyBidsEntrySchema = z
  .object({
    sessionId: z.string().openapi({ format: "uuid" }),
    title: z.string(),
    status: z.enum(["scheduled", "active", "ended"]),
    amount: z.number().int(),
    rank: z.number().int(),
    winning: z.boolean(),
  })
  .openapi("MyBidsEntry");

export const MyBidsSchema = z
  .object({
    bids: z.array(MyBidsEntrySchema),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Opaque: pass it as `cursor` for the next page; null on the last page" }),
  })
  .openapi("MyBids");

/** POST /v1/webhooks: where to send which events. */
export const NewWebhookSchema = z
  .strictObject({
    url: z.string().max(2048).openapi({ example: "https://hooks.example.com/bidding" }),
    events: z
      .array(z.enum(["session.extended", "session.ended", "bid.outbid"]))
      .min(1)
      .max(3)
      .refine((events) => new Set(events).size === events.length, "must not repeat an event"),
  })
  .openapi("NewWebhook");

/** How delivering to one endpoint goes. */
export const WebhookDeliveryStatusSchema = z
  .object({
    lastAttemptAt: z.string().nullable().openapi({ format: "date-time" }),
    lastSuccessAt: z.string().nullable().openapi({ format: "date-time" }),
    lastError: z.string().nullable(),
    delivered: z.number().int(),
    failedAttempts: z.number().int(),
    deadLettered: z.number().int().openapi({ description: "Deliveries that ran out of retries" }),
  })
  .openapi("WebhookDeliveryStatus");

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ format: "uuid" }),
    url: z.string(),
    events: z.array(z.enum(["session.extended", "session.ended", "bid.outbid"])),
    createdAt: z.string().openapi({ format: "date-time" }),
    delivery: WebhookDeliveryStatusSchema,
  })
  .openapi("Webhook");

/** The answer to POST /v1/webhooks: the only time the secret is shown. */
export const CreatedWebhookSchema = z
  .object({
    id: z.string().openapi({ format: "uuid" }),
    url: z.string(),
    events: z.array(z.enum(["session.extended", "session.ended", "bid.outbid"])),
    secret: z.string().openapi({
      description: "Standard Webhooks signing secret (whsec_ + base64); shown once",
      example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }),
  })
  .openapi("CreatedWebhook");

export const WebhookListSchema = z.object({ webhooks: z.array(WebhookSchema) }).openapi("WebhookList");

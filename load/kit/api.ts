// The API as the load scripts call it outside the hot path: users (batched
// under the body limit, each with a token for its bids), sessions, boards and
// webhook subscriptions. The contract's own schemas check every answer;
// sessions and receipts are read as a v1 client reads them, since the
// reference benchmark drives the reference design with the same calls.
import type { z } from "zod";
import {
  BidReceiptV1Schema,
  CreatedUsersSchema,
  CreatedWebhookSchema,
  type LeaderboardMessageSchema,
  LeaderboardSchema,
  SessionV1Schema,
  type WebhookDeliveryStatusSchema,
  WebhookListSchema,
} from "../../src/api/contract.js";
import { readDevSecret, signToken } from "../../tools/token.js";
import { expectJson, type HttpClient, jsonOf } from "./http.js";

export type Session = z.infer<typeof SessionV1Schema>;
export type BidReceipt = z.infer<typeof BidReceiptV1Schema>;
export type Leaderboard = z.infer<typeof LeaderboardSchema>;
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatusSchema>;

/** A user who bids: the id and a token signed for it. */
export interface Bidder {
  id: number;
  token: string;
}

export interface CreatedBidder extends Bidder {
  username: string;
}

/** The receipt in a 201's body, or undefined when the body is not one. */
export const parseReceipt = (text: string): BidReceipt | undefined => jsonOf(BidReceiptV1Schema, text);

/** The admin's `sub`: any id works for the admin routes; this one is out of the way of real users. */
const ADMIN_SUB = 1_000_000_000;

/** Tokens signed with the local dev secret (tools/token.ts). */
export function signAdminToken(expiresInSeconds: number): Promise<string> {
  return signToken({ sub: ADMIN_SUB, role: "admin", secret: readDevSecret(), expiresInSeconds });
}

function signUserToken(userId: number, expiresInSeconds: number): Promise<string> {
  return signToken({ sub: userId, role: "user", secret: readDevSecret(), expiresInSeconds });
}

/** The API refuses bodies over 16 KiB; batches stay a little below. */
const MAX_BATCH_BYTES = 16 * 1024 - 512;
const MAX_BATCH_USERS = 1000;

const ALL_WEBHOOK_EVENTS = ["bid.outbid", "session.extended", "session.ended"] as const;

export class BiddingApi {
  constructor(
    readonly client: HttpClient,
    readonly adminToken: string,
  ) {}

  /** Creates `usernames` in as few batches as the body limit allows; returns them with tokens, in order. */
  async createBidders(usernames: readonly string[], tokenSeconds: number): Promise<CreatedBidder[]> {
    const longest = Math.max(1, ...usernames.map((name) => JSON.stringify(name).length + 1));
    const perBatch = Math.max(1, Math.min(MAX_BATCH_USERS, Math.floor(MAX_BATCH_BYTES / longest)));
    const bidders: CreatedBidder[] = [];
    for (let start = 0; start < usernames.length; start += perBatch) {
      const response = await this.client.request("POST", "/v1/users/batch", {
        token: this.adminToken,
        body: { usernames: usernames.slice(start, start + perBatch) },
      });
      for (const user of expectJson(response, 201, CreatedUsersSchema, "POST /v1/users/batch").users) {
        bidders.push({ ...user, token: await signUserToken(user.id, tokenSeconds) });
      }
    }
    return bidders;
  }

  /** An active session from now (or `startsAt`) for `minutes`. */
  async createSession(
    title: string,
    { minutes = 60, minBid = 100, minIncrement = 1, startsAt = new Date() } = {},
  ): Promise<Session> {
    const endsAt = new Date(startsAt.getTime() + minutes * 60_000);
    const response = await this.client.request("POST", "/v1/sessions", {
      token: this.adminToken,
      body: { title, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), minBid, minIncrement },
    });
    return expectJson(response, 201, SessionV1Schema, "POST /v1/sessions");
  }

  async session(sessionId: string): Promise<Session> {
    const response = await this.client.request("GET", `/v1/sessions/${sessionId}`);
    return expectJson(response, 200, SessionV1Schema, `GET /v1/sessions/${sessionId}`);
  }

  /** Ends the session now, as an admin's PATCH does. */
  async endSession(sessionId: string): Promise<Session> {
    const path = `/v1/sessions/${sessionId}`;
    const response = await this.client.request("PATCH", path, {
      token: this.adminToken,
      body: { endsAt: new Date().toISOString() },
    });
    return expectJson(response, 200, SessionV1Schema, `PATCH ${path}`);
  }

  async leaderboard(sessionId: string, limit: number): Promise<Leaderboard> {
    const path = `/v1/sessions/${sessionId}/leaderboard?limit=${limit}`;
    return expectJson(await this.client.request("GET", path), 200, LeaderboardSchema, `GET ${path}`);
  }

  /** Subscribes `url` to every event (API.md, "Notifications"); the answer carries the signing secret. */
  async subscribe(url: string): Promise<z.infer<typeof CreatedWebhookSchema>> {
    const response = await this.client.request("POST", "/v1/webhooks", {
      token: this.adminToken,
      body: { url, events: ALL_WEBHOOK_EVENTS },
    });
    return expectJson(response, 201, CreatedWebhookSchema, "POST /v1/webhooks");
  }

  /** The service's own count of what it delivered to subscription `id`. */
  async deliveryStatus(id: string): Promise<WebhookDeliveryStatus> {
    const response = await this.client.request("GET", "/v1/webhooks", { token: this.adminToken });
    const { webhooks } = expectJson(response, 200, WebhookListSchema, "GET /v1/webhooks");
    const found = webhooks.find((webhook) => webhook.id === id);
    if (!found) throw new Error(`GET /v1/webhooks: no webhook ${id}`);
    return found.delivery;
  }

  async unsubscribe(id: string): Promise<void> {
    const response = await this.client.request("DELETE", `/v1/webhooks/${id}`, { token: this.adminToken });
    if (response.status !== 204) {
      throw new Error(`DELETE /v1/webhooks/${id}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
    }
  }
}

/** The first amount every user may bid: above any live bid in the session, however it got there. */
export function firstRaise(session: Session): number {
  return Math.max(session.minBid, (session.highestBid ?? 0) + session.minIncrement);
}

export type LeaderboardMessage = z.infer<typeof LeaderboardMessageSchema>;

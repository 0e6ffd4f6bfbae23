// The few calls of the public API the load scripts make outside the hot path.
import {
  type BidReceipt,
  type CreatedUser,
  CreatedUsersSchema,
  type Session,
  SessionSchema,
} from "./api-schemas.js";
import { expectJson, type HttpClient } from "./http.js";

export interface NewSession {
  title: string;
  startsAt: string;
  endsAt: string;
  minBid: number;
  minIncrement: number;
}

export class BiddingApi {
  constructor(readonly client: HttpClient) {}

  async createUsers(adminToken: string, usernames: string[]): Promise<CreatedUser[]> {
    const response = await this.client.request("POST", "/v1/users/batch", {
      token: adminToken,
      body: { usernames },
    });
    return expectJson(response, 201, CreatedUsersSchema, "POST /v1/users/batch").users;
  }

  async createSession(adminToken: string, session: NewSession): Promise<Session> {
    const response = await this.client.request("POST", "/v1/sessions", { token: adminToken, body: session });
    return expectJson(response, 201, SessionSchema, "POST /v1/sessions");
  }

  async session(sessionId: string): Promise<Session> {
    const response = await this.client.request("GET", `/v1/sessions/${sessionId}`);
    return expectJson(response, 200, SessionSchema, `GET /v1/sessions/${sessionId}`);
  }
}

/** The first amount every user may bid: above any live bid in the session, however it got there. */
export function firstRaise(session: Session): number {
  return Math.max(session.minBid, (session.highestBid ?? 0) + session.minIncrement);
}

export type { BidReceipt, Session };

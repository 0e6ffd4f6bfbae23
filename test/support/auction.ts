// Sessions with auction rules, as the admin route creates them, and what the tests read of them.
import { expect } from "vitest";
import { BidReceiptSchema, ResultsSchema, SessionSchema } from "../../src/api/contract";
import { adminToken, call, type Session, tokenFor, uniqueName } from "./api";
import type { Watcher } from "./live";

const SECOND = 1000;
const HOUR = 3_600 * SECOND;
export const iso = (ms: number) => new Date(ms).toISOString();

/** A session body as the admin route takes it: open since a minute, an hour to go, unless `fields` say otherwise. */
export function auctionBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now();
  return {
    title: `Auction ${uniqueName()}`,
    startsAt: iso(now - 60 * SECOND),
    endsAt: iso(now + HOUR),
    minBid: 100,
    minIncrement: 10,
    ...fields,
  };
}

export async function createAuction(fields: Record<string, unknown> = {}): Promise<Session> {
  const res = await call("POST", "/v1/sessions", {
    token: await adminToken(),
    body: auctionBody(fields),
    schema: SessionSchema,
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** The session as anyone (or the holder of `token`) reads it. */
export async function readAuction(id: string, token?: string): Promise<Session> {
  const res = await call("GET", `/v1/sessions/${id}`, { token, schema: SessionSchema });
  expect(res.status).toBe(200);
  return res.body;
}

/** The session without the fields that move with the clock. */
export async function stableView(id: string): Promise<Omit<Session, "serverTime" | "endsInMs">> {
  const {
    serverTime: _serverTime,
    endsInMs: _endsInMs,
    ...stable
  } = await readAuction(id, await adminToken());
  return stable;
}

export async function maxBid(sessionId: string, userId: number, maxAmount: number) {
  return call("POST", `/v1/sessions/${sessionId}/bids`, {
    token: await tokenFor(userId, "user"),
    body: { maxAmount },
    schema: BidReceiptSchema,
  });
}

export async function patchSession(id: string, body: Record<string, unknown>) {
  return call("PATCH", `/v1/sessions/${id}`, { token: await adminToken(), body, schema: SessionSchema });
}

/** Ends the session now, as an admin's PATCH does. */
export async function endNow(id: string): Promise<Session> {
  const res = await patchSession(id, { endsAt: iso(Date.now()) });
  expect(res.status).toBe(200);
  return res.body;
}

export const resultsOf = (id: string) => call("GET", `/v1/sessions/${id}/results`, { schema: ResultsSchema });

/** The types of the watcher's messages, in arrival order. */
export const typesOf = (watcher: Watcher) => watcher.messages.map((m) => m.message.type);

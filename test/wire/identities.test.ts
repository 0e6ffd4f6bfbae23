// A known provider identity needs no SQL and survives a PostgreSQL outage;
// a new one waits for the database (API.md v1.2, "Identities"). Through the
// wire proxy, which counts the statements reaching PostgreSQL and can be
// switched off.
import { afterEach, describe, expect, inject, it } from "vitest";
import { BidReceiptSchema, MeSchema } from "../../src/api/contract";
import { identityCacheKey } from "../../src/users/identity-cache";
import { IDENTITY_RECHECK_MS, recentIdentities } from "../../src/users/identity-users";
import { call, createSession, type Session } from "../support/api";
import { fireAlarm } from "../support/objects";
import { personToken, providerKeys } from "../support/provider-tokens";
import { databaseDown, databaseUp, statementsDuring } from "../support/wire";

const withCache = inject("upstashUrl") !== "";

afterEach(async () => {
  await databaseUp();
});

/** A provider person of this test alone; every request signs a fresh token, so only the identity is known. */
function person() {
  const subject = `auth0|${crypto.randomUUID()}`;
  const identity = { issuer: providerKeys().issuer, subject };
  let amount = 100;
  return {
    identity,
    bid: async (session: Session) => {
      amount += 1;
      return call("POST", `/v1/sessions/${session.id}/bids`, {
        token: await personToken("rsa", subject),
        body: { amount },
        schema: BidReceiptSchema,
      });
    },
    myBid: async (session: Session) =>
      call("GET", `/v1/sessions/${session.id}/bids/me`, { token: await personToken("ec", subject) }),
    me: async () => call("GET", "/v1/me", { token: await personToken("ec", subject), schema: MeSchema }),
  };
}

async function forgetInSharedCache(identity: { issuer: string; subject: string }) {
  if (!withCache) return;
  const res = await fetch(inject("upstashUrl"), {
    method: "POST",
    headers: { Authorization: `Bearer ${inject("upstashToken")}` },
    body: JSON.stringify(["DEL", identityCacheKey(inject("cacheNamespace"), identity)]),
  });
  expect(res.ok).toBe(true);
}

describe("a known identity", () => {
  it("costs no SQL statement per request", async () => {
    const session = await createSession({ minIncrement: 1 });
    const bidder = person();
    // First sight creates the user; the first bid makes it known to the session.
    expect((await bidder.bid(session)).status).toBe(201);
    // Flushed now, so no flush of that bid lands among the requests counted.
    await fireAlarm(session.id);

    let requests = 0;
    const statements = await statementsDuring(async () => {
      for (let i = 0; i < 5; i++) {
        expect((await bidder.bid(session)).status).toBe(201);
        expect((await bidder.myBid(session)).status).toBe(200);
        requests += 2;
      }
    });
    expect(requests).toBe(10);
    expect(statements).toBe(0);
  });

  it.skipIf(!withCache)("in a new isolate costs no SQL either: the shared cache knows it", async () => {
    const session = await createSession({ minIncrement: 1 });
    const bidder = person();
    expect((await bidder.bid(session)).status).toBe(201);
    await fireAlarm(session.id);
    recentIdentities.forget(bidder.identity);
    const statements = await statementsDuring(async () => {
      expect((await bidder.bid(session)).status).toBe(201);
    });
    expect(statements).toBe(0);
  });

  it("keeps placing bids while PostgreSQL is down", async () => {
    const session = await createSession({ minIncrement: 1 });
    const untried = await createSession({ minIncrement: 1 });
    const bidder = person();
    const first = await bidder.bid(session);
    expect(first.status).toBe(201);

    await databaseDown();
    for (let i = 0; i < 3; i++) {
      const res = await bidder.bid(session);
      expect(res.status).toBe(201);
      expect(res.body.userId).toBe(first.body.userId);
    }
    // A session it never bid in must learn that the user exists: from the name this isolate (and the
    // cache, if any) learnt when the token created the user.
    const elsewhere = await bidder.bid(untried);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.userId).toBe(first.body.userId);
  });

  it("keeps its user while PostgreSQL is down even when this isolate is due to check it again", async () => {
    const session = await createSession({ minIncrement: 1 });
    const bidder = person();
    const first = await bidder.bid(session);
    expect(first.status).toBe(201);
    // The Worker's own memory (same isolate as this test) knows it…
    expect(recentIdentities.recall(bidder.identity, Date.now())).toEqual({
      userId: first.body.userId,
      fresh: true,
    });
    // …as if learnt longer ago than the recheck interval, and gone from the shared cache.
    recentIdentities.remember(bidder.identity, first.body.userId, Date.now() - IDENTITY_RECHECK_MS - 1_000);
    await forgetInSharedCache(bidder.identity);

    await databaseDown();
    const res = await bidder.bid(session);
    expect(res.status).toBe(201);
    expect(res.body.userId).toBe(first.body.userId);
  });
});

describe("a new identity while PostgreSQL is down", () => {
  it("gets 503 database_unavailable with Retry-After, and its user once the database is back", async () => {
    const bidder = person();
    await databaseDown();
    const refused = await bidder.me();
    expect(refused.status).toBe(503);
    expect(refused.problem.code).toBe("database_unavailable");
    expect(refused.headers.get("Retry-After")).toBe("5");

    await databaseUp();
    const self = await bidder.me();
    expect(self.status).toBe(200);
    expect(self.body.identities).toEqual([bidder.identity]);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { SessionSchema } from "../../src/api/contract";
import { adminToken, bid, call, createUsers, tokenFor, uniqueName } from "../support/api";
import { fireAlarm, sessionStub } from "../support/objects";
import {
  eventOf,
  forSession,
  hasValidSignature,
  planReceiver,
  receivedUntil,
  receiverPath,
  subscribe,
  unsubscribe,
  webhookStatus,
} from "../support/webhooks";

const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function only<T>(items: readonly T[]): T {
  const [item] = items;
  if (item === undefined) throw new Error("nothing there");
  return item;
}

async function createAuction(fields: Record<string, unknown> = {}) {
  const now = Date.now();
  const res = await call("POST", "/v1/sessions", {
    token: await adminToken(),
    body: {
      title: `Webhooks ${uniqueName()}`,
      startsAt: iso(now - 60_000),
      endsAt: iso(now + 3_600_000),
      minBid: 100,
      minIncrement: 10,
      ...fields,
    },
    schema: SessionSchema,
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** A bids 100 and B outbids them with 200: one `bid.outbid` event, for A. */
async function outbidOnce(sessionId: string) {
  const [a, b] = await createUsers(2);
  if (!a || !b) throw new Error("users");
  await bid(sessionId, a.id, 100);
  await bid(sessionId, b.id, 200);
  return { outbid: a };
}

async function outboxSize(sessionId: string): Promise<number> {
  return runInDurableObject(sessionStub(sessionId), async (_instance, state) => {
    const [row] = state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").toArray();
    return row?.n ?? 0;
  });
}

// Subscriptions see every session's events: each test removes its own.
const subscriptions: string[] = [];
afterEach(async () => {
  for (const id of subscriptions.splice(0)) await unsubscribe(id);
});

async function subscribed(path: string, events: string[]) {
  const created = await subscribe(path, events);
  subscriptions.push(created.id);
  return created;
}

describe("webhook subscriptions", () => {
  it("shows the secret once, lists endpoints without it, deletes them", async () => {
    const path = receiverPath();
    const created = await subscribed(path, ["session.ended"]);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const res = await call("GET", "/v1/webhooks", { token: await adminToken() });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(created.secret);
    expect(await webhookStatus(created.id)).toMatchObject({
      events: ["session.ended"],
      delivery: { lastAttemptAt: null, delivered: 0, failedAttempts: 0, deadLettered: 0 },
    });
    const user = await call("GET", "/v1/webhooks", { token: await tokenFor(5, "user") });
    expect(user.status).toBe(403);
    const missing = await call("DELETE", `/v1/webhooks/${crypto.randomUUID()}`, {
      token: await adminToken(),
    });
    expect(missing.status).toBe(404);
  });

  it.each([
    "https://10.0.0.1/hook",
    "https://192.168.1.20/hook",
    "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://[fe80::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://0x0a000001/hook",
    "http://hooks.example.com/hook",
    "ftp://hooks.example.com/hook",
    "https://user:pass@hooks.example.com/hook",
  ])("refuses %s with 422 webhook_url_refused", async (url) => {
    const res = await call("POST", "/v1/webhooks", {
      token: await adminToken(),
      body: { url, events: ["bid.outbid"] },
    });
    expect(res.status).toBe(422);
    expect(res.problem.code).toBe("webhook_url_refused");
  });
});

describe("webhook delivery", () => {
  it("delivers every event signed, with a webhook-id that names it; never one for a refused bid", async () => {
    const path = receiverPath();
    const { secret } = await subscribed(path, ["bid.outbid", "session.extended", "session.ended"]);
    const session = await createAuction({
      endsAt: iso(Date.now() + 30_000),
      // The first bid lands in the window and moves the end two minutes out, past the window.
      softClose: { windowSeconds: 60, extendSeconds: 120 },
    });
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    expect((await bid(session.id, a.id, 100)).status).toBe(201);
    // Refused (no such user), though it would have outbid A: no event, not even in the outbox.
    const before = await outboxSize(session.id);
    expect((await bid(session.id, 987_654_321, 1_000)).status).toBe(404);
    expect(await outboxSize(session.id)).toBe(before);
    expect((await bid(session.id, b.id, 150)).status).toBe(201);

    const requests = await receivedUntil(path, (rs) => {
      const types = rs.filter(forSession(session.id)).map((r) => eventOf(r).type);
      return types.includes("bid.outbid") && types.includes("session.extended");
    });
    const ended = await call("PATCH", `/v1/sessions/${session.id}`, {
      token: await adminToken(),
      body: { endsAt: iso(Date.now()) },
    });
    expect(ended.status).toBe(200);
    await fireAlarm(session.id);
    const all = await receivedUntil(path, (rs) =>
      rs.filter(forSession(session.id)).some((r) => eventOf(r).type === "session.ended"),
    );
    const end = only(all.filter(forSession(session.id)).filter((r) => eventOf(r).type === "session.ended"));
    expect(end.headers["webhook-id"]).toBe(`evt_${session.id}_ended`);
    expect(eventOf(end).data).toMatchObject({ winners: [{ rank: 1, userId: b.id, amount: 150 }] });
    expect(await hasValidSignature(secret, end)).toBe(true);
    const mine = requests.filter(forSession(session.id));
    for (const request of mine) expect(await hasValidSignature(secret, request)).toBe(true);
    const outbid = mine.filter((r) => eventOf(r).type === "bid.outbid");
    // Only B's accepted bid displaced A, once; A's bid of 100 is what was outbid.
    expect(new Set(outbid.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(eventOf(only(outbid)).data).toMatchObject({ sessionId: session.id, userId: a.id, amount: 100 });
    expect(await hasValidSignature(`whsec_${btoa("not the secret")}`, only(outbid))).toBe(false);
  });

  it("delivers to a receiver that fails its first attempts, with the same webhook-id", async () => {
    const path = receiverPath();
    await planReceiver(path, { failFirst: 2, status: 503 });
    const created = await subscribed(path, ["bid.outbid"]);
    const session = await createAuction();
    await outbidOnce(session.id);
    const requests = await receivedUntil(path, (rs) =>
      rs.filter(forSession(session.id)).some((r) => r.status === 204),
    );
    const mine = requests.filter(forSession(session.id));
    expect(mine.map((r) => r.status)).toEqual([503, 503, 204]);
    expect(new Set(mine.map((r) => r.headers["webhook-id"])).size).toBe(1);
    // Backoff: the retries wait 1 s, then 2 s.
    const [first, second, third] = mine.map((r) => r.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(900);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(1_800);
    await expect
      .poll(async () => (await webhookStatus(created.id)).delivery, { timeout: 5_000 })
      .toMatchObject({
        delivered: 1,
        failedAttempts: 2,
        lastError: "HTTP 503",
      });
  });

  it("delivers a batch of events once each to a live endpoint while another is down; both statuses add the batch up", async () => {
    const up = receiverPath();
    const down = receiverPath();
    await planReceiver(down, { failFirst: 1_000, status: 500 });
    const live = await subscribed(up, ["bid.outbid"]);
    const failing = await subscribed(down, ["bid.outbid"]);
    const session = await createAuction();
    const users = await createUsers(11);
    // One object batch: each bid passes the one before, ten users outbid at once.
    const outcomes = await sessionStub(session.id).placeBids(
      users.map((user, i) => ({ userId: user.id, amount: 100 + 10 * i })),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const delivered = await receivedUntil(up, (rs) => rs.filter(forSession(session.id)).length >= 10);
    const mine = delivered.filter(forSession(session.id));
    expect(mine).toHaveLength(10);
    expect(new Set(mine.map((r) => r.headers["webhook-id"])).size).toBe(10);
    expect(new Set(mine.map((r) => eventOf(r).data.userId))).toEqual(
      new Set(users.slice(0, 10).map((u) => u.id)),
    );
    await expect
      .poll(async () => (await webhookStatus(live.id)).delivery, { timeout: 5_000 })
      .toMatchObject({ delivered: 10, failedAttempts: 0, lastError: null });
    await expect
      .poll(async () => (await webhookStatus(failing.id)).delivery, { timeout: 5_000 })
      .toMatchObject({
        delivered: 0,
        failedAttempts: expect.toSatisfy((n: number) => n >= 1),
        lastError: "HTTP 500",
      });
  });

  it("lets an endpoint that does not answer cost a batch one timeout, not one per delivery", async () => {
    const up = receiverPath();
    const hanging = receiverPath();
    await planReceiver(hanging, { hangMs: 5_000 });
    await subscribed(up, ["bid.outbid"]);
    const stuck = await subscribed(hanging, ["bid.outbid"]);
    const session = await createAuction();
    const users = await createUsers(21);
    const placed = Date.now();
    await sessionStub(session.id).placeBids(
      users.map((user, i) => ({ userId: user.id, amount: 100 + 10 * i })),
    );
    const delivered = await receivedUntil(up, (rs) => rs.filter(forSession(session.id)).length >= 20);
    // The live endpoint's twenty wait behind one round of timeouts (1 s here) at most.
    expect(Math.max(...delivered.filter(forSession(session.id)).map((r) => r.at)) - placed).toBeLessThan(
      4_000,
    );
    await expect
      .poll(async () => (await webhookStatus(stuck.id)).delivery.lastError, { timeout: 5_000 })
      .toBe("no answer within 1000 ms");
    // One wave of attempts, not twenty timeouts one after another.
    const tried = (await receivedUntil(hanging, () => true)).filter(forSession(session.id));
    expect(tried.length).toBeLessThanOrEqual(5);
  });

  it("sends what keeps failing to the dead-letter queue, visible in the endpoint's status", async () => {
    const path = receiverPath();
    await planReceiver(path, { failFirst: 1_000, status: 500 });
    const created = await subscribed(path, ["session.ended"]);
    const session = await createAuction({ endsAt: iso(Date.now() + 1_000) });
    await sleep(1_100);
    await fireAlarm(session.id);
    await expect
      .poll(async () => (await webhookStatus(created.id)).delivery.deadLettered, {
        timeout: 20_000,
        interval: 250,
      })
      .toBeGreaterThanOrEqual(1);
    const mine = (await receivedUntil(path, () => true)).filter(forSession(session.id));
    // Tried when the event was fanned out, then its delivery message and max_retries (2) more, all refused.
    expect(mine.map((r) => r.status)).toEqual([500, 500, 500, 500]);
  });

  it("refuses a redirect to a private address", async () => {
    const path = receiverPath();
    await planReceiver(path, { redirectTo: "https://10.1.2.3/steal" });
    const created = await subscribed(path, ["bid.outbid"]);
    const session = await createAuction();
    await outbidOnce(session.id);
    await expect
      .poll(async () => (await webhookStatus(created.id)).delivery.lastError, { timeout: 10_000 })
      .toMatch(/^redirect refused: 10\.1\.2\.3/);
  });

  it("sends the events of an object evicted before it reached the queue", async () => {
    const path = receiverPath();
    await subscribed(path, ["bid.outbid"]);
    const session = await createAuction();
    const { outbid: a } = await outbidOnce(session.id);
    // The send waits 100 ms to batch; the object is reset before, which drops it.
    expect(await outboxSize(session.id)).toBe(1);
    await runInDurableObject(sessionStub(session.id), (_instance, state) =>
      state.abort("evicted by the test"),
    ).catch(() => {});
    expect(await outboxSize(session.id)).toBe(1);
    // The flush alarm the bids set drains the outbox.
    await fireAlarm(session.id);
    expect(await outboxSize(session.id)).toBe(0);
    const requests = await receivedUntil(path, (rs) => rs.some(forSession(session.id)));
    expect(eventOf(only(requests.filter(forSession(session.id)))).data).toMatchObject({
      userId: a.id,
      amount: 100,
    });
  });
});

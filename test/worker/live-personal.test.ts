import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { type LiveMessage, watch } from "../support/live";
import { fireAlarm, sessionStub } from "../support/objects";

const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const personal = (m: LiveMessage) => m.type === "outbid" || m.type === "won" || m.type === "lost";

describe("personal messages on /live", () => {
  it("tells only the displaced user that they were outbid, at once", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    const aliceSocket = await watch(session.id, "", await tokenFor(a.id, "user"));
    const bobSocket = await watch(session.id, "", await tokenFor(b.id, "user"));
    const anonymous = await watch(session.id);
    expect((await bid(session.id, a.id, 100)).status).toBe(201);
    const sent = Date.now();
    expect((await bid(session.id, b.id, 150)).status).toBe(201);
    expect(await aliceSocket.until((m) => m.type === "outbid")).toEqual({
      type: "outbid",
      amount: 100,
      rank: 2,
    });
    const outbidAt = aliceSocket.messages.find((m) => m.message.type === "outbid")?.at ?? 0;
    expect(outbidAt - sent).toBeLessThan(250);
    await bobSocket.until((m) => m.type === "leaderboard" && m.seq === 2);
    await anonymous.until((m) => m.type === "leaderboard" && m.seq === 2);
    expect(bobSocket.messages.some((m) => personal(m.message))).toBe(false);
    expect(anonymous.messages.some((m) => personal(m.message))).toBe(false);
    for (const w of [aliceSocket, bobSocket, anonymous]) w.socket.close(1000);
  });

  it("tells a bidder passed within the same batch, whose receipt said rank 1", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    const aliceSocket = await watch(session.id, "", await tokenFor(a.id, "user"));
    const [first, second] = await sessionStub(session.id).placeBids([
      { userId: a.id, amount: 100 },
      { userId: b.id, amount: 150 },
    ]);
    expect(first?.ok && first.value.receipt.rank).toBe(1);
    expect(second?.ok && second.value.receipt.rank).toBe(1);
    expect(await aliceSocket.until((m) => m.type === "outbid")).toEqual({
      type: "outbid",
      amount: 100,
      rank: 2,
    });
    aliceSocket.socket.close(1000);
  });

  it("sends won and lost after the results, then the end", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    await bid(session.id, a.id, 100);
    await bid(session.id, b.id, 200);
    const loser = await watch(session.id, "", await tokenFor(a.id, "user"));
    const winner = await watch(session.id, "", await tokenFor(b.id, "user"));
    const anonymous = await watch(session.id);
    const ended = await call("PATCH", `/v1/sessions/${session.id}`, {
      token: await adminToken(),
      body: { endsAt: iso(Date.now()) },
    });
    expect(ended.status).toBe(200);
    await sleep(5);
    await fireAlarm(session.id);
    for (const w of [loser, winner, anonymous]) await w.closed;
    const tail = (w: typeof loser) => w.messages.map((m) => m.message.type).slice(-3);
    expect(tail(loser)).toEqual(["result", "lost", "status"]);
    expect(tail(winner)).toEqual(["result", "won", "status"]);
    expect(winner.messages.find((m) => m.message.type === "won")?.message).toEqual({
      type: "won",
      amount: 200,
      rank: 1,
    });
    expect(anonymous.messages.some((m) => personal(m.message))).toBe(false);
    expect(anonymous.messages.at(-1)?.message).toEqual({ type: "status", status: "ended" });
  });

  it.each([
    [
      "a bad signature",
      async () => `bearer, bearer.${await tokenFor(1, "user", { secret: "not-the-secret" })}`,
    ],
    [
      "an expired token",
      async () => `bearer, bearer.${await tokenFor(1, "user", { expiresInSeconds: -60 })}`,
    ],
    ["a token without the bearer subprotocol", async () => `bearer.${await tokenFor(1, "user")}`],
    ["bearer without a token", async () => "bearer"],
  ])("refuses %s before the upgrade with a 401 problem", async (_name, protocols) => {
    const session = await createSession();
    const res = await exports.default.fetch(`http://bidding.test/v1/sessions/${session.id}/live`, {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": await protocols() },
    });
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
  });
});

import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminToken, bid, call, createSession, createUsers } from "../support/api";
import { type LiveBoardMessage, watch } from "../support/live";
import { fireAlarm, sessionStub, statsOf } from "../support/objects";

const isBoard = (m: { type: string }): m is LiveBoardMessage => m.type === "leaderboard";

describe("GET /v1/sessions/{id}/live", () => {
  it("sends the board on connect, then coalesced updates that reflect new bids", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(5);
    const [first] = users;
    if (!first) throw new Error("users");
    await bid(session.id, first.id, 100);
    const watcher = await watch(session.id);
    const initial = await watcher.until(isBoard);
    expect(initial).toMatchObject({ type: "leaderboard", seq: 1, total: 1, status: "active" });
    expect(isBoard(initial) && initial.entries[0]?.username).toBe(first.username);

    // 25 raises as fast as the object takes them.
    let lastSeq = 1;
    for (let i = 0; i < 25; i++) {
      const user = users[i % users.length];
      if (!user) throw new Error("users");
      const res = await bid(session.id, user.id, 200 + i);
      if (res.status === 201) lastSeq = res.body.seq;
    }
    const latest = await watcher.until((m) => isBoard(m) && m.seq === lastSeq);
    expect(isBoard(latest) && latest.entries[0]?.amount).toBe(224);

    const boards = watcher.messages.filter((m) => isBoard(m.message));
    expect(boards.length).toBeLessThan(26);
    for (let i = 1; i < boards.length; i++) {
      const gap = (boards[i]?.at ?? 0) - (boards[i - 1]?.at ?? 0);
      // The server spaces messages 250 ms apart by its clock; allow for delivery jitter.
      expect(gap).toBeGreaterThanOrEqual(200);
    }
    expect((await statsOf(session.id)).openSockets).toBe(1);
    watcher.socket.close(1000);
  });

  it("keeps the socket across hibernation", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const watcher = await watch(session.id);
    await watcher.until(isBoard);
    await evictDurableObject(sessionStub(session.id), { webSockets: "hibernate" });

    const res = await bid(session.id, user.id, 700);
    expect(res.status).toBe(201);
    const update = await watcher.until((m) => isBoard(m) && m.seq === res.body.seq);
    expect(isBoard(update) && update.entries[0]).toMatchObject({
      userId: user.id,
      amount: 700,
      username: user.username,
    });
    watcher.socket.close(1000);
  });

  it("tells watchers the session ended and closes normally", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    await bid(session.id, user.id, 100);
    const watcher = await watch(session.id);
    await watcher.until(isBoard);
    await call("PATCH", `/v1/sessions/${session.id}`, {
      token: await adminToken(),
      body: { endsAt: new Date().toISOString() },
    });
    await fireAlarm(session.id);
    expect(await watcher.until((m) => m.type === "status")).toEqual({ type: "status", status: "ended" });
    expect((await watcher.closed).code).toBe(1000);
  });

  it("answers 426 to a request that is not a WebSocket upgrade, 404 for an unknown session", async () => {
    const session = await createSession();
    const plain = await call("GET", `/v1/sessions/${session.id}/live`);
    expect(plain.status).toBe(426);
    expect(plain.headers.get("Content-Type")).toContain("application/problem+json");
    expect(plain.problem.code).toBe("upgrade_required");
    await expect(watch(crypto.randomUUID())).rejects.toThrow(/404/);
  });
});

describe("the cap on live sockets per session", () => {
  it("refuses the upgrade past LIVE_SOCKETS_PER_SESSION with a 503 problem, and takes one again once a socket closes", async () => {
    const session = await createSession();
    const limit = Number(env.LIVE_SOCKETS_PER_SESSION);
    const watchers = await Promise.all(Array.from({ length: limit }, () => watch(session.id)));
    const refused = await exports.default.fetch(`http://bidding.test/v1/sessions/${session.id}/live`, {
      headers: { Upgrade: "websocket" },
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    expect(refused.headers.get("Retry-After")).toBe("30");
    expect(await refused.json()).toMatchObject({ code: "service_unavailable" });
    // Another session is not affected.
    const other = await createSession();
    (await watch(other.id)).socket.close(1000);

    const [first] = watchers;
    first?.socket.close(1000);
    await first?.closed;
    await expect.poll(async () => (await statsOf(session.id)).openSockets).toBe(limit - 1);
    const again = await watch(session.id);
    for (const watcher of [again, ...watchers.slice(1)]) watcher.socket.close(1000);
  });
});

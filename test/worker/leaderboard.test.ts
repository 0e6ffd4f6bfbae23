import { describe, expect, it } from "vitest";
import { LeaderboardSchema } from "../../src/api/contract";
import { bid, call, createSession, createUsers } from "../support/api";

const board = (id: string, query = "") =>
  call("GET", `/v1/sessions/${id}/leaderboard${query}`, { schema: LeaderboardSchema });

describe("GET /v1/sessions/{id}/leaderboard", () => {
  it("orders by amount, equal amounts by who reached them first, with usernames", async () => {
    const session = await createSession({ minBid: 100, minIncrement: 10 });
    const [a, b, c, d] = await createUsers(4);
    if (!a || !b || !c || !d) throw new Error("users");
    await bid(session.id, a.id, 300);
    await bid(session.id, b.id, 500);
    await bid(session.id, c.id, 300);
    await bid(session.id, d.id, 200);
    await bid(session.id, d.id, 500); // d reaches 500 after b

    const res = await board(session.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sessionId: session.id, status: "active", total: 4 });
    expect(res.body.entries.map((e) => [e.rank, e.username, e.amount])).toEqual([
      [1, b.username, 500],
      [2, d.username, 500],
      [3, a.username, 300],
      [4, c.username, 300],
    ]);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=1");
  });

  it("honours limit from 1 to 100 and defaults to 50", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(60);
    await Promise.all(users.map((u, i) => bid(session.id, u.id, 100 + i)));
    expect((await board(session.id)).body.entries).toHaveLength(50);
    expect((await board(session.id, "?limit=1")).body.entries.map((e) => e.amount)).toEqual([159]);
    const all = await board(session.id, "?limit=100");
    expect(all.body.entries).toHaveLength(60);
    expect(all.body.total).toBe(60);
  });

  it.each(["0", "101", "-1", "1.5", "abc", ""])("answers 400 for limit=%s", async (limit) => {
    const session = await createSession();
    const res = await call("GET", `/v1/sessions/${session.id}/leaderboard?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.problem.code).toBe("invalid_request");
    expect(res.problem.detail).toContain("limit");
  });

  it("answers 404 for an unknown session and caches a finished board longer", async () => {
    expect((await board(crypto.randomUUID())).status).toBe(404);
    const ended = await createSession({
      startsAt: new Date(Date.now() - 7_200_000).toISOString(),
      endsAt: new Date(Date.now() - 3_600_000).toISOString(),
    });
    const res = await board(ended.id);
    expect(res.body).toMatchObject({ status: "ended", total: 0, entries: [] });
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
  });
});

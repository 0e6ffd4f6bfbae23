// The history while PostgreSQL is unreachable (the wire proxy switched off):
// what the object holds is served as usual, what only PostgreSQL holds is a
// 503 problem, and everything is whole again once it is back.
import { afterEach, describe, expect, it } from "vitest";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { historyPage, pruneFlushed, wholeHistory } from "../support/history";
import { fireAlarm, statsOf } from "../support/objects";
import { databaseDown, databaseUp } from "../support/wire";

afterEach(async () => {
  await databaseUp();
});

describe("the history while PostgreSQL is down", () => {
  it("serves the pages the object holds, answers 503 for older ones, and is complete once PostgreSQL is back", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(3);
    // First bids need the user directory; later ones only the object.
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 100 + i);
    await fireAlarm(session.id);
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 200 + i);

    await databaseDown();
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 300 + i);
    // Flushed bids still held by the object, and the pending ones: all of it, PostgreSQL or not.
    const whileDown = await historyPage(session.id, 0, 100, await adminToken());
    expect(whileDown.bids.map((b) => [b.seq, b.amount])).toEqual([
      [1, 100],
      [2, 101],
      [3, 102],
      [4, 200],
      [5, 201],
      [6, 202],
      [7, 300],
      [8, 301],
      [9, 302],
    ]);
    expect(whileDown.bids.map((b) => b.username)).toEqual(
      [...users, ...users, ...users].map((u) => u.username),
    );

    // Once the object has let its copy of the flushed rows go, those are PostgreSQL's alone.
    await pruneFlushed(session.id);
    const older = await call("GET", `/v1/sessions/${session.id}/bids?after=0`);
    expect([older.status, older.problem.code]).toEqual([503, "database_unavailable"]);
    expect(older.headers.get("Retry-After")).toBe("5");
    const csv = await call("GET", `/v1/sessions/${session.id}/bids.csv`, { token: await adminToken() });
    expect([csv.status, csv.problem.code]).toEqual([503, "database_unavailable"]);
    // The part after the flush watermark is the object's: served.
    const { flushedSeq } = await statsOf(session.id);
    expect(flushedSeq).toBe(3);
    const recent = await historyPage(session.id, flushedSeq, 100);
    expect(recent.bids.map((b) => b.seq)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(recent.nextAfter).toBeNull();

    // The lists are PostgreSQL's: 503 problems, never 500s.
    for (const [path, token] of [
      ["/v1/sessions", undefined],
      ["/v1/sessions?status=active", undefined],
      ["/v1/me/bids", await tokenFor(users[0]?.id ?? 0, "user")],
    ] as const) {
      const res = await call("GET", path, { token });
      expect([path, res.status, res.problem.code]).toEqual([path, 503, "database_unavailable"]);
    }

    await databaseUp();
    const all = await wholeHistory(session.id, 2);
    expect(all.map((b) => b.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // A flush after the outage changes nothing in what the history shows.
    await fireAlarm(session.id);
    await pruneFlushed(session.id);
    expect(await wholeHistory(session.id, 4)).toEqual(all);
  });

  it("keeps serving a session's pending history when the object must not reach PostgreSQL at all", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [u] = await createUsers(1);
    if (!u) throw new Error("users");
    await bid(session.id, u.id, 100);
    await databaseDown();
    for (let i = 1; i <= 5; i += 1) await bid(session.id, u.id, 100 + i);
    const page = await historyPage(session.id, 0, 3);
    expect([page.bids.map((b) => b.seq), page.nextAfter]).toEqual([[1, 2, 3], 3]);
    const rest = await historyPage(session.id, 3, 3);
    expect([rest.bids.map((b) => b.seq), rest.nextAfter]).toEqual([[4, 5, 6], null]);
  });
});

import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { LeaderboardSchema } from "../../src/api/contract";
import { watchDataPoints } from "../support/analytics";
import { bid, call, createSession, createUsers, uniqueName } from "../support/api";
import { queryRows } from "../support/corpus";
import { readSessionFromPostgres } from "../support/database";
import { fireAlarm, statsOf } from "../support/objects";
import { databaseDown, databaseUp } from "../support/wire";

afterEach(async () => {
  await databaseUp();
});

describe("PostgreSQL unreachable", () => {
  it("keeps accepting bids, keeps them pending through failed flushes, and flushes them once it is back", async () => {
    const dataPoints = watchDataPoints();
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(3);
    // First bids make the users known to the session; later bids need no database.
    for (const u of users) expect((await bid(session.id, u.id, 100)).status).toBe(201);

    await databaseDown();
    for (const [i, u] of users.entries()) expect((await bid(session.id, u.id, 200 + i)).status).toBe(201);

    const started = Date.now();
    expect(await fireAlarm(session.id)).toBe(true);
    const failedOnce = await statsOf(session.id);
    expect(failedOnce).toMatchObject({ pendingBids: 6, consecutiveFlushFailures: 1, totalFlushFailures: 1 });
    expect(failedOnce.lastFlushError).toBeTruthy();
    // The handler re-arms the alarm itself, backing off: 5 s, then 10 s…
    const firstRetry = Date.parse(failedOnce.nextAlarmAt ?? "") - started;
    expect(firstRetry).toBeGreaterThanOrEqual(4_000);

    expect(dataPoints.for(session.id)).toContainEqual(
      expect.objectContaining({ blobs: ["flush", "failed"], doubles: [6, expect.any(Number)] }),
    );

    await fireAlarm(session.id);
    const failedTwice = await statsOf(session.id);
    expect(failedTwice.consecutiveFlushFailures).toBe(2);
    expect(Date.parse(failedTwice.nextAlarmAt ?? "") - Date.now()).toBeGreaterThan(firstRetry + 3_000);

    await databaseUp();
    expect(await fireAlarm(session.id)).toBe(true);
    expect(await statsOf(session.id)).toMatchObject({
      pendingBids: 0,
      consecutiveFlushFailures: 0,
      totalFlushFailures: 2,
    });
    const points = dataPoints.for(session.id);
    dataPoints.stop();
    expect(points).toContainEqual(
      expect.objectContaining({ blobs: ["flush", "ok"], doubles: [6, expect.any(Number)] }),
    );
    expect(points.filter((p) => p.blobs?.[0] === "bid" && p.blobs[1] === "accepted")).toHaveLength(6);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events).toHaveLength(6);
    expect(stored.bids.map((b) => b.amount).sort()).toEqual([200, 201, 202]);
  });

  it("takes a new user's first bid on the name it learnt when the user was created, and refuses one nobody knows with 503", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    // Created behind the API's back: neither this isolate nor the cache has heard of this one.
    const [stranger] = await queryRows(
      sql`INSERT INTO users (username) VALUES (${uniqueName()}) RETURNING id`,
    );
    const strangerId = z.object({ id: z.coerce.number() }).parse(stranger).id;
    await call("GET", `/v1/sessions/${session.id}`); // loaded before the outage
    await databaseDown();
    // Creating the user taught the isolate (and the cache) the name, which proves the user exists.
    expect((await bid(session.id, user.id, 100)).status).toBe(201);
    const res = await bid(session.id, strangerId, 110);
    expect(res.status).toBe(503);
    expect(res.problem.code).toBe("database_unavailable");
    expect(res.headers.get("Retry-After")).toBeTruthy();
  });

  it("still serves the leaderboard, with the names the object learnt at each first bid", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    await bid(session.id, user.id, 250);
    await databaseDown();
    const res = await call("GET", `/v1/sessions/${session.id}/leaderboard`, { schema: LeaderboardSchema });
    expect(res.status).toBe(200);
    expect(res.body.entries).toEqual([
      expect.objectContaining({
        userId: user.id,
        amount: 250,
        username: user.username,
      }),
    ]);
  });

  it("answers 503 problem documents, not 500s, on routes that need it", async () => {
    await databaseDown();
    const res = await call("GET", "/v1/users/1");
    expect(res.status).toBe(503);
    expect(res.problem.code).toBe("database_unavailable");
    const unknown = await call("GET", `/v1/sessions/${crypto.randomUUID()}`);
    expect(unknown.status).toBe(503);
  });
});

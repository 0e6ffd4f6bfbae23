import { describe, expect, it } from "vitest";
import { SessionStatsSchema } from "../../src/api/contract";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { fireAlarm } from "../support/objects";

const stats = async (id: string) =>
  (await call("GET", `/v1/sessions/${id}/stats`, { token: await adminToken(), schema: SessionStatsSchema }))
    .body;

describe("GET /v1/sessions/{id}/stats", () => {
  it("shows bids pending and ageing, then flushed", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(3);
    const fresh = await stats(session.id);
    expect(fresh).toMatchObject({
      pendingBids: 0,
      oldestPendingAgeMs: null,
      totalFlushed: 0,
      lastFlushAt: null,
    });

    for (const u of users) await bid(session.id, u.id, 100);
    const pending = await stats(session.id);
    expect(pending).toMatchObject({ seq: 3, pendingBids: 3, openSockets: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const older = await stats(session.id);
    expect(older.oldestPendingAgeMs ?? 0).toBeGreaterThan(pending.oldestPendingAgeMs ?? 0);

    await fireAlarm(session.id);
    const flushed = await stats(session.id);
    expect(flushed).toMatchObject({
      pendingBids: 0,
      flushedSeq: 3,
      totalFlushed: 3,
      lastFlushRows: 3,
      consecutiveFlushFailures: 0,
      oldestPendingAgeMs: null,
    });
    expect(flushed.lastFlushDurationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(flushed.lastFlushAt ?? "")).toBeGreaterThan(Date.now() - 10_000);
  });

  it("is for admins only", async () => {
    const session = await createSession();
    expect((await call("GET", `/v1/sessions/${session.id}/stats`)).status).toBe(401);
    const asUser = await call("GET", `/v1/sessions/${session.id}/stats`, {
      token: await tokenFor(9, "user"),
    });
    expect(asUser.status).toBe(403);
  });
});

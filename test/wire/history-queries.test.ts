// SQL statements per page of the discovery and history routes, counted on the
// wire in front of PostgreSQL, as for the leaderboard.
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MyBidsSchema, SessionListSchema, SessionSchema } from "../../src/api/contract";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { queryRows } from "../support/corpus";
import { historyPage, pruneFlushed, seedFlushedHistory } from "../support/history";
import { fireAlarm, statsOf } from "../support/objects";
import { statementsDuring, wireCounters } from "../support/wire";

/** This project's connections PostgreSQL holds open, the asking one left out. */
async function openConnections(): Promise<number> {
  const rows = await queryRows(sql`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE application_name = ${env.PG_APPLICATION_NAME} AND pid <> pg_backend_pid()`);
  return z.array(z.object({ n: z.number() })).parse(rows)[0]?.n ?? 0;
}

describe("SQL statements per page", () => {
  it("GET /v1/sessions: one per page, whatever the status and the cursor", async () => {
    for (let i = 0; i < 3; i += 1) await createSession();
    for (const status of ["", "status=active&", "status=scheduled&", "status=ended&"]) {
      let cursor: string | null = null;
      for (let page = 0; page < 2; page += 1) {
        const path = `/v1/sessions?${status}limit=1${cursor ? `&cursor=${cursor}` : ""}`;
        let next: string | null = null;
        const statements = await statementsDuring(async () => {
          next = (await call("GET", path, { schema: SessionListSchema })).body.nextCursor;
        });
        expect([path, statements]).toEqual([path, 1]);
        cursor = next;
        if (cursor === null) break;
      }
    }
  });

  it("GET /v1/me/bids: one per page, and one more on the first while the caller has recent first bids", async () => {
    const [me] = await createUsers(1);
    if (!me) throw new Error("users");
    for (let i = 0; i < 3; i += 1) {
      const s = await createSession();
      await bid(s.id, me.id, 100);
      await fireAlarm(s.id);
    }
    const token = await tokenFor(me.id, "user");
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path = `/v1/me/bids?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      let next: string | null = null;
      const statements = await statementsDuring(async () => {
        next = (await call("GET", path, { token, schema: MyBidsSchema })).body.nextCursor;
      });
      // Which of the sessions my recent first bids name (cache or isolate memory) PostgreSQL has no bid of mine in yet.
      const firstBidsCheck = pages === 0 ? 1 : 0;
      expect(statements).toBe(1 + firstBidsCheck);
      cursor = next;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(2);
  });

  it("GET /v1/sessions/{id}/bids: none while the object holds the page, one when PostgreSQL serves part of it", async () => {
    // Four units for four bidders: nobody is outbid, so no webhook event's delivery adds statements of its own.
    const session = (
      await call("POST", "/v1/sessions", {
        token: await adminToken(),
        body: {
          title: "Four lots",
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          minBid: 100,
          minIncrement: 1,
          units: 4,
        },
        schema: SessionSchema,
      })
    ).body;
    const users = await createUsers(4);
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 100 + i);
    const admin = await adminToken();
    // Pending: the object alone.
    expect(await statementsDuring(() => historyPage(session.id, 0, 100))).toBe(0);
    expect(await statementsDuring(() => historyPage(session.id, 0, 100, admin))).toBe(0);
    await fireAlarm(session.id);
    // Flushed but still held by the object (two minutes): still the object alone.
    expect(await statementsDuring(() => historyPage(session.id, 0, 100))).toBe(0);
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 200 + i);
    expect(await statsOf(session.id)).toMatchObject({ seq: 8, flushedSeq: 4 });
    expect(await statementsDuring(() => historyPage(session.id, 0, 100))).toBe(0);
    // Pruned: PostgreSQL serves seqs 1-4 and the object the rest, in one statement; a page after them, none.
    await pruneFlushed(session.id);
    expect(await statementsDuring(() => historyPage(session.id, 0, 100))).toBe(1);
    expect(await statementsDuring(() => historyPage(session.id, 0, 100, admin))).toBe(1);
    expect(await statementsDuring(() => historyPage(session.id, 4, 100))).toBe(0);
    // Flushed now, so its alarm does not fire into the next test's counts.
    await fireAlarm(session.id);
  });

  it("a session of 10,000 flushed bids: one per history page, one per CSV page on a single connection, read as the client reads", async () => {
    const session = await createSession();
    const users = await createUsers(100);
    await seedFlushedHistory(session.id, users, 10_000, Date.now() - 60_000, 50);
    const admin = await adminToken();
    for (const [after, token] of [
      [0, undefined],
      [5_000, undefined],
      [0, admin],
    ] as const) {
      const statements = await statementsDuring(() => historyPage(session.id, after, 500, token));
      expect([after, token === undefined ? "public" : "admin", statements]).toEqual([
        after,
        token === undefined ? "public" : "admin",
        1,
      ]);
    }
    // The last 50 are the object's: a page across the boundary is one statement, one inside it none.
    expect(["across", await statementsDuring(() => historyPage(session.id, 9_900, 100))]).toEqual([
      "across",
      1,
    ]);
    expect(["inside", await statementsDuring(() => historyPage(session.id, 9_950, 50))]).toEqual([
      "inside",
      0,
    ]);

    const before = await wireCounters();
    const response = await exports.default.fetch(`http://bidding.test/v1/sessions/${session.id}/bids.csv`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    await reader.read();
    // The first page, and at most the one queued behind it: nothing runs ahead of the reader.
    const early = await wireCounters();
    expect(early.statements - before.statements).toBeLessThanOrEqual(2);
    let rows = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rows += new TextDecoder().decode(chunk.value).split("\r\n").length - 1;
    }
    const after = await wireCounters();
    // 5 pages of 2,000 rows; the last 50 rows come from the object, so the fifth page is PostgreSQL's in part.
    expect(["csv statements", after.statements - before.statements]).toEqual(["csv statements", 5]);
    expect(["csv connections", after.connections - before.connections]).toEqual(["csv connections", 1]);
    expect(rows).toBeGreaterThan(9_000);
  }, 120_000);

  it("a cancelled CSV download stops reading and lets its connection go", async () => {
    const session = await createSession();
    const users = await createUsers(20);
    await seedFlushedHistory(session.id, users, 8_000, Date.now() - 60_000, 20);
    const open = await openConnections();
    const before = await wireCounters();
    const response = await exports.default.fetch(`http://bidding.test/v1/sessions/${session.id}/bids.csv`, {
      headers: { Authorization: `Bearer ${await adminToken()}` },
    });
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    await reader.read();
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await wireCounters();
    expect(after.statements - before.statements).toBeLessThanOrEqual(2);
    expect(await openConnections()).toBe(open);
  });
});

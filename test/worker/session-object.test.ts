import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BidHistorySchema, LeaderboardSchema, SessionSchema } from "../../src/api/contract";
import { storeMigrations } from "../../src/objects/store-migrations";
import { adminToken, bid, call, createSession, createUsers } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { watch } from "../support/live";
import { fireAlarm, sessionStub, statsOf } from "../support/objects";

const inObject = <T>(id: string, work: (sql: SqlStorage) => T) =>
  runInDurableObject(sessionStub(id), (_instance, state) => work(state.storage.sql));

const rows = (sql: SqlStorage, query: string) => sql.exec(query).toArray();

/** Puts users in the object's own username table, as their first bids would have. */
function rememberUsers(sql: SqlStorage, ...users: { id: number; username: string }[]): void {
  for (const user of users) sql.exec("INSERT INTO known_users VALUES (?, ?)", user.id, user.username);
}

/** Rewrites an object's storage as the first released version left it: version-1 tables, no version row. */
function rewriteAsVersion1(
  sql: SqlStorage,
  session: { id: string; title: string; startsAt: string; endsAt: string },
  flushRecord: Record<string, unknown>,
  endsAt = Date.parse(session.endsAt),
): void {
  const tables = rows(sql, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'");
  for (const { name } of tables) sql.exec(`DROP TABLE "${String(name)}"`);
  sql.exec(storeMigrations[0] ?? "");
  const started = Date.parse(session.startsAt);
  sql.exec(
    "INSERT INTO session VALUES (?, ?, ?, ?, 100, 1, ?, 1)",
    session.id,
    session.title,
    started,
    endsAt,
    started,
  );
  sql.exec("INSERT INTO flush_record VALUES (1, ?)", JSON.stringify(flushRecord));
}

describe("the session object's own schema", () => {
  it("upgrades an object created before versioning in place, its bids intact", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [alice, bob] = await createUsers(2);
    if (!alice || !bob) throw new Error("users");
    const started = Date.parse(session.startsAt);
    // Rewrite the object's storage as the first released version left it: the
    // version-1 tables with no version row, two pending bids, and the end
    // marker inside the flush record.
    await inObject(session.id, (sql) => {
      rewriteAsVersion1(sql, session, {
        flushedSeq: 0,
        flushedVersion: 1,
        flushedTotal: 0,
        endHandledAt: null,
      });
      for (const [seq, user, amount] of [
        [1, alice.id, 100],
        [2, bob.id, 120],
      ] as const) {
        sql.exec("INSERT INTO live_bids VALUES (?, ?, ?, 1, ?)", user, amount, seq, started + seq);
        sql.exec("INSERT INTO pending_bids VALUES (?, ?, ?, ?)", seq, user, amount, started + seq);
      }
      rememberUsers(sql, alice, bob);
    });
    await evictDurableObject(sessionStub(session.id));

    // The next instance upgrades the store before serving anything.
    expect(await statsOf(session.id)).toMatchObject({ seq: 2, pendingBids: 2 });
    const upgraded = await inObject(session.id, (sql) => ({
      version: rows(sql, "SELECT version FROM store_version")[0]?.version,
      columns: rows(sql, "SELECT name FROM pragma_table_info('session')").map((r) => r.name),
    }));
    expect(upgraded.version).toBe(storeMigrations.length);
    expect(upgraded.columns).toContain("end_handled_at");
    // Amounts of a session from before currencies are dollars.
    const view = await call("GET", `/v1/sessions/${session.id}`, { schema: SessionSchema });
    expect(view.body.currency).toBe("USD");
    // Its bids predate the bid log: the session has no chain, and the bids it takes now join none.
    expect(view.body).toMatchObject({ headSeq: 2, headHash: null });

    const raise = await bid(session.id, alice.id, 130);
    expect(raise.body).toMatchObject({ seq: 3, rank: 1, hash: null });
    const history = await call("GET", `/v1/sessions/${session.id}/bids`, { schema: BidHistorySchema });
    // The pseudonym stored with the new row is the one computed for the old rows.
    expect(history.body.bids.map((b) => [b.seq, b.bidder, b.hash])).toEqual([
      [1, raise.body.bidder, null],
      [2, expect.stringMatching(/^Bidder /), null],
      [3, raise.body.bidder, null],
    ]);
    const board = await call("GET", `/v1/sessions/${session.id}/leaderboard`, { schema: LeaderboardSchema });
    expect(board.body.entries.map((e) => e.username)).toEqual([alice.username, bob.username]);
    expect(await fireAlarm(session.id)).toBe(true);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => [e.seq, e.amount])).toEqual([
      [1, 100],
      [2, 120],
      [3, 130],
    ]);
  });

  it("gives a session from a Worker that sends no currency (an older version) USD", async () => {
    const id = crypto.randomUUID();
    const now = Date.now();
    const view = await sessionStub(id).initialize({
      id,
      title: "From an older Worker",
      startsAt: now - 1000,
      endsAt: now + 3_600_000,
      minBid: 100,
      minIncrement: 10,
      createdAt: now,
    });
    expect(view.currency).toBe("USD");
  });

  it("carries an end already handled over into the upgraded session row", async () => {
    const session = await createSession();
    const handledAt = Date.now() - 1000;
    await inObject(session.id, (sql) =>
      rewriteAsVersion1(
        sql,
        session,
        { flushedSeq: 0, flushedVersion: 1, endHandledAt: handledAt },
        handledAt - 1,
      ),
    );
    await evictDurableObject(sessionStub(session.id));
    // Already ended and told: a new watcher is told at once, and the end is not due again.
    const watcher = await watch(session.id);
    await watcher.until((m) => m.type === "status" && m.status === "ended");
    expect((await statsOf(session.id)).nextAlarmJob).not.toBe("end");
    expect(await inObject(session.id, (sql) => rows(sql, "SELECT end_handled_at FROM session")[0])).toEqual({
      end_handled_at: handledAt,
    });
  });
});

describe("the session object's alarm", () => {
  it("drains a backlog larger than one flush with back-to-back alarms", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [alice, bob] = await createUsers(2);
    if (!alice || !bob) throw new Error("users");
    const backlog = 20_005;
    // A backlog as a long database outage leaves it, written straight into the object's SQLite.
    await inObject(session.id, (sql) => {
      const at = Date.parse(session.startsAt);
      for (let seq = 1; seq <= backlog; seq += 1) {
        sql.exec(
          "INSERT INTO pending_bids (seq, user_id, amount, placed_at) VALUES (?, ?, ?, ?)",
          seq,
          seq % 2 ? alice.id : bob.id,
          100 + seq,
          at,
        );
      }
      const live =
        "INSERT INTO live_bids (user_id, amount, seq, tie_seq, bid_count, placed_at) VALUES (?, ?, ?, ?, ?, ?)";
      sql.exec(live, alice.id, 100 + backlog, backlog, backlog, 10_003, at);
      sql.exec(live, bob.id, 99 + backlog, backlog - 1, backlog - 1, 10_002, at);
      rememberUsers(sql, alice, bob);
    });
    await evictDurableObject(sessionStub(session.id));
    expect((await bid(session.id, bob.id, 200 + backlog)).status).toBe(201);
    expect(await statsOf(session.id)).toMatchObject({ pendingBids: backlog + 1, nextAlarmJob: "drain" });

    expect(await fireAlarm(session.id)).toBe(true);
    expect(await statsOf(session.id)).toMatchObject({
      lastFlushRows: 20_000,
      pendingBids: backlog + 1 - 20_000,
      nextAlarmJob: "flush",
    });
    expect(await fireAlarm(session.id)).toBe(true);
    expect(await statsOf(session.id)).toMatchObject({ pendingBids: 0, totalFlushed: backlog + 1 });
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events).toHaveLength(backlog + 1);
    expect(stored.bids.map((b) => b.amount).sort()).toEqual([100 + backlog, 200 + backlog].sort());
  });

  it("sets a lost alarm again at the next bid, so flushes do not stop for good", async () => {
    const session = await createSession({ minIncrement: 1 });
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    expect((await bid(session.id, a.id, 100)).status).toBe(201);
    // What a reload of the local runtime did once: the alarm gone from storage while the
    // object still counts on it, a minute past its time (no API can make the runtime drop one).
    await runInDurableObject(sessionStub(session.id), async (instance, state) => {
      await state.storage.deleteAlarm();
      (instance as unknown as { alarmClock: { set: { at: number; job: string } } }).alarmClock.set = {
        at: Date.now() - 60_000,
        job: "flush",
      };
    });
    expect((await bid(session.id, b.id, 150)).status).toBe(201);
    const alarm = await runInDurableObject(sessionStub(session.id), (_instance, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).not.toBeNull();
    expect(await statsOf(session.id)).toMatchObject({ nextAlarmJob: "flush", pendingBids: 2 });
    await fireAlarm(session.id);
    expect(await statsOf(session.id)).toMatchObject({ pendingBids: 0, flushedSeq: 2 });
  });

  it("moves the end job with an extension, and keeps an ended session final", async () => {
    const session = await createSession();
    const [user] = await createUsers(1);
    if (!user) throw new Error("users");
    const token = await adminToken();
    const patchEnd = (endsAt: number) =>
      call("PATCH", `/v1/sessions/${session.id}`, {
        token,
        body: { endsAt: new Date(endsAt).toISOString() },
      });
    await bid(session.id, user.id, 100);
    // Extended while active: the end is later now, and handled there.
    expect((await patchEnd(Date.now() + 7_200_000)).status).toBe(200);
    await fireAlarm(session.id);
    expect((await bid(session.id, user.id, 200)).status).toBe(201);
    const watcher = await watch(session.id);
    await watcher.until((m) => m.type === "leaderboard" && m.status === "active");

    await patchEnd(Date.now());
    expect(await fireAlarm(session.id)).toBe(true);
    await watcher.until((m) => m.type === "result");
    await watcher.until((m) => m.type === "status" && m.status === "ended");
    expect((await watcher.closed).code).toBe(1000);

    // Ended means final: no PATCH reopens it, no bid gets in, PostgreSQL has both bids.
    const reopen = await patchEnd(Date.now() + 3_600_000);
    expect(reopen.status).toBe(409);
    expect(reopen.problem.code).toBe("session_ended");
    expect((await bid(session.id, user.id, 300)).status).toBe(409);
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => e.amount)).toEqual([100, 200]);
  });
});

import { describe, expect, it } from "vitest";
import { BidHistorySchema, BidReceiptSchema, SessionSchema } from "../../src/api/contract";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { type HistoryBid, historyPage, pruneFlushed, wholeHistory } from "../support/history";
import { fireAlarm, statsOf } from "../support/objects";

const TAG = /^Bidder [0-9A-HJKMNP-TV-Z]{8}$/;

const seqsOf = (bids: HistoryBid[]) => bids.map((b) => b.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("GET /v1/sessions/{id}/bids", () => {
  it("joins flushed bids from PostgreSQL and pending ones from the object: every seq once, in order", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(6);
    const placed = new Map<number, { userId: number; amount: number }>();
    const place = async (round: number) => {
      for (const [i, u] of users.entries()) {
        const res = await bid(session.id, u.id, 100 + round * 10 + i);
        placed.set(res.body.seq, { userId: u.id, amount: res.body.amount });
      }
    };
    await place(0);
    await place(1);
    await fireAlarm(session.id);
    await place(2);
    const admin = await adminToken();
    const expected = oneTo(18).map((seq) => ({ seq, ...placed.get(seq) }));
    const check = async (label: string) => {
      for (const limit of [1, 4, 5, 17, 500]) {
        const bids = await wholeHistory(session.id, limit, admin);
        expect(
          bids.map((b) => ({ seq: b.seq, userId: b.userId, amount: b.amount })),
          `${label}, limit ${limit}`,
        ).toEqual(expected);
      }
    };
    // Flushed rows still held by the object: it serves the whole history alone.
    expect((await statsOf(session.id)).flushedSeq).toBe(12);
    await check("object holds all");
    // Pruned, with a few left behind out of order: PostgreSQL serves up to the run the object holds.
    await pruneFlushed(session.id, (seq) => seq === 3 || seq === 7 || seq === 11 || seq === 12);
    await check("object holds 3, 7, 11, 12 and the pending ones");
    await pruneFlushed(session.id);
    await check("object holds only the pending ones");
    // Right after the flush of the rest, and after its pruning.
    await fireAlarm(session.id);
    await check("everything flushed");
    await pruneFlushed(session.id);
    await check("everything flushed and pruned");
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => ({ seq: e.seq, userId: e.userId, amount: e.amount }))).toEqual(expected);
  });

  it("paging through the whole history while bids arrive and flushes run yields each seq once, in order", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(16);
    const tokens = await Promise.all(users.map((u) => tokenFor(u.id, "user")));
    const accepted = new Map<number, number>();
    let bidding = true;
    const bidder = (async () => {
      for (let round = 0; round < 8; round += 1) {
        const answers = await Promise.all(
          tokens.map((token, i) =>
            call("POST", `/v1/sessions/${session.id}/bids`, {
              token,
              body: { amount: 100 + round * 100 + i },
              schema: BidReceiptSchema,
            }),
          ),
        );
        for (const a of answers) if (a.status === 201) accepted.set(a.body.seq, a.body.amount);
        if (round % 3 === 1) await fireAlarm(session.id);
        if (round === 5) await pruneFlushed(session.id);
      }
      bidding = false;
    })();
    const seen: HistoryBid[] = [];
    let after = 0;
    let pages = 0;
    for (;;) {
      const page = await historyPage(session.id, after, 7);
      pages += 1;
      seen.push(...page.bids);
      after = page.bids.at(-1)?.seq ?? after;
      if (page.nextAfter === null && bidding) await new Promise((resolve) => setTimeout(resolve, 5));
      if (page.nextAfter === null && !bidding) {
        // One more read after the last bid: nothing may be left.
        const rest = await historyPage(session.id, after, 500);
        seen.push(...rest.bids);
        if (rest.nextAfter === null) break;
        after = rest.bids.at(-1)?.seq ?? after;
      }
    }
    await bidder;
    expect(accepted.size).toBeGreaterThan(100);
    expect(pages).toBeGreaterThan(10);
    expect(seqsOf(seen)).toEqual(oneTo(accepted.size));
    expect(seen.map((b) => b.amount)).toEqual(oneTo(accepted.size).map((seq) => accepted.get(seq)));
  }, 60_000);

  it("names bidders by pseudonyms stable within a session and unrelated across sessions; admins see who", async () => {
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    const first = await createSession({ minIncrement: 1 });
    const second = await createSession({ minIncrement: 1 });
    await bid(first.id, a.id, 100);
    await bid(first.id, b.id, 110);
    await bid(first.id, a.id, 120);
    await bid(second.id, a.id, 100);
    await fireAlarm(first.id);
    await bid(first.id, b.id, 130);

    const open = await historyPage(first.id, 0, 100);
    const [a1, b1, a2, b2] = open.bids;
    expect(open.bids.every((x) => TAG.test(x.bidder))).toBe(true);
    expect(a1?.bidder).toBe(a2?.bidder);
    expect(b1?.bidder).toBe(b2?.bidder);
    expect(a1?.bidder).not.toBe(b1?.bidder);
    const elsewhere = await historyPage(second.id, 0, 100);
    expect(elsewhere.bids[0]?.bidder).toMatch(TAG);
    expect(elsewhere.bids[0]?.bidder).not.toBe(a1?.bidder);
    for (const x of open.bids) {
      expect(x).not.toHaveProperty("userId");
      expect(x).not.toHaveProperty("username");
    }
    // An ordinary user's token changes nothing; an admin's adds who.
    const asUser = await historyPage(first.id, 0, 100, await tokenFor(a.id, "user"));
    expect(asUser).toEqual(open);
    const asAdmin = await historyPage(first.id, 0, 100, await adminToken());
    expect(asAdmin.bids.map((x) => [x.bidder, x.userId, x.username])).toEqual([
      [a1?.bidder, a.id, a.username],
      [b1?.bidder, b.id, b.username],
      [a1?.bidder, a.id, a.username],
      [b1?.bidder, b.id, b.username],
    ]);
    const badToken = await call("GET", `/v1/sessions/${first.id}/bids`, { token: "not.a.token" });
    expect([badToken.status, badToken.problem.code]).toEqual([401, "unauthorized"]);
  });

  it("marks automatic raises and never shows a maximum", async () => {
    const session = await createSession({ minIncrement: 10 });
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await tokenFor(a.id, "user"),
      body: { maxAmount: 777 },
    });
    await bid(session.id, b.id, 200);
    const res = await call("GET", `/v1/sessions/${session.id}/bids`, {
      token: await adminToken(),
      schema: BidHistorySchema,
    });
    expect(res.body.bids.map((x) => [x.userId, x.amount, x.auto])).toEqual([
      [a.id, 100, false],
      [b.id, 200, false],
      [a.id, 210, true],
    ]);
    // No value anywhere is the maximum (hashes and pseudonyms may hold the digits 777 by chance).
    expect(res.text).not.toMatch(/[:,[]\s*"?777"?\s*[,}\]]/);
    expect(res.text).not.toContain("maxAmount");
  });

  it("answers an unknown session with 404, and past the last seq with an empty last page", async () => {
    const unknown = await call("GET", `/v1/sessions/${crypto.randomUUID()}/bids`);
    expect([unknown.status, unknown.problem.code]).toEqual([404, "session_not_found"]);
    const session = await createSession();
    const [u] = await createUsers(1);
    if (!u) throw new Error("users");
    await bid(session.id, u.id, 100);
    expect(await historyPage(session.id, 1, 10)).toEqual({ bids: [], nextAfter: null });
    expect(await historyPage(session.id, 9_007_199_254_740_991, 10)).toEqual({ bids: [], nextAfter: null });
    const firstOnly = await historyPage(session.id, 0, 1);
    expect([seqsOf(firstOnly.bids), firstOnly.nextAfter]).toEqual([[1], null]);
  });
});

/** RFC 4180 records of a whole CSV text (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 1;
    } else field += ch;
  }
  if (field !== "" || record.length > 0) throw new Error("the CSV does not end with CRLF");
  return records;
}

describe("GET /v1/sessions/{id}/bids.csv", () => {
  it("exports flushed and pending bids as RFC 4180 CSV, as an attachment, to admins only", async () => {
    const session = await createSession({ minIncrement: 1 });
    const users = await createUsers(3);
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 100 + i);
    await fireAlarm(session.id);
    await pruneFlushed(session.id);
    for (const [i, u] of users.entries()) await bid(session.id, u.id, 200 + i);
    const res = await call("GET", `/v1/sessions/${session.id}/bids.csv`, { token: await adminToken() });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("Content-Disposition")).toBe(
      `attachment; filename="session-${session.id}-bids.csv"`,
    );
    const history = await wholeHistory(session.id, 500, await adminToken());
    expect(res.text.startsWith("seq,user_id,username,amount,placed_at,auto,hash\r\n")).toBe(true);
    expect(parseCsv(res.text)).toEqual([
      ["seq", "user_id", "username", "amount", "placed_at", "auto", "hash"],
      ...history.map((b) => [
        String(b.seq),
        String(b.userId),
        b.username ?? "",
        String(b.amount),
        b.placedAt,
        String(b.auto),
        b.hash ?? "",
      ]),
    ]);
    // Usernames are quoted whatever they hold.
    const [u0] = users;
    expect(res.text).toContain(`,"${u0?.username}",`);

    const forUser = await call("GET", `/v1/sessions/${session.id}/bids.csv`, {
      token: await tokenFor(1, "user"),
    });
    expect([forUser.status, forUser.problem.code]).toEqual([403, "forbidden"]);
    const anonymous = await call("GET", `/v1/sessions/${session.id}/bids.csv`);
    expect([anonymous.status, anonymous.problem.code]).toEqual([401, "unauthorized"]);
    const unknown = await call("GET", `/v1/sessions/${crypto.randomUUID()}/bids.csv`, {
      token: await adminToken(),
    });
    expect([unknown.status, unknown.problem.code]).toEqual([404, "session_not_found"]);
  });

  it("exports a session without bids as the header alone", async () => {
    const created = await call("POST", "/v1/sessions", {
      token: await adminToken(),
      body: {
        title: "Empty",
        startsAt: new Date(Date.now() + 60_000).toISOString(),
        endsAt: new Date(Date.now() + 120_000).toISOString(),
        minBid: 1,
        minIncrement: 1,
      },
      schema: SessionSchema,
    });
    const res = await call("GET", `/v1/sessions/${created.body.id}/bids.csv`, { token: await adminToken() });
    expect([res.status, res.text]).toEqual([200, "seq,user_id,username,amount,placed_at,auto,hash\r\n"]);
  });
});

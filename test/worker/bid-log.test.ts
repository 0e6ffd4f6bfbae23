import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionListSchema } from "../../src/api/contract";
import type { BidRequest } from "../../src/api/session-protocol";
import { withDatabase } from "../../src/db/client";
import { genesisLink } from "../../src/history/chain";
import {
  describeVerification,
  type SavedReceipt,
  type Verification,
  verifyBidLog,
} from "../../tools/bid-log-verifier";
import { bid, call, createUsers } from "../support/api";
import { createAuction, endNow, maxBid, readAuction, resultsOf } from "../support/auction";
import { readSessionFromPostgres } from "../support/database";
import { pruneFlushed, wholeHistory } from "../support/history";
import { watch } from "../support/live";
import { fireAlarm, sessionStub } from "../support/objects";

// The bid log (API.md v1.2): every accepted bid is a link of a hash chain that
// anyone can recompute from the public history. The verifier here is the one
// `npm run verify` runs, reaching the Worker through its fetch handler.

const LINK = /^[0-9a-f]{64}$/;

/** `npm run verify`'s check of a session, against the Worker in workerd, three rows a page. */
const verify = (sessionId: string, receipts: SavedReceipt[] = []): Promise<Verification> =>
  verifyBidLog({
    baseUrl: "http://bidding.test",
    sessionId,
    receipts,
    pageSize: 3,
    fetch: (url, init) => exports.default.fetch(url, init),
  });

async function bidders(count: number): Promise<number[]> {
  return (await createUsers(count)).map((u) => u.id);
}

/** The receipt of a bid placed straight on the object (a batch as the Worker sends it). */
async function placeOnObject(sessionId: string, request: BidRequest) {
  const [outcome] = await sessionStub(sessionId).placeBids([request]);
  if (!outcome?.ok) throw new Error(`refused: ${JSON.stringify(outcome)}`);
  return outcome.value.receipt;
}

/** The session as GET /v1/sessions lists it (newest first, so it is on the first pages). */
async function listed(sessionId: string) {
  let cursor = "";
  for (let page = 0; page < 20; page += 1) {
    const res = await call("GET", `/v1/sessions?limit=100${cursor}`, { schema: SessionListSchema });
    const found = res.body.sessions.find((s) => s.id === sessionId);
    if (found || res.body.nextCursor === null) return found;
    cursor = `&cursor=${encodeURIComponent(res.body.nextCursor)}`;
  }
  return undefined;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the bid log", () => {
  it("recomputed from the public history gives every receipt's link, automatic raises included, across a flush, an eviction and a resent batch", async () => {
    const session = await createAuction({ minBid: 100, minIncrement: 10, units: 1 });
    const [ann, bob, cyd] = await bidders(3);
    if (!ann || !bob || !cyd) throw new Error("users");
    const stub = sessionStub(session.id);
    expect(session).toMatchObject({ headSeq: 0, headHash: genesisLink(session.id) });
    const receipts: SavedReceipt[] = [];

    // Ann bids by proxy; Bob's bid provokes an automatic raise of Ann's (seq 3).
    receipts.push((await maxBid(session.id, ann, 500)).body);
    const bobs = await bid(session.id, bob, 200, { "Idempotency-Key": "bob-200" });
    receipts.push(bobs.body);
    const replay = await bid(session.id, bob, 200, { "Idempotency-Key": "bob-200" });
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.body).toEqual(bobs.body);
    expect(bobs.body.bidder).toMatch(/^Bidder [0-9A-HJKMNP-TV-Z]{8}$/);
    expect(bobs.body.hash).toMatch(LINK);

    // Flushed, then more bids, then the object evicted: it finds its head in storage.
    expect(await fireAlarm(session.id)).toBe(true);
    receipts.push((await bid(session.id, cyd, 300)).body);
    await evictDurableObject(stub);
    receipts.push((await bid(session.id, bob, 600)).body);

    // A batch whose answer was lost, sent again after an eviction: the first receipt, link and all.
    const lost: BidRequest = { userId: cyd, amount: 700, requestId: "bid-log-lost-1" };
    const first = await placeOnObject(session.id, lost);
    await evictDurableObject(stub);
    expect(await placeOnObject(session.id, { ...lost, resend: true })).toEqual(first);
    receipts.push(first);

    // Some rows from PostgreSQL, the rest from the object, and the newest bid not yet flushed.
    expect(await fireAlarm(session.id)).toBe(true);
    await pruneFlushed(session.id, (seq) => seq > 4);
    receipts.push((await bid(session.id, ann, 900)).body);

    const history = await wholeHistory(session.id, 500);
    expect(history.filter((row) => row.auto).length).toBeGreaterThanOrEqual(2);
    const verified = await verify(session.id, receipts);
    const view = await readAuction(session.id);
    expect(verified).toEqual({ ok: true, bids: history.length, head: view.headHash });
    expect(view.headSeq).toBe(history.length);
    expect(describeVerification(verified)).toBe(`verified ${history.length} bids, head ${view.headHash}`);
    // Each receipt names its own row's pseudonym and link.
    for (const receipt of receipts) {
      expect(history[receipt.seq - 1]).toMatchObject({ bidder: receipt.bidder, hash: receipt.hash });
    }
    // PostgreSQL holds the very links the object computed.
    const stored = await readSessionFromPostgres(session.id);
    expect(stored.events.map((e) => [e.seq, e.bidder, e.hash])).toEqual(
      history.slice(0, stored.events.length).map((row) => [row.seq, row.bidder, row.hash]),
    );

    // The end: finalHash is the link of finalSeq, and the verifier checks it too.
    await endNow(session.id);
    const results = await resultsOf(session.id);
    expect(results.body).toMatchObject({ finalSeq: history.length, finalHash: view.headHash });
    expect(await verify(session.id, receipts)).toEqual(verified);
  });

  it("lists each session with its head as PostgreSQL has it: h0, then the last flushed link", async () => {
    const session = await createAuction({ minIncrement: 1 });
    const [ann] = await bidders(1);
    if (!ann) throw new Error("users");
    const first = (await bid(session.id, ann, 100)).body;
    expect(await listed(session.id)).toMatchObject({ headSeq: 0, headHash: genesisLink(session.id) });
    expect(await fireAlarm(session.id)).toBe(true);
    await bid(session.id, ann, 101);
    expect(await listed(session.id)).toMatchObject({ headSeq: 1, headHash: first.hash });
  });

  it("puts the head in every live board", async () => {
    const session = await createAuction();
    const [ann] = await bidders(1);
    if (!ann) throw new Error("users");
    const watcher = await watch(session.id);
    await watcher.until((m) => m.type === "leaderboard" && m.headHash === genesisLink(session.id));
    const receipt = (await bid(session.id, ann, 150)).body;
    await watcher.until((m) => m.type === "leaderboard" && m.seq === 1 && m.headHash === receipt.hash);
    watcher.socket.close();
  });

  it("names the seq whose amount was changed in PostgreSQL's bid_events, and the page showing it logs a warning", async () => {
    const session = await createAuction({ minIncrement: 1 });
    const [ann, bob] = await bidders(2);
    if (!ann || !bob) throw new Error("users");
    for (let i = 0; i < 3; i += 1) {
      await bid(session.id, ann, 100 + 2 * i);
      await bid(session.id, bob, 101 + 2 * i);
    }
    expect(await fireAlarm(session.id)).toBe(true);
    await pruneFlushed(session.id);
    expect(await verify(session.id)).toMatchObject({ ok: true, bids: 6 });

    await withDatabase(env, (db) =>
      db.execute(sql`UPDATE bid_events SET amount = amount + 1 WHERE session_id = ${session.id} AND seq = 4`),
    );
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const verdict = await verify(session.id);
    expect(verdict).toMatchObject({ ok: false, seq: 4 });
    expect(describeVerification(verdict)).toMatch(/^seq 4 does not match: .*changed after the fact/);
    // Nothing repaired the link on the way: the history shows the stored one.
    const shown = (await wholeHistory(session.id, 500))[3];
    expect(shown).toMatchObject({ seq: 4, amount: 104 });
    const warnings = warn.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(warnings).toContainEqual(
      expect.objectContaining({
        event: "bid_log_unchained",
        sessionId: session.id,
        seq: 4,
        shown: shown?.hash,
      }),
    );
  });

  it("names the seq of a row the object still holds that was changed", async () => {
    const session = await createAuction({ minIncrement: 1 });
    const [ann, bob] = await bidders(2);
    if (!ann || !bob) throw new Error("users");
    const receipts: SavedReceipt[] = [];
    for (let i = 0; i < 2; i += 1) {
      receipts.push((await bid(session.id, ann, 100 + 2 * i)).body);
      receipts.push((await bid(session.id, bob, 101 + 2 * i)).body);
    }
    expect(await verify(session.id, receipts)).toMatchObject({ ok: true, bids: 4 });
    await runInDurableObject(sessionStub(session.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE pending_bids SET amount = 150 WHERE seq = 2");
    });
    vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(await verify(session.id, receipts)).toMatchObject({ ok: false, seq: 2 });
  });

  it("checks a receipt against the history: one for another bid of the same seq does not match", async () => {
    const session = await createAuction({ minIncrement: 1 });
    const [ann] = await bidders(1);
    if (!ann) throw new Error("users");
    const receipt = (await bid(session.id, ann, 100)).body;
    const forged = { ...receipt, amount: 99, hash: "0".repeat(64) };
    const verdict = await verify(session.id, [forged]);
    expect(verdict).toMatchObject({ ok: false, seq: 1 });
    expect(describeVerification(verdict)).toMatch(/^seq 1 does not match: the receipt shows link 0000/);
  });

  it("fixes finalHash as the link of finalSeq, h0 for a session that ended without bids", async () => {
    const session = await createAuction();
    await endNow(session.id);
    const results = await resultsOf(session.id);
    expect(results.body).toMatchObject({ finalSeq: 0, finalHash: genesisLink(session.id) });
    expect(await verify(session.id)).toEqual({ ok: true, bids: 0, head: genesisLink(session.id) });
  });

  it("gives two sessions with the same bids different chains", async () => {
    const [ann, bob] = await bidders(2);
    if (!ann || !bob) throw new Error("users");
    const one = await createAuction({ minIncrement: 1 });
    const two = await createAuction({ minIncrement: 1 });
    const links = { one: [] as (string | null)[], two: [] as (string | null)[] };
    for (const [userId, amount] of [
      [ann, 100],
      [bob, 110],
      [ann, 120],
    ] as const) {
      links.one.push((await bid(one.id, userId, amount)).body.hash);
      links.two.push((await bid(two.id, userId, amount)).body.hash);
    }
    expect(one.headHash).not.toBe(two.headHash);
    expect(links.one.filter((link, i) => link === links.two[i])).toEqual([]);
    expect(await verify(one.id)).toMatchObject({ ok: true, bids: 3 });
    expect(await verify(two.id)).toMatchObject({ ok: true, bids: 3 });
  });
});

import { env } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { MyBidsSchema, SessionListSchema, SessionSchema } from "../../src/api/contract";
import { withDatabase } from "../../src/db/client";
import { biddingSessions } from "../../src/db/schema";
import { issueCursor } from "../../src/http/cursor";
import { adminToken, bid, call, createSession, createUsers, tokenFor } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { fireAlarm, statsOf } from "../support/objects";

type Listed = z.infer<typeof SessionListSchema>["sessions"][number];
type Listing = "scheduled" | "active" | "ended" | "all";

const minute = 60_000;
const day = 24 * 60 * minute;

/** The field each listing is ordered by, and whether it runs backwards (API.md, "Discovery and history"). */
const orderOf: Record<Listing, { key: "startsAt" | "endsAt" | "createdAt"; descending: boolean }> = {
  scheduled: { key: "startsAt", descending: false },
  active: { key: "endsAt", descending: false },
  ended: { key: "endsAt", descending: true },
  all: { key: "createdAt", descending: true },
};

const query = (listing: Listing, limit: number, cursor?: string) => {
  const params = new URLSearchParams({ limit: String(limit) });
  if (listing !== "all") params.set("status", listing);
  if (cursor !== undefined) params.set("cursor", cursor);
  return `/v1/sessions?${params}`;
};

async function listPage(listing: Listing, limit: number, cursor?: string, token?: string) {
  const res = await call("GET", query(listing, limit, cursor), { token, schema: SessionListSchema });
  if (res.status !== 200) throw new Error(`${query(listing, limit, cursor)}: ${res.status} ${res.text}`);
  return res.body;
}

/** Every page of a listing; `between` runs after each page (sessions created meanwhile). */
async function listAll(listing: Listing, limit: number, between: () => Promise<unknown> = async () => {}) {
  const rows: Listed[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await listPage(listing, limit, cursor);
    pages += 1;
    expect(page.sessions.length).toBeLessThanOrEqual(limit);
    rows.push(...page.sessions);
    if (page.nextCursor === null) return { rows, pages };
    cursor = page.nextCursor;
    await between();
  }
}

/** (time, id) of a listed session in its listing's order, as a comparable pair. */
function position(listing: Listing, session: { id: string } & Record<string, unknown>): [number, string] {
  return [Date.parse(String(session[orderOf[listing].key])), session.id];
}

function compare(a: [number, string], b: [number, string]): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

interface Seeded {
  id: string;
  status: "scheduled" | "active" | "ended";
  startsAt: Date;
  endsAt: Date;
  createdAt: Date;
}

/**
 * `perStatus` sessions of each status written straight into PostgreSQL (the
 * lists read only PostgreSQL), far from now so none changes status during the
 * test, three at a time sharing their sort time so the id breaks the ties.
 */
async function seedSessions(perStatus: number): Promise<Seeded[]> {
  const now = Date.now();
  const seeded: Seeded[] = [];
  for (let i = 0; i < perStatus; i += 1) {
    const step = Math.floor(i / 3) * minute;
    const createdAt = new Date(now - 400 * day + Math.floor(i / 3) * 1000);
    const starts = now + 30 * day + step;
    seeded.push(
      {
        id: crypto.randomUUID(),
        status: "scheduled",
        startsAt: new Date(starts),
        endsAt: new Date(starts + day),
        createdAt,
      },
      {
        id: crypto.randomUUID(),
        status: "active",
        startsAt: new Date(now - day),
        endsAt: new Date(now + 30 * day + step),
        createdAt,
      },
      {
        id: crypto.randomUUID(),
        status: "ended",
        startsAt: new Date(now - 90 * day),
        endsAt: new Date(now - 30 * day - step),
        createdAt,
      },
    );
  }
  await withDatabase(env, (db) =>
    db.insert(biddingSessions).values(
      seeded.map((s) => ({
        id: s.id,
        title: `Seeded ${s.status}`,
        startsAt: s.startsAt,
        endsAt: s.endsAt,
        scheduledEndsAt: s.endsAt,
        hardEndsAt: new Date(s.endsAt.getTime() + day),
        minBid: 100,
        minIncrement: 10,
        createdAt: s.createdAt,
      })),
    ),
  );
  return seeded;
}

function expectedOrder(listing: Listing, seeded: Seeded[]): string[] {
  const { key, descending } = orderOf[listing];
  const mine = seeded.filter((s) => listing === "all" || s.status === listing);
  const sorted = mine
    .map((s) => ({ id: s.id, at: s[key].getTime() }))
    .sort((a, b) => compare([a.at, a.id], [b.at, b.id]));
  return (descending ? sorted.reverse() : sorted).map((s) => s.id);
}

describe("GET /v1/sessions", () => {
  it("pages through a few hundred sessions of every status: each exactly once, in the contract's order, while sessions are created", async () => {
    const seeded = await seedSessions(100);
    const ours = new Set(seeded.map((s) => s.id));
    const createdMeanwhile: string[] = [];
    // Sessions created between pages, of every status, must not move a cursor.
    const createSome = async () => {
      const now = Date.now();
      // One after the other: PGlite's socket server mixes up concurrent connections.
      const created = [
        await createSession({
          startsAt: new Date(now + 40 * day).toISOString(),
          endsAt: new Date(now + 41 * day).toISOString(),
        }),
        await createSession({ endsAt: new Date(now + 35 * day).toISOString() }),
      ];
      createdMeanwhile.push(...created.map((s) => s.id));
    };
    for (const listing of ["scheduled", "active", "ended", "all"] as const) {
      const { rows, pages } = await listAll(listing, listing === "all" ? 100 : 7, createSome);
      const { descending } = orderOf[listing];
      // The contract's order over everything listed, ours and other tests' alike.
      for (let i = 1; i < rows.length; i += 1) {
        const [previous, current] = [rows[i - 1], rows[i]];
        if (!previous || !current) continue;
        const order = compare(position(listing, previous), position(listing, current));
        expect(descending ? order : -order, `${listing}: ${previous.id} then ${current.id}`).toBeGreaterThan(
          0,
        );
      }
      if (listing !== "all") expect(rows.every((s) => s.status === listing)).toBe(true);
      const listedOurs = rows.map((s) => s.id).filter((id) => ours.has(id));
      expect(listedOurs, listing).toEqual(expectedOrder(listing, seeded));
      // Only an active session whose end moves between pages (a soft close elsewhere) could come twice.
      const ids = listing === "active" ? listedOurs : rows.map((s) => s.id);
      expect(new Set(ids).size, `${listing}: ids listed twice`).toBe(ids.length);
      expect(pages).toBeGreaterThan(listing === "all" ? 3 : 14);
    }
    expect(createdMeanwhile.length).toBeGreaterThan(0);
  }, 120_000);

  it("shows bidders and the highest bid as of the last flush, and the reserve only to admins", async () => {
    const session = await call("POST", "/v1/sessions", {
      token: await adminToken(),
      body: {
        title: "Reserve lot",
        startsAt: new Date(Date.now() - minute).toISOString(),
        endsAt: new Date(Date.now() + 20 * day).toISOString(),
        minBid: 100,
        minIncrement: 10,
        reservePrice: 500,
      },
      schema: SessionSchema,
    });
    const id = session.body.id;
    const [a, b] = await createUsers(2);
    if (!a || !b) throw new Error("users");
    await bid(id, a.id, 200);
    await bid(id, b.id, 300);
    await fireAlarm(id);
    const find = async (token?: string) => {
      let cursor: string | undefined;
      for (;;) {
        const page = await listPage("active", 100, cursor, token);
        const found = page.sessions.find((s) => s.id === id);
        if (found) return found;
        if (page.nextCursor === null) throw new Error(`${id} not listed`);
        cursor = page.nextCursor;
      }
    };
    const open = await find();
    expect(open).toMatchObject({
      bidders: 2,
      highestBid: 300,
      reserveMet: false,
      status: "active",
      units: 1,
    });
    expect(open).not.toHaveProperty("reservePrice");
    expect(open).not.toHaveProperty("hardEndsAt");
    const forAdmin = await find(await adminToken());
    expect(forAdmin).toMatchObject({ reservePrice: 500, hardEndsAt: session.body.hardEndsAt });
    // The same session as GET /v1/sessions/{id} shows it, but for the clock.
    const { serverTime: _s, endsInMs: _e, ...listed } = open;
    const live = await call("GET", `/v1/sessions/${id}`, { schema: SessionSchema });
    const { serverTime: _s2, endsInMs: _e2, ...read } = live.body;
    expect(listed).toEqual(read);
  });

  it("answers the last page with nextCursor null, and a default of 20", async () => {
    const first = await listPage("all", 20);
    expect(first.sessions.length).toBeLessThanOrEqual(20);
    const res = await call("GET", "/v1/sessions", { schema: SessionListSchema });
    expect(res.status).toBe(200);
    expect(res.body.sessions.length).toBeLessThanOrEqual(20);
  });

  it("refuses altered, foreign and made-up cursors with 400", async () => {
    await seedSessions(3);
    const page = await listPage("scheduled", 1);
    const other = await listPage("scheduled", 1, page.nextCursor ?? undefined);
    const cursor = page.nextCursor;
    const otherCursor = other.nextCursor;
    if (cursor === null || otherCursor === null) throw new Error("expected more pages");
    const [payload = "", mac = ""] = cursor.split(".");
    const flip = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
    const someKey = [Date.now(), crypto.randomUUID()];
    const cases: [string, string, Listing][] = [
      ["a payload character changed", `${flip(payload, 5)}.${mac}`, "scheduled"],
      ["a MAC character changed", `${payload}.${flip(mac, 10)}`, "scheduled"],
      ["another cursor's MAC", `${payload}.${otherCursor.split(".")[1]}`, "scheduled"],
      ["of another status", cursor, "active"],
      ["of the unfiltered listing", cursor, "all"],
      [
        "signed with another secret",
        await issueCursor({ ...env, JWT_SECRET: "not-ours" }, "sessions:scheduled", someKey),
        "scheduled",
      ],
      ["genuine, but not a sort key", await issueCursor(env, "sessions:scheduled", ["x", 1]), "scheduled"],
      ["genuine, of the user listing", await issueCursor(env, "me:1", someKey), "scheduled"],
      ["no MAC", payload, "scheduled"],
      ["base64 of JSON", btoa(JSON.stringify({ l: "sessions:scheduled", k: someKey })), "scheduled"],
    ];
    for (const [label, value, listing] of cases) {
      const res = await call("GET", query(listing, 5, value));
      expect([label, res.status, res.problem.code]).toEqual([label, 400, "invalid_request"]);
      expect(res.problem.detail).toMatch(/^cursor/);
    }
  });
});

describe("GET /v1/me/bids", () => {
  it("pages through the caller's bids across sessions, most recent first, with status, rank and winning", async () => {
    const [me, rival] = await createUsers(2);
    if (!me || !rival) throw new Error("users");
    const admin = await adminToken();
    const sessions = [];
    for (let i = 0; i < 9; i += 1) sessions.push(await createSession());
    const create = (body: Record<string, unknown>) =>
      call("POST", "/v1/sessions", {
        token: admin,
        body: {
          title: "Lot",
          startsAt: new Date(Date.now() - minute).toISOString(),
          endsAt: new Date(Date.now() + day).toISOString(),
          minBid: 100,
          minIncrement: 10,
          ...body,
        },
        schema: SessionSchema,
      });
    const threeUnits = (await create({ units: 3 })).body;
    const reserved = (await create({ reservePrice: 1_000 })).body;
    const ending = (await create({ endsAt: new Date(Date.now() + 2_000).toISOString() })).body;
    for (const s of sessions) expect((await bid(s.id, me.id, 150)).status).toBe(201);
    const [outbid, ...others] = sessions;
    if (!outbid) throw new Error("sessions");
    await bid(outbid.id, rival.id, 500);
    await bid(threeUnits.id, rival.id, 900);
    await bid(threeUnits.id, me.id, 200);
    await bid(reserved.id, me.id, 200);
    await bid(ending.id, rival.id, 100);
    await bid(ending.id, me.id, 300);
    // The end's own alarm flushes the results; wait for it through the object alone (PGlite's socket
    // server mixes up concurrent connections, so no query of ours may overlap that flush).
    for (;;) {
      const stats = await statsOf(ending.id);
      if (Date.now() > Date.parse(ending.endsAt) && stats.pendingBids === 0 && stats.nextAlarmJob !== "end")
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const s of [...sessions, threeUnits, reserved]) await fireAlarm(s.id);
    expect((await readSessionFromPostgres(ending.id)).session?.closedAt).not.toBeNull();

    const token = await tokenFor(me.id, "user");
    const rows: z.infer<typeof MyBidsSchema>["bids"] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await call("GET", `/v1/me/bids?limit=5${cursor ? `&cursor=${cursor}` : ""}`, {
        token,
        schema: MyBidsSchema,
      });
      expect(res.status).toBe(200);
      rows.push(...res.body.bids);
      if (res.body.nextCursor === null) break;
      cursor = res.body.nextCursor;
    }
    const all = [...sessions, threeUnits, reserved, ending];
    expect(rows.map((r) => r.sessionId).sort()).toEqual(all.map((s) => s.id).sort());
    // Most recently placed first: the order of the caller's live bids in PostgreSQL.
    const placed: { id: string; at: number }[] = [];
    for (const s of all) {
      const row = (await readSessionFromPostgres(s.id)).bids.find((b) => b.userId === me.id);
      placed.push({ id: s.id, at: row?.placedAt.getTime() ?? 0 });
    }
    placed.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
    expect(rows.map((r) => r.sessionId)).toEqual(placed.map((p) => p.id));

    const of = (id: string) => rows.find((r) => r.sessionId === id);
    expect(of(outbid.id)).toMatchObject({ status: "active", amount: 150, rank: 2, winning: false });
    for (const s of others) expect(of(s.id)).toMatchObject({ rank: 1, winning: true, title: "Test session" });
    expect(of(threeUnits.id)).toMatchObject({ amount: 200, rank: 2, winning: true });
    expect(of(reserved.id)).toMatchObject({ amount: 200, rank: 1, winning: false });
    expect(of(ending.id)).toMatchObject({ status: "ended", amount: 300, rank: 1, winning: true });

    // The rival's view is their own; a cursor of mine is refused to them.
    const theirs = await call("GET", "/v1/me/bids?limit=2", {
      token: await tokenFor(rival.id, "user"),
      schema: MyBidsSchema,
    });
    expect(theirs.body.bids.every((b) => [outbid.id, threeUnits.id, ending.id].includes(b.sessionId))).toBe(
      true,
    );
    const firstPage = await call("GET", "/v1/me/bids?limit=1", { token, schema: MyBidsSchema });
    const mine = firstPage.body.nextCursor;
    if (mine === null) throw new Error("expected a cursor");
    const stolen = await call("GET", `/v1/me/bids?cursor=${mine}`, {
      token: await tokenFor(rival.id, "user"),
    });
    expect([stolen.status, stolen.problem.code]).toEqual([400, "invalid_request"]);
  }, 60_000);

  /** The caller's row for `sessionId` on their first page, read at once. */
  async function myRow(userId: number, sessionId: string) {
    const res = await call("GET", "/v1/me/bids?limit=100", {
      token: await tokenFor(userId, "user"),
      schema: MyBidsSchema,
    });
    expect(res.status).toBe(200);
    return res.body.bids.find((b) => b.sessionId === sessionId);
  }

  it("shows a raise the instant after its 201: amount, rank and winning from the object", async () => {
    const [me, rival] = await createUsers(2);
    if (!me || !rival) throw new Error("users");
    const session = await createSession();
    await bid(session.id, me.id, 160);
    await bid(session.id, rival.id, 190);
    // PostgreSQL has both bids: I stand second with 160.
    await fireAlarm(session.id);
    expect(await myRow(me.id, session.id)).toMatchObject({ amount: 160, rank: 2, winning: false });

    expect((await bid(session.id, me.id, 200)).body).toMatchObject({ amount: 200, rank: 1 });
    expect(await myRow(me.id, session.id)).toMatchObject({
      status: "active",
      amount: 200,
      rank: 1,
      winning: true,
    });
    // Read before any flush: PostgreSQL still holds the 160.
    expect((await statsOf(session.id)).pendingBids).toBe(1);
    const flushed = (await readSessionFromPostgres(session.id)).bids.find((b) => b.userId === me.id);
    expect(flushed?.amount).toBe(160);
  });

  it("counts the bids the object holds and PostgreSQL has not seen: a rival's unflushed bid outranks mine", async () => {
    const [me, rival] = await createUsers(2);
    if (!me || !rival) throw new Error("users");
    const session = await createSession({ minIncrement: 1 });
    await bid(session.id, me.id, 150);
    await fireAlarm(session.id);
    expect(await myRow(me.id, session.id)).toMatchObject({ amount: 150, rank: 1, winning: true });

    await bid(session.id, rival.id, 151);
    expect(await myRow(me.id, session.id)).toMatchObject({ amount: 150, rank: 2, winning: false });
    expect((await statsOf(session.id)).pendingBids).toBe(1);
    expect((await readSessionFromPostgres(session.id)).bids.map((b) => b.userId)).toEqual([me.id]);

    await fireAlarm(session.id);
    expect(await myRow(rival.id, session.id)).toMatchObject({ amount: 151, rank: 1, winning: true });
  });

  // With the cache (Upstash) and without it (the isolate's memory: the pool runs the Worker and its objects in one).
  it("lists a first bid the instant after its 201, before any flush, and once after it", async () => {
    const [me, rival] = await createUsers(2);
    if (!me || !rival) throw new Error("users");
    const session = await createSession({ minIncrement: 1 });
    await bid(session.id, rival.id, 140);
    await fireAlarm(session.id);

    // Refused first: the session has seen me before my first accepted bid.
    expect((await bid(session.id, me.id, 1)).status).toBe(422);
    expect(await myRow(me.id, session.id)).toBeUndefined();
    expect((await bid(session.id, me.id, 150)).status).toBe(201);
    expect(await myRow(me.id, session.id)).toMatchObject({
      title: session.title,
      status: "active",
      amount: 150,
      rank: 1,
      winning: true,
    });
    expect((await readSessionFromPostgres(session.id)).bids.map((b) => b.userId)).toEqual([rival.id]);

    await fireAlarm(session.id);
    const res = await call("GET", "/v1/me/bids?limit=100", {
      token: await tokenFor(me.id, "user"),
      schema: MyBidsSchema,
    });
    expect(res.body.bids.filter((b) => b.sessionId === session.id)).toHaveLength(1);
  });

  it("is empty for a user with no bids, and needs a user token", async () => {
    const [nobody] = await createUsers(1);
    if (!nobody) throw new Error("users");
    const res = await call("GET", "/v1/me/bids", {
      token: await tokenFor(nobody.id, "user"),
      schema: MyBidsSchema,
    });
    expect(res.body).toEqual({ bids: [], nextCursor: null });
    expect((await call("GET", "/v1/me/bids")).status).toBe(401);
    expect((await call("GET", "/v1/me/bids", { token: await adminToken() })).status).toBe(403);
  });
});

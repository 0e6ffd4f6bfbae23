import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SessionListSchema, SessionSchema } from "../../src/api/contract";
import { adminToken, call, createSession, tokenFor } from "../support/api";
import { readSessionFromPostgres } from "../support/database";
import { sessionStub } from "../support/objects";

const hour = 3_600_000;

describe("POST /v1/sessions", () => {
  it("creates a session in PostgreSQL and answers with its status", async () => {
    const startsAt = new Date(Date.now() + hour).toISOString();
    const endsAt = new Date(Date.now() + 2 * hour).toISOString();
    const res = await call("POST", "/v1/sessions", {
      token: await adminToken(),
      body: { title: "Lot 7", startsAt, endsAt, minBid: 500, minIncrement: 25 },
      schema: SessionSchema,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      title: "Lot 7",
      startsAt,
      endsAt,
      minBid: 500,
      minIncrement: 25,
      status: "scheduled",
      bidders: 0,
      highestBid: null,
    });
    const stored = await readSessionFromPostgres(res.body.id);
    expect(stored.session?.minBid).toBe(500);
    expect(stored.session?.endsAt.toISOString()).toBe(endsAt);

    const read = await call("GET", `/v1/sessions/${res.body.id}`, { schema: SessionSchema });
    expect(read.status).toBe(200);
    // The same session; only the clock fields move, and only admins see the reserve and hard end.
    const { serverTime: _t, endsInMs: _e, reservePrice: _r, hardEndsAt: _h, ...stable } = res.body;
    const { serverTime, endsInMs, ...readStable } = read.body;
    expect(readStable).toEqual(stable);
    expect(Date.parse(serverTime)).toBeGreaterThanOrEqual(Date.parse(res.body.serverTime));
    expect(endsInMs).toBeLessThanOrEqual(res.body.endsInMs);
    expect(res.body).toMatchObject({
      reservePrice: null,
      hardEndsAt: new Date(Date.parse(endsAt) + 24 * hour).toISOString(),
    });
  });

  it.each([
    ["ends before it starts", { endsAt: new Date(Date.now() - 2 * hour).toISOString() }, "endsAt"],
    ["zero minimum bid", { minBid: 0 }, "minBid"],
    ["float minimum bid", { minBid: 10.5 }, "minBid"],
    ["money over 10^12", { minBid: 1_000_000_000_001 }, "minBid"],
    ["money as a string", { minIncrement: "10" }, "minIncrement"],
    ["empty title", { title: "" }, "title"],
    ["title over 200", { title: "x".repeat(201) }, "title"],
    ["not a date", { startsAt: "tomorrow" }, "startsAt"],
  ])("refuses %s with 400 naming the field", async (_case, override, field) => {
    const body = {
      title: "t",
      startsAt: new Date(Date.now() - hour).toISOString(),
      endsAt: new Date(Date.now() + hour).toISOString(),
      minBid: 1,
      minIncrement: 1,
      ...override,
    };
    const res = await call("POST", "/v1/sessions", { token: await adminToken(), body });
    expect(res.status).toBe(400);
    expect(res.problem.code).toBe("invalid_request");
    expect(res.problem.detail).toContain(field);
  });

  it("keeps the currency it was given, USD when none, in every view and in PostgreSQL", async () => {
    const euro = await createSession({ currency: "EUR" });
    const plain = await createSession();
    expect([euro.currency, plain.currency]).toEqual(["EUR", "USD"]);
    const read = await call("GET", `/v1/sessions/${euro.id}`, { schema: SessionSchema });
    expect(read.body.currency).toBe("EUR");
    const listed = await call("GET", "/v1/sessions?limit=100", { schema: SessionListSchema });
    expect(listed.body.sessions.find((s) => s.id === euro.id)?.currency).toBe("EUR");
    expect((await readSessionFromPostgres(euro.id)).session?.currency).toBe("EUR");
    expect((await readSessionFromPostgres(plain.id)).session?.currency).toBe("USD");
  });

  it.each([
    ["lower case", "eur"],
    ["four letters", "EURO"],
    ["three capitals ISO 4217 does not list", "ABC"],
    ["a number", 978],
    ["null", null],
    ["empty", ""],
  ])("refuses a currency that is %s with 400 naming it, and creates nothing", async (_case, currency) => {
    const title = `Currency ${crypto.randomUUID()}`;
    const res = await call("POST", "/v1/sessions", {
      token: await adminToken(),
      body: {
        title,
        startsAt: new Date(Date.now() - hour).toISOString(),
        endsAt: new Date(Date.now() + hour).toISOString(),
        minBid: 1,
        minIncrement: 1,
        currency,
      },
    });
    expect(res.status).toBe(400);
    expect(res.problem.code).toBe("invalid_request");
    expect(res.problem.detail).toContain("currency");
    const listed = await call("GET", "/v1/sessions?limit=100", { schema: SessionListSchema });
    expect(listed.body.sessions.some((s) => s.title === title)).toBe(false);
  });

  it("is for admins only", async () => {
    const res = await call("POST", "/v1/sessions", { token: await tokenFor(5, "user"), body: {} });
    expect(res.status).toBe(403);
  });
});

describe("GET /v1/sessions/{id}", () => {
  it("answers 404 for an unknown id and leaves no state behind", async () => {
    const id = crypto.randomUUID();
    const res = await call("GET", `/v1/sessions/${id}`);
    expect(res.status).toBe(404);
    expect(res.problem.code).toBe("session_not_found");
    // Storage as a fresh object has it: no tables at all, the size of an
    // object nobody ever asked for anything, and no alarm.
    const storageOf = (name: string) =>
      runInDurableObject(sessionStub(name), async (_instance, state) => ({
        tables: state.storage.sql
          .exec<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
          )
          .toArray()
          .map((row) => row.name),
        size: state.storage.sql.databaseSize,
        alarm: await state.storage.getAlarm(),
      }));
    const untouched = await storageOf(crypto.randomUUID());
    expect(await storageOf(id)).toEqual({ tables: [], size: untouched.size, alarm: null });
  });

  it("answers 400 for a malformed id", async () => {
    for (const bad of ["not-a-uuid", "123", "0b8f3c5e-2f7a-4c61-9d1e-6a1f0e5b9c4"]) {
      const res = await call("GET", `/v1/sessions/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.problem.code).toBe("invalid_request");
    }
  });
});

describe("PATCH /v1/sessions/{id}", () => {
  it("renames and extends; the change is visible at once", async () => {
    const session = await createSession();
    const endsAt = new Date(Date.now() + 5 * hour).toISOString();
    const res = await call("PATCH", `/v1/sessions/${session.id}`, {
      token: await adminToken(),
      body: { title: "Renamed", endsAt },
      schema: SessionSchema,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: "Renamed", endsAt, status: "active" });
    expect((await call("GET", `/v1/sessions/${session.id}`, { schema: SessionSchema })).body.title).toBe(
      "Renamed",
    );
  });

  it("refuses an end before the start, an empty body and unknown fields", async () => {
    const session = await createSession();
    const token = await adminToken();
    const early = new Date(Date.parse(session.startsAt) - 1).toISOString();
    for (const body of [{ endsAt: early }, {}, { minBid: 5 }]) {
      const res = await call("PATCH", `/v1/sessions/${session.id}`, { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await call("GET", `/v1/sessions/${session.id}`, { schema: SessionSchema })).body.endsAt).toBe(
      session.endsAt,
    );
  });

  it("answers 404 for an unknown session", async () => {
    const res = await call("PATCH", `/v1/sessions/${crypto.randomUUID()}`, {
      token: await adminToken(),
      body: { title: "x" },
    });
    expect(res.status).toBe(404);
  });
});

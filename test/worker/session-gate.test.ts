import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSession } from "../support/api";
import { sessionStub } from "../support/objects";

// The object's gate (src/objects/session-gate.ts): every call that needs the session goes through it.

const tables = (id: string) =>
  runInDurableObject(sessionStub(id), (_instance, state) =>
    state.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
      .toArray()
      .map((row) => String(row.name)),
  );

describe("the session object's gate", () => {
  it("creates an object that has no storage from the session's row in PostgreSQL, on its first call", async () => {
    const session = await createSession({ minIncrement: 7 });
    await runInDurableObject(sessionStub(session.id), (_instance, state) => state.storage.deleteAll());
    await evictDurableObject(sessionStub(session.id));
    expect(await tables(session.id)).toEqual([]);
    const read = await sessionStub(session.id).getSession();
    expect(read).toMatchObject({
      ok: true,
      value: { id: session.id, title: session.title, minIncrement: 7 },
    });
    expect(await tables(session.id)).toContain("session");
  });

  it("answers every call on an unknown id with session_not_found and stores nothing", async () => {
    const id = crypto.randomUUID();
    const stub = sessionStub(id);
    for (const outcome of [await stub.getSession(), await stub.leaderboard(10), await stub.myBid(1)]) {
      expect(outcome).toMatchObject({ ok: false, code: "session_not_found" });
    }
    expect(await stub.placeBids([{ userId: 1, amount: 100 }])).toMatchObject([
      { ok: false, code: "session_not_found" },
    ]);
    expect(await tables(id)).toEqual([]);
  });
});

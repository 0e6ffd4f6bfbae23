import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { DatabaseUnavailable, withDatabase } from "../../src/db/client";

const failureOf = (work: Parameters<typeof withDatabase>[1]) =>
  withDatabase(env, work).then(
    () => undefined,
    (error: unknown) => error,
  );

describe("withDatabase: outages apart from bugs", () => {
  it("lets a bug in our own code through as itself, not as an outage", async () => {
    const error = await failureOf(async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(DatabaseUnavailable);
  });

  it("lets a statement the database refuses through as itself", async () => {
    const error = await failureOf((db) => db.execute(sql`SELECT * FROM no_such_table`));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DatabaseUnavailable);
  });

  // The embedded PGlite runs in one thread: no statement timeout, no backends to terminate.
  it.skipIf(inject("embeddedDatabase"))(
    "turns a connection the server cuts into database_unavailable",
    async (ctx) => {
      // The Neon driver's pool replaces a cut connection by itself: only pg sees the cut.
      if (env.DB_DRIVER !== "hyperdrive") ctx.skip();
      const error = await failureOf(async (db) => {
        await db.execute(sql`SELECT pg_terminate_backend(pg_backend_pid())`).catch(() => {});
        await db.execute(sql`SELECT 1`);
      });
      expect(error).toBeInstanceOf(DatabaseUnavailable);
    },
  );

  it.skipIf(inject("embeddedDatabase"))(
    "turns a statement the server cancels for taking too long into database_unavailable",
    async () => {
      // 57014: cancelled by statement_timeout, as an overloaded server does.
      const error = await failureOf(async (db) => {
        await db.execute(sql`SET statement_timeout = 50`);
        await db.execute(sql`SELECT pg_sleep(1)`);
      });
      expect(error).toBeInstanceOf(DatabaseUnavailable);
    },
  );
});

import { env } from "cloudflare:workers";
import { Client } from "pg";
import { describe, expect, inject, it } from "vitest";
import { PoolFiguresSchema } from "../../src/api/contract";
import { adminToken, call, tokenFor } from "../support/api";

const poolFigures = async () =>
  (await call("GET", "/metrics/pool", { token: await adminToken(), schema: PoolFiguresSchema })).body;

/** A connection of "this service", as the Worker opens them. */
async function openServiceConnection(): Promise<Client> {
  const client = new Client({
    connectionString: env.HYPERDRIVE.connectionString,
    application_name: env.PG_APPLICATION_NAME,
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

// PGlite serves one session at a time: connections held open in a transaction
// would stall every other test, and it has no per-backend pg_stat_activity.
describe.skipIf(inject("embeddedDatabase"))("GET /metrics/pool", () => {
  it("follows real connections: N held in a transaction raise checked_out by N, then it falls", async () => {
    const before = await poolFigures();
    expect(before.source.connections).toContain("pg_stat_activity");
    expect(before.max_connections).toBeGreaterThan(0);

    const held = await Promise.all(Array.from({ length: 4 }, openServiceConnection));
    for (const client of held) await client.query("BEGIN");
    const during = await poolFigures();
    expect(during.checked_out_connections - before.checked_out_connections).toBe(4);
    expect(during.total_connections - before.total_connections).toBe(4);

    for (const client of held) await client.query("COMMIT");
    const idle = await poolFigures();
    expect(idle.checked_in_connections - before.checked_in_connections).toBe(4);
    expect(idle.checked_out_connections).toBe(before.checked_out_connections);

    await Promise.all(held.map((client) => client.end()));
    await expect.poll(async () => (await poolFigures()).total_connections).toBe(before.total_connections);
  });

  it("reports degraded and exhausted against the configured pool size", async () => {
    const size = Number(env.POOL_SIZE);
    const before = await poolFigures();
    const toHold = Math.ceil(size * 0.95) - before.checked_out_connections;
    const held = await Promise.all(Array.from({ length: toHold }, openServiceConnection));
    for (const client of held) await client.query("BEGIN");
    expect((await poolFigures()).status).toBe("exhausted");
    await held[0]?.query("COMMIT");
    await held[1]?.query("COMMIT");
    expect((await poolFigures()).status).toBe("degraded");
    await Promise.all(held.map((client) => client.end()));
  });
});

describe("GET /metrics/pool access", () => {
  it("is for admins only and answers on any database", async () => {
    expect((await call("GET", "/metrics/pool")).status).toBe(401);
    expect((await call("GET", "/metrics/pool", { token: await tokenFor(3, "user") })).status).toBe(403);
    const figures = await call("GET", "/metrics/pool", {
      token: await adminToken(),
      schema: PoolFiguresSchema,
    });
    expect(figures.status).toBe(200);
    expect(figures.body.pool_size).toBe(Number(env.POOL_SIZE));
  });
});

// /metrics/pool's Hyperdrive block against the stand-in for Cloudflare's
// GraphQL Analytics API that test/global-setup.ts starts (the real API cannot be
// reached here). Each test registers the answer for a configId of its own and
// calls the Worker with an env naming it, so no test sees another's answers or
// cache entries.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { PoolFiguresSchema } from "../../src/api/contract";
import { REQUEST_TIMEOUT_MS, WINDOW_MINUTES } from "../../src/metrics/hyperdrive-analytics";
import { poolStatus } from "../../src/routes/metrics";
import worker from "../../src/worker";
import { adminToken } from "../support/api";
import type { StubAnswer, StubCalls } from "../support/cf-graphql-stub";

type PoolFigures = ReturnType<typeof PoolFiguresSchema.parse>;
type Status = PoolFigures["status"];

const ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
const runPrefix = Math.random().toString(16).slice(2, 10).padEnd(8, "0");
let configCounter = 0;
const uniqueConfigId = () => `${runPrefix}${(++configCounter).toString(16).padStart(24, "0")}`;

async function control(method: "PUT" | "GET", path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${inject("cfApiControlUrl")}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`stub control ${path}: ${res.status}`);
  return res;
}

/** Registers what the stand-in answers for this configId; returns the configId. */
async function answering(answer: StubAnswer): Promise<string> {
  const configId = uniqueConfigId();
  await control("PUT", `/answers/${configId}`, answer);
  return configId;
}

const callsFor = async (configId: string) => (await control("GET", `/calls/${configId}`)).json<StubCalls>();

function configuredEnv(configId: string, overrides: Partial<Env> = {}): Env {
  return {
    ...env,
    CF_ACCOUNT_ID: ACCOUNT_ID,
    CF_API_TOKEN: inject("cfApiToken"),
    HYPERDRIVE_CONFIG_ID: configId,
    CF_API_BASE_URL: inject("cfApiBaseUrl"),
    ...overrides,
  };
}

async function poolFigures(testEnv: Env): Promise<PoolFigures> {
  const request = new Request("http://bidding.test/metrics/pool", {
    headers: { Authorization: `Bearer ${await adminToken()}` },
  });
  const res = await worker.fetch(request, testEnv);
  expect(res.status).toBe(200);
  return PoolFiguresSchema.parse(await res.json());
}

/** The status PostgreSQL's own figures in this answer give, before Hyperdrive's are taken in. */
const databaseStatus = (figures: PoolFigures): Status =>
  figures.source.error === undefined
    ? poolStatus(figures.checked_out_connections, figures.pool_size)
    : "exhausted";

const ORDER: Status[] = ["healthy", "degraded", "exhausted"];
const worst = (a: Status, b: Status): Status => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

/** A row of hyperdrivePoolSizesAdaptiveGroups as Cloudflare documents it. */
function poolRow(
  colo: string,
  figures: {
    open?: number;
    peak?: number;
    available?: number;
    waiting?: number;
    waitingPeak?: number;
    max?: number;
  },
) {
  const { open = 3, peak = 5, available = 15, waiting = 0, waitingPeak = 0, max = 20 } = figures;
  return {
    avg: { currentPoolSize: open, availablePoolSlots: available, waitingClients: waiting },
    max: { maxPoolSize: max, currentPoolSize: peak, waitingClients: waitingPeak },
    dimensions: { coloCode: colo },
  };
}

function expectDatabaseFiguresIntact(figures: PoolFigures) {
  expect(figures.pool_size).toBe(Number(env.POOL_SIZE));
  expect(figures.source.connections).toContain("pg_stat_activity");
  expect(figures.total_connections).toBe(figures.checked_in_connections + figures.checked_out_connections);
}

describe("GET /metrics/pool: Hyperdrive's own figures", () => {
  it("maps the pool figures per location, the query latencies and the window they cover", async () => {
    const configId = await answering({
      pools: [
        poolRow("FRA", { open: 4.5, peak: 7, available: 13.5, waiting: 0, waitingPeak: 0, max: 20 }),
        poolRow("AMS", { open: 1, peak: 2, available: 19, waiting: 0, waitingPeak: 0, max: 20 }),
      ],
      queries: [
        {
          count: 90,
          avg: { connectionLatency: 12.5, queryLatency: 4.25 },
          dimensions: { eventStatus: "complete" },
        },
        {
          count: 10,
          avg: { connectionLatency: 40, queryLatency: 250 },
          dimensions: { eventStatus: "error" },
        },
      ],
    });
    const figures = await poolFigures(configuredEnv(configId));
    const block = figures.hyperdrive;
    if (block.state !== "ok") throw new Error(`expected figures, got ${JSON.stringify(block)}`);

    expect(block.config_id).toBe(configId);
    expect(block.locations).toEqual([
      {
        colo: "AMS",
        current_pool_size_avg: 1,
        current_pool_size_max: 2,
        available_pool_slots_avg: 19,
        waiting_clients_avg: 0,
        waiting_clients_max: 0,
        max_pool_size: 20,
        status: "healthy",
      },
      {
        colo: "FRA",
        current_pool_size_avg: 4.5,
        current_pool_size_max: 7,
        available_pool_slots_avg: 13.5,
        waiting_clients_avg: 0,
        waiting_clients_max: 0,
        max_pool_size: 20,
        status: "healthy",
      },
    ]);
    expect(block.queries).toEqual({
      count: 100,
      errors: 10,
      query_latency_ms_avg: 4.25,
      connection_latency_ms_avg: 12.5,
    });
    expect(block.status).toBe("healthy");

    // Five complete minutes ending at the start of the current one, sent as the documented variables.
    const start = Date.parse(block.window.start);
    const end = Date.parse(block.window.end);
    expect(end % 60_000).toBe(0);
    expect(end - start).toBe(WINDOW_MINUTES * 60_000);
    expect(Date.parse(block.fetched_at) - end).toBeLessThan(60_000);
    expect((await callsFor(configId)).lastVariables).toEqual({
      accountTag: ACCOUNT_ID,
      configId,
      datetimeStart: block.window.start,
      datetimeEnd: block.window.end,
    });

    expect(figures.source.hyperdrive).toContain(configId);
    expect(figures.source.hyperdrive_error).toBeUndefined();
    expect(figures.status).toBe(databaseStatus(figures));
    expectDatabaseFiguresIntact(figures);
  });

  it.each([
    { case: "a client waited at some point", row: { waiting: 0.2, waitingPeak: 2 }, status: "degraded" },
    {
      case: "clients waited throughout the window",
      row: { waiting: 1.5, waitingPeak: 4 },
      status: "exhausted",
    },
    {
      case: "no available slot at the pool's maximum",
      row: { available: 0, open: 20, peak: 20 },
      status: "exhausted",
    },
    {
      case: "no idle slot below the maximum (Hyperdrive can open more)",
      row: { available: 0, open: 6, peak: 8 },
      status: "healthy",
    },
    { case: "slots left and nobody waiting", row: { available: 2, open: 18, peak: 19 }, status: "healthy" },
  ] as const)("status is $status when $case", async ({ row, status }) => {
    const configId = await answering({ pools: [poolRow("FRA", row)] });
    const figures = await poolFigures(configuredEnv(configId));
    if (figures.hyperdrive.state !== "ok") throw new Error(JSON.stringify(figures.hyperdrive));
    expect(figures.hyperdrive.locations[0]?.status).toBe(status);
    expect(figures.hyperdrive.status).toBe(status);
    expect(figures.status).toBe(worst(databaseStatus(figures), status));
  });

  it("takes the worst location for the status", async () => {
    const configId = await answering({
      pools: [poolRow("AMS", {}), poolRow("FRA", { waiting: 0.1, waitingPeak: 1 }), poolRow("LHR", {})],
    });
    const figures = await poolFigures(configuredEnv(configId));
    if (figures.hyperdrive.state !== "ok") throw new Error(JSON.stringify(figures.hyperdrive));
    expect(figures.hyperdrive.locations.map((l) => [l.colo, l.status])).toEqual([
      ["AMS", "healthy"],
      ["FRA", "degraded"],
      ["LHR", "healthy"],
    ]);
    expect(figures.hyperdrive.status).toBe("degraded");
    expect(figures.status).toBe(worst(databaseStatus(figures), "degraded"));
  });

  it("answers with the PostgreSQL figures when the API times out, and does not call again at once", async () => {
    const configId = await answering({ delayMs: 10_000, pools: [poolRow("FRA", {})] });
    const started = Date.now();
    const figures = await poolFigures(configuredEnv(configId));
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
    expect(figures.hyperdrive).toMatchObject({
      state: "unavailable",
      config_id: configId,
      error: `GraphQL Analytics API: timed out after ${REQUEST_TIMEOUT_MS} ms`,
    });
    expect(figures.source.hyperdrive_error).toBe(
      `GraphQL Analytics API: timed out after ${REQUEST_TIMEOUT_MS} ms`,
    );
    expect(figures.status).toBe(databaseStatus(figures));
    expectDatabaseFiguresIntact(figures);

    // The failure is remembered: the next request neither waits nor calls again.
    const again = await poolFigures(configuredEnv(configId));
    expect(again.hyperdrive).toEqual(figures.hyperdrive);
    expect((await callsFor(configId)).calls).toBe(1);
  });

  it("names a malformed answer: not JSON, or not the documented shape", async () => {
    const notJson = await answering({ rawBody: "<html>502 Bad Gateway</html>" });
    const first = await poolFigures(configuredEnv(notJson));
    expect(first.hyperdrive.state).toBe("unavailable");
    expect(first.source.hyperdrive_error).toMatch(/^GraphQL Analytics API: HTTP 200, not JSON/);
    expectDatabaseFiguresIntact(first);

    const wrongShape = await answering({
      rawBody: JSON.stringify({
        data: {
          viewer: {
            accounts: [
              {
                hyperdrivePoolSizesAdaptiveGroups: [
                  { ...poolRow("FRA", {}), avg: { currentPoolSize: "lots" } },
                ],
                hyperdriveQueriesAdaptiveGroups: [],
              },
            ],
          },
        },
        errors: null,
      }),
    });
    const second = await poolFigures(configuredEnv(wrongShape));
    expect(second.hyperdrive.state).toBe("unavailable");
    expect(second.source.hyperdrive_error).toMatch(
      /^GraphQL Analytics API: malformed answer: data\.viewer\.accounts\.0\.hyperdrivePoolSizesAdaptiveGroups\.0\.avg\.currentPoolSize: /,
    );
    expect(second.status).toBe(databaseStatus(second));
  });

  it("names a 401 from the API without showing the token", async () => {
    const configId = await answering({ pools: [poolRow("FRA", {})] });
    const badToken = "not-the-token-0123456789";
    const figures = await poolFigures(configuredEnv(configId, { CF_API_TOKEN: badToken }));
    expect(figures.hyperdrive).toMatchObject({
      state: "unavailable",
      error: "GraphQL Analytics API: HTTP 401 (Authentication error)",
    });
    expect(figures.source.hyperdrive_error).toBe("GraphQL Analytics API: HTTP 401 (Authentication error)");
    expect(JSON.stringify(figures)).not.toContain(badToken);
    expect(figures.status).toBe(databaseStatus(figures));
    expectDatabaseFiguresIntact(figures);
  });

  it("names GraphQL errors sent with a 200", async () => {
    const configId = await answering({ errors: [{ message: "does not have access to the path" }] });
    const figures = await poolFigures(configuredEnv(configId));
    expect(figures.source.hyperdrive_error).toBe("GraphQL Analytics API: does not have access to the path");
  });

  it("says it is not configured, calls nothing and changes nothing else without its settings", async () => {
    const configId = await answering({ pools: [poolRow("FRA", { waiting: 3, waitingPeak: 5 })] });
    const figures = await poolFigures(configuredEnv(configId, { CF_ACCOUNT_ID: "" }));
    expect(figures.hyperdrive).toEqual({ state: "not_configured", missing: ["CF_ACCOUNT_ID"] });
    expect(figures.source.hyperdrive).toBe("not configured: set CF_ACCOUNT_ID");
    expect(figures.source.hyperdrive_error).toBeUndefined();
    expect(figures.status).toBe(databaseStatus(figures));
    expect((await callsFor(configId)).calls).toBe(0);

    const bare = await poolFigures({ ...env, CF_ACCOUNT_ID: "", CF_API_TOKEN: "", HYPERDRIVE_CONFIG_ID: "" });
    expect(bare.hyperdrive).toEqual({
      state: "not_configured",
      missing: ["CF_ACCOUNT_ID", "CF_API_TOKEN", "HYPERDRIVE_CONFIG_ID"],
    });
    expect(Object.keys(bare).sort()).toEqual(
      [
        "pool_size",
        "checked_in_connections",
        "checked_out_connections",
        "overflow_connections",
        "total_connections",
        "queue_size",
        "status",
        "max_connections",
        "source",
        "hyperdrive",
      ].sort(),
    );
    expectDatabaseFiguresIntact(bare);
  });

  it("caches the answer for its window: a second request makes no second API call", async () => {
    // The window moves when a minute starts; begin early enough in one that both requests fall in it.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));

    const configId = await answering({ pools: [poolRow("FRA", {})] });
    const first = await poolFigures(configuredEnv(configId));
    const second = await poolFigures(configuredEnv(configId));
    expect(first.hyperdrive.state).toBe("ok");
    expect(second.hyperdrive).toEqual(first.hyperdrive);
    expect((await callsFor(configId)).calls).toBe(1);
  });
});

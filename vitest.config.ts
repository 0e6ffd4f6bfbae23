import { builtinModules } from "node:module";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The Worker and its Durable Objects run inside workerd, against the database
// and cache that test/global-setup.ts prepared, once per database driver.
const workerProject = (name: string, driver: "hyperdrive" | "neon", files: string[], wire = false) => ({
  extends: true as const,
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        hyperdrives: { HYPERDRIVE: inject(wire ? "wireDatabaseUrl" : "databaseUrl") },
        bindings: {
          DB_DRIVER: driver,
          // Separate names keep each project's connections apart in /metrics/pool.
          PG_APPLICATION_NAME: `edge-bidding-api-${name}`,
          DATABASE_URL: inject("databaseUrl"),
          NEON_WS_PROXY: inject("neonWsProxy"),
          JWT_SECRET: inject("jwtSecret"),
          JWT_JWKS_URL: inject("jwksUrl"),
          JWT_ISSUER: inject("providerKeys").issuer,
          JWT_AUDIENCE: inject("providerKeys").audience,
          UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
          UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
          CACHE_NAMESPACE: inject("cacheNamespace"),
          // Small, so a test can reach it.
          LIVE_SOCKETS_PER_SESSION: "8",
          // The pool's requests cannot wait on one another (workerd counts them as hung): bids go one call
          // each here; coalesced bids are tested served, against npm start (test/served/, test/unit/).
          BID_COALESCING: "off",
          // The webhook receiver is a local http:// server; retries a second apart so the tests see them.
          WEBHOOK_ALLOW_LOOPBACK: "true",
          WEBHOOK_RETRY_BASE_SECONDS: "1",
          WEBHOOK_TIMEOUT_MS: "1000",
        },
        // Fewer retries than production (8), so a test sees a delivery reach the dead-letter queue.
        queueConsumers: {
          "bidding-webhooks": {
            maxBatchSize: 100,
            maxBatchTimeout: 0.2,
            maxRetries: 2,
            deadLetterQueue: "bidding-webhooks-dlq",
          },
          "bidding-webhooks-dlq": { maxBatchSize: 100, maxBatchTimeout: 0.2 },
        },
      },
    })),
  ],
  test: {
    name,
    include: files,
    // Wire tests switch the shared database proxy off and count its statements: one file at a time.
    fileParallelism: !wire,
    testTimeout: 30_000,
    deps: {
      // pg in workerd: pre-bundle it (brianc/node-postgres#3700, cloudflare/workers-sdk#12984).
      optimizer: {
        ssr: {
          enabled: true,
          include: ["pg"],
          rolldownOptions: { external: [...builtinModules, /^node:/, /^cloudflare:/] },
        },
      },
    },
  },
});

const NEON_DRIVER_FILES = [
  "client",
  "database-errors",
  "discovery",
  "flush",
  "history",
  "history-large",
  "hyperdrive-pool",
  "identities",
  "leaderboard",
  "me",
  "session-object",
  "sessions",
  "users",
].map((name) => `test/worker/${name}.test.ts`);

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      workerProject("hyperdrive", "hyperdrive", ["test/worker/**/*.test.ts"]),
      // The Neon driver against a real PostgreSQL only (production's Neon is one), and only the
      // files whose requests reach the database through the driver: the rest would learn nothing new.
      ...(process.env.DATABASE_URL ? [workerProject("neon", "neon", NEON_DRIVER_FILES)] : []),
      workerProject("wire", "hyperdrive", ["test/wire/**/*.test.ts"], true),
      // `npm start` as a process of its own, against a real PostgreSQL (it makes a scratch database there).
      ...(process.env.DATABASE_URL
        ? [
            {
              extends: true as const,
              test: {
                name: "served",
                include: ["test/served/**/*.test.ts"],
                environment: "node",
                testTimeout: 120_000,
              },
            },
          ]
        : []),
    ],
  },
});

import { builtinModules } from "node:module";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The Worker and its Durable Objects run inside workerd, against the database
// and cache that test/global-setup.ts prepared, once per database driver.
const workerProject = (driver: "hyperdrive" | "neon") => ({
  extends: true as const,
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
        bindings: {
          DB_DRIVER: driver,
          DATABASE_URL: inject("databaseUrl"),
          NEON_WS_PROXY: inject("neonWsProxy"),
          JWT_SECRET: inject("jwtSecret"),
          UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
          UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
        },
      },
    })),
  ],
  test: {
    name: driver,
    include: ["test/worker/**/*.test.ts"],
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

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      workerProject("hyperdrive"),
      workerProject("neon"),
    ],
  },
});

import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrateDatabase } from "../tools/db-migrate.js";
import { startEmbeddedPostgres } from "../tools/embedded-postgres.js";
import { withPlaceholderPassword } from "../tools/net.js";
import { startPgWireProxy } from "../tools/pg-wire-proxy.js";
import { startUpstashAdapter } from "../tools/upstash-adapter.js";
import { startWebhookReceiver } from "../tools/webhook-receiver.js";
import { startWsProxy } from "../tools/ws-proxy.js";
import { startCfGraphqlStub } from "./support/cf-graphql-stub.js";
import { startJwksServer } from "./support/jwks-server.js";

/**
 * With DATABASE_URL / REDIS_URL set, the tests run against those servers: a
 * database of their own is created and dropped. Without them, on an embedded
 * PGlite and with no cache (the tests that need Redis say they are skipped).
 */
async function createScratchDatabase(serverUrl: string) {
  const name = `bidding_test_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export default async function setup(project: TestProject) {
  const cleanups: (() => Promise<void>)[] = [];
  const serverUrl = process.env.DATABASE_URL;
  let databaseUrl: string;
  if (serverUrl) {
    const scratch = await createScratchDatabase(serverUrl);
    cleanups.push(scratch.drop);
    databaseUrl = scratch.url;
  } else {
    const embedded = await startEmbeddedPostgres({});
    cleanups.push(embedded.close);
    databaseUrl = embedded.url;
  }
  await migrateDatabase(databaseUrl);
  // Hyperdrive bindings insist on a password; trust auth and PGlite ignore it.
  databaseUrl = withPlaceholderPassword(databaseUrl);

  // The "wire" project reaches the same database through a proxy the tests can
  // switch off (database down) and that counts the statements sent to it.
  const wire = await startPgWireProxy({ targetUrl: databaseUrl });
  cleanups.push(wire.close);

  const proxy = await startWsProxy({});
  cleanups.push(proxy.close);

  // Stands in for Cloudflare's GraphQL Analytics API (unreachable here) for /metrics/pool's Hyperdrive block.
  const cfApi = await startCfGraphqlStub({ token: randomBytes(16).toString("hex") });
  cleanups.push(cfApi.close);

  // Stands in for an identity provider: its JWKS, and the private keys the tests sign provider tokens with.
  const jwks = await startJwksServer({
    issuer: "https://issuer.bidding.test/",
    audience: "bidding-api-tests",
  });
  cleanups.push(jwks.close);

  // Receives the Worker's webhook deliveries, and fails them when a test says so.
  const receiver = await startWebhookReceiver();
  cleanups.push(receiver.close);

  let upstashUrl = "";
  const upstashToken = randomBytes(16).toString("hex");
  if (process.env.REDIS_URL) {
    const adapter = await startUpstashAdapter({ redisUrl: process.env.REDIS_URL, token: upstashToken });
    cleanups.push(adapter.close);
    upstashUrl = adapter.url;
  }

  project.provide("databaseUrl", databaseUrl);
  project.provide("embeddedDatabase", !serverUrl);
  project.provide("wireDatabaseUrl", wire.url);
  project.provide("wireControlUrl", wire.controlUrl);
  project.provide("neonWsProxy", proxy.url);
  project.provide("jwtSecret", randomBytes(24).toString("hex"));
  project.provide("upstashUrl", upstashUrl);
  project.provide("upstashToken", upstashUrl ? upstashToken : "");
  project.provide("cacheNamespace", `test-${randomBytes(4).toString("hex")}`);
  project.provide("cfApiBaseUrl", cfApi.apiBaseUrl);
  project.provide("cfApiToken", cfApi.token);
  project.provide("cfApiControlUrl", cfApi.controlUrl);
  project.provide("jwksUrl", jwks.url);
  project.provide("jwksControlUrl", jwks.controlUrl);
  project.provide("providerKeys", jwks.keys);
  project.provide("webhookReceiverUrl", receiver.url);

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}

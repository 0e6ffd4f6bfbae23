// Values test/global-setup.ts hands to the tests and to the workerd pool.
declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    /** PGlite: one session at a time, so no pg_stat_activity to speak of. */
    embeddedDatabase: boolean;
    wireDatabaseUrl: string;
    wireControlUrl: string;
    neonWsProxy: string;
    jwtSecret: string;
    upstashUrl: string;
    upstashToken: string;
    /** Cache keys of this run only, whatever else shares the Redis. */
    cacheNamespace: string;
    /** The stand-in for Cloudflare's GraphQL Analytics API (test/support/cf-graphql-stub.ts). */
    cfApiBaseUrl: string;
    cfApiToken: string;
    cfApiControlUrl: string;
    /** The stand-in identity provider (test/support/jwks-server.ts): its key set, control API, keys, iss and aud. */
    jwksUrl: string;
    jwksControlUrl: string;
    providerKeys: import("./corpus/provider-tokens").ProviderKeys;
    /** The webhook receiver (tools/webhook-receiver.ts): POSTs recorded per path, plans per path. */
    webhookReceiverUrl: string;
  }
}

export {};

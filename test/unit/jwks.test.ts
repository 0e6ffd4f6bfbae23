import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { JwksKeys, JwksUnavailableError } from "../../src/http/jwks";
import { jwkOf } from "../support/jwks-server";

interface FakeProvider {
  fetch: typeof fetch;
  calls: () => number;
  setDown: (down: boolean) => void;
  /** Resolves the fetches waiting while held. */
  hold: () => () => void;
}

let rsaJwk: JsonWebKey;
let ecJwk: JsonWebKey;

beforeAll(() => {
  rsaJwk = jwkOf(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey);
  ecJwk = jwkOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey);
});

function fakeProvider(keys: () => unknown[]): FakeProvider {
  let calls = 0;
  let down = false;
  let gate: Promise<void> | undefined;
  return {
    calls: () => calls,
    setDown: (value) => {
      down = value;
    },
    hold: () => {
      let release = () => {};
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
    fetch: async () => {
      calls++;
      if (gate) await gate;
      if (down) return new Response("down", { status: 503 });
      return Response.json({ keys: keys() });
    },
  };
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const setup = (keys: () => unknown[], cooldownMs = 30_000) => {
  const provider = fakeProvider(keys);
  const time = clock();
  const jwks = new JwksKeys("https://issuer.test/jwks.json", {
    cooldownMs,
    maxAgeMs: 600_000,
    fetch: provider.fetch,
    now: time.now,
    onError: () => {},
  });
  return { provider, time, jwks };
};

describe("JwksKeys", () => {
  it("fetches once and then answers from memory", async () => {
    const { provider, jwks } = setup(() => [
      { ...rsaJwk, kid: "r1", alg: "RS256" },
      { ...ecJwk, kid: "e1" },
    ]);
    expect(await jwks.key("r1", "RS256")).toBeDefined();
    expect(await jwks.key("e1", "ES256")).toBeDefined();
    expect(await jwks.key("r1", "RS256")).toBeDefined();
    expect(provider.calls()).toBe(1);
  });

  it("gives a key only for the algorithm it is published for", async () => {
    const { jwks } = setup(() => [
      { ...rsaJwk, kid: "r1" },
      { ...ecJwk, kid: "e1", alg: "ES256" },
      { ...rsaJwk, kid: "pss", alg: "PS256" },
      { ...rsaJwk, kid: "enc", use: "enc" },
      { ...ecJwk, kid: "no-curve", crv: "P-384" },
      { kty: "RSA", kid: "short", n: "AQAB", e: "AQAB" },
    ]);
    expect(await jwks.key("r1", "ES256")).toBeUndefined();
    expect(await jwks.key("e1", "RS256")).toBeUndefined();
    for (const kid of ["pss", "enc", "no-curve", "short"]) {
      expect(await jwks.key(kid, "RS256")).toBeUndefined();
      expect(jwks.has(kid)).toBe(false);
    }
    expect(await jwks.key("r1", "RS256")).toBeDefined();
  });

  it("refetches for an unknown kid at most once per cooldown", async () => {
    let published = [{ ...rsaJwk, kid: "old" }];
    const { provider, time, jwks } = setup(() => published, 30_000);
    expect(await jwks.key("old", "RS256")).toBeDefined();
    // Within the cooldown, made-up kids cost nothing.
    for (let i = 0; i < 50; i++) expect(await jwks.key(`random-${i}`, "RS256")).toBeUndefined();
    expect(provider.calls()).toBe(1);
    // The provider rotates; past the cooldown the first token with the new kid fetches once.
    published = [{ ...rsaJwk, kid: "new" }];
    time.advance(30_000);
    expect(await jwks.key("new", "RS256")).toBeDefined();
    expect(provider.calls()).toBe(2);
    // The rotated-out key is gone with the set it came from.
    expect(jwks.has("old")).toBe(false);
  });

  it("shares one fetch between the requests that wait for it", async () => {
    const { provider, jwks } = setup(() => [{ ...ecJwk, kid: "e1" }]);
    const release = provider.hold();
    const waiting = Promise.all(Array.from({ length: 20 }, () => jwks.key("e1", "ES256")));
    release();
    expect((await waiting).every(Boolean)).toBe(true);
    expect(provider.calls()).toBe(1);
  });

  it("keeps the keys it has when the provider is down, and refreshes a stale set behind the request", async () => {
    const { provider, time, jwks } = setup(() => [{ ...rsaJwk, kid: "r1" }]);
    const waited: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>) => waited.push(promise);
    expect(await jwks.key("r1", "RS256", waitUntil)).toBeDefined();
    provider.setDown(true);
    time.advance(600_000);
    // Stale: answered from memory at once; the refresh runs behind it (and fails).
    expect(await jwks.key("r1", "RS256", waitUntil)).toBeDefined();
    await Promise.all(waited);
    expect(provider.calls()).toBe(2);
    expect(await jwks.key("r1", "RS256", waitUntil)).toBeDefined();
    expect(provider.calls()).toBe(2);
    // Back up: the next refresh after the cooldown succeeds.
    provider.setDown(false);
    time.advance(30_000);
    expect(await jwks.key("r1", "RS256", waitUntil)).toBeDefined();
    await Promise.all(waited);
    expect(provider.calls()).toBe(3);
  });

  it("with nothing cached and the provider down: unavailable, retried after a few seconds, not per request", async () => {
    const { provider, time, jwks } = setup(() => [{ ...rsaJwk, kid: "r1" }]);
    provider.setDown(true);
    await expect(jwks.key("r1", "RS256")).rejects.toBeInstanceOf(JwksUnavailableError);
    await expect(jwks.key("r1", "RS256")).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(provider.calls()).toBe(1);
    provider.setDown(false);
    time.advance(5_000);
    expect(await jwks.key("r1", "RS256")).toBeDefined();
    expect(provider.calls()).toBe(2);
  });
});

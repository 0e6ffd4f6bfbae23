// Identity-provider tokens (API.md, "Browsers"): RS256 and ES256 verified
// against the stand-in provider's JWKS that test/global-setup.ts serves. Tests
// that count fetches or switch the key set off name a key-set URL of their own,
// so the Worker keeps a fresh cache for them and no other test shares it.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { BidReceiptSchema } from "../../src/api/contract";
import worker from "../../src/worker";
import { providerToken as corpusProviderToken, useProviderKeys } from "../corpus/provider-tokens";
import { TokenKit } from "../corpus/tokens";
import { call, createSession, createUsers, readResponse, type Session, tokenFor } from "../support/api";
import { signTestToken } from "../support/corpus";
import {
  providerKeys as keys,
  nowSeconds,
  providerClaims,
  providerToken,
  signJwt,
} from "../support/provider-tokens";

async function send(
  testEnv: Env,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://bidding.test${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** An env whose key set lives at a URL no other test uses: a cold cache, fetches counted for it alone. */
function ownKeySet(overrides: Partial<Env> = {}) {
  const path = `/own/${crypto.randomUUID()}/jwks.json`;
  const control = async (action: "down" | "up" | "fetches") => {
    const res = await fetch(
      `${inject("jwksControlUrl")}/control/${action}?path=${encodeURIComponent(path)}`,
      {
        method: action === "fetches" ? "GET" : "POST",
      },
    );
    return res.json<{ fetches?: number }>();
  };
  return {
    env: { ...env, JWT_JWKS_URL: `${inject("jwksControlUrl")}${path}`, ...overrides },
    fetches: async () => (await control("fetches")).fetches ?? 0,
    down: () => control("down"),
  };
}

let session: Session;
let bidder: number;
let amount = 100;

beforeAll(async () => {
  session = await createSession({ minIncrement: 1 });
  const [user] = await createUsers(1);
  if (!user) throw new Error("no user");
  bidder = user.id;
});

afterEach(() => {
  vi.restoreAllMocks();
});

const statsPath = () => `/v1/sessions/${session.id}/stats`;

describe("provider tokens accepted", () => {
  it("RS256: an admin reads a session's stats", async () => {
    const token = await providerToken("rsa", providerClaims(1, "admin"));
    const res = await call("GET", statsPath(), { token });
    expect(res.status).toBe(200);
  });

  it("ES256: a user places a bid", async () => {
    const token = await providerToken("ec", providerClaims(`es256|${crypto.randomUUID()}`, "user"));
    amount += 10;
    const res = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token,
      body: { amount },
      schema: BidReceiptSchema,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount });
  });

  it("takes the role from JWT_ROLE_CLAIM", async () => {
    const testEnv = { ...env, JWT_ROLE_CLAIM: "https://bidding.test/role" };
    const namespaced = await providerToken(
      "rsa",
      providerClaims(1, "user", { "https://bidding.test/role": "admin" }),
    );
    expect((await send(testEnv, "GET", statsPath(), namespaced)).status).toBe(200);
    // The plain claim no longer counts: without the configured one the token is a user's.
    const plain = await providerToken("rsa", providerClaims(1, "admin"));
    expect((await send(testEnv, "GET", statsPath(), plain)).status).toBe(403);
  });

  it("without the role claim, a user: bids, and is refused an admin route", async () => {
    const token = await providerToken(
      "rsa",
      providerClaims(`norole|${crypto.randomUUID()}`, "user", { role: undefined }),
    );
    amount += 10;
    const bid = await call("POST", `/v1/sessions/${session.id}/bids`, { token, body: { amount } });
    expect(bid.status).toBe(201);
    const stats = await call("GET", statsPath(), { token });
    expect(stats.status).toBe(403);
    expect(stats.problem.code).toBe("forbidden");
  });
});

describe("provider tokens refused with 401 problem documents", () => {
  const forged: { name: string; token: () => Promise<string> }[] = [
    {
      name: "a kid the key set does not have",
      token: () => providerToken("rsa", providerClaims(bidder, "user"), { kid: "no-such-key" }),
    },
    { name: "no kid", token: () => providerToken("rsa", providerClaims(bidder, "user"), { kid: undefined }) },
    {
      name: "another issuer",
      token: () => providerToken("rsa", providerClaims(bidder, "user", { iss: "https://elsewhere.test/" })),
    },
    {
      name: "no issuer",
      token: () => providerToken("ec", providerClaims(bidder, "user", { iss: undefined })),
    },
    {
      name: "another audience",
      token: () => providerToken("rsa", providerClaims(bidder, "user", { aud: "some-other-api" })),
    },
    {
      name: "no audience",
      token: () => providerToken("ec", providerClaims(bidder, "user", { aud: undefined })),
    },
    {
      name: "expired",
      token: () => providerToken("ec", providerClaims(bidder, "user", { exp: nowSeconds() - 10 })),
    },
    {
      name: "not yet valid (nbf an hour ahead)",
      token: () => providerToken("rsa", providerClaims(bidder, "user", { nbf: nowSeconds() + 3600 })),
    },
    { name: "no exp", token: () => providerToken("rsa", providerClaims(bidder, "user", { exp: undefined })) },
    {
      name: "RS384 with the RSA key's kid",
      token: () =>
        signJwt({ alg: "RS384", typ: "JWT", kid: keys().rsa.kid }, providerClaims(bidder, "user"), {
          alg: "RS384",
          jwk: keys().rsa,
        }),
    },
    {
      name: "PS256 with a PS256 key the set publishes",
      token: () =>
        signJwt({ alg: "PS256", typ: "JWT", kid: `ps-${keys().rsa.kid}` }, providerClaims(bidder, "user"), {
          alg: "PS256",
          jwk: keys().rsa,
        }),
    },
    {
      name: "RS256 naming a key published for encryption",
      token: () => providerToken("rsa", providerClaims(bidder, "user"), { kid: `enc-${keys().rsa.kid}` }),
    },
    {
      name: "ES256 naming the RSA key",
      token: () => providerToken("ec", providerClaims(bidder, "user"), { kid: keys().rsa.kid }),
    },
    {
      name: "alg none naming the RSA key",
      token: () =>
        signJwt({ alg: "none", typ: "JWT", kid: keys().rsa.kid }, providerClaims(bidder, "user"), {
          alg: "none",
        }),
    },
    {
      name: "HS256 with the RSA public key (PEM) as HMAC secret (algorithm confusion)",
      token: () =>
        signJwt({ alg: "HS256", typ: "JWT", kid: keys().rsa.kid }, providerClaims(bidder, "user"), {
          alg: "HS256",
          secret: keys().rsaPublicPem,
        }),
    },
    {
      name: "HS256 with the RSA public JWK as HMAC secret",
      token: () => {
        const { kty, n, e } = keys().rsa;
        return signJwt({ alg: "HS256", typ: "JWT" }, providerClaims(bidder, "user"), {
          alg: "HS256",
          secret: JSON.stringify({ kty, n, e }),
        });
      },
    },
    {
      name: "RS256 signed by another key under the real kid",
      token: async () => {
        const pair = await crypto.subtle.generateKey(
          {
            name: "RSASSA-PKCS1-v1_5",
            modulusLength: 2048,
            publicExponent: new Uint8Array([1, 0, 1]),
            hash: "SHA-256",
          },
          true,
          ["sign", "verify"],
        );
        if (!("privateKey" in pair)) throw new Error("no key pair");
        const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
        if (jwk instanceof ArrayBuffer) throw new Error("not a JWK");
        return signJwt({ alg: "RS256", typ: "JWT", kid: keys().rsa.kid }, providerClaims(bidder, "user"), {
          alg: "RS256",
          jwk,
        });
      },
    },
    {
      name: "a role that is neither user nor admin",
      token: () => providerToken("ec", providerClaims(bidder, "superuser")),
    },
    { name: "no sub", token: () => providerToken("rsa", providerClaims(bidder, "user", { sub: undefined })) },
    { name: "an empty sub", token: () => providerToken("ec", providerClaims("", "user")) },
    {
      name: "a sub of 1,000 characters",
      token: () => providerToken("rsa", providerClaims("s".repeat(1000), "user")),
    },
    {
      name: "a sub of 256 characters",
      token: () => providerToken("ec", providerClaims("s".repeat(256), "user")),
    },
    { name: "a sub with a NUL", token: () => providerToken("rsa", providerClaims("auth0|a\u0000b", "user")) },
    { name: "a sub with a newline", token: () => providerToken("ec", providerClaims("auth0|a\nb", "user")) },
    { name: "a sub with DEL", token: () => providerToken("rsa", providerClaims("auth0|ab\u007f", "user")) },
    {
      name: "a sub with a C1 control (NEL)",
      token: () => providerToken("ec", providerClaims("a\u0085b", "user")),
    },
    {
      name: "a sub with a lone surrogate",
      token: () => providerToken("rsa", providerClaims("a\ud800b", "user")),
    },
    {
      name: "a sub that is a JSON number",
      token: () => providerToken("ec", providerClaims(bidder, "user", { sub: bidder })),
    },
  ];

  it.each(forged)("$name", async ({ token }) => {
    amount += 10;
    const res = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await token(),
      body: { amount },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.problem.code).toBe("unauthorized");
  });
});

describe("the corpus's provider tokens (test/corpus/provider-tokens.ts)", () => {
  it("sign tokens the Worker accepts once given the stand-in provider's keys", async () => {
    const kit = await TokenKit.create(
      inject("jwtSecret"),
      signTestToken,
      { a: bidder, b: bidder, c: bidder },
      crypto.randomUUID().slice(0, 8),
    );
    useProviderKeys(kit, keys());
    for (const key of ["rsa", "ec"] as const) {
      const token = await corpusProviderToken(kit, "admin", { key });
      expect((await call("GET", statsPath(), { token })).status).toBe(200);
    }
  });
});

describe("the key set", () => {
  it("is fetched once, not per request", async () => {
    const keySet = ownKeySet();
    for (let i = 0; i < 10; i++) {
      const token = await providerToken(i % 2 ? "rsa" : "ec", providerClaims(1, "admin", { jti: `t${i}` }));
      expect((await send(keySet.env, "GET", statsPath(), token)).status).toBe(200);
    }
    expect(await keySet.fetches()).toBe(1);
  });

  it("is fetched again once for an unknown kid, and not again within the cooldown", async () => {
    const keySet = ownKeySet({ JWT_JWKS_COOLDOWN_SECONDS: "1" });
    const valid = await providerToken("rsa", providerClaims(1, "admin"));
    expect((await send(keySet.env, "GET", statsPath(), valid)).status).toBe(200);
    expect(await keySet.fetches()).toBe(1);
    await scheduler.wait(1_100);

    const unknown = (kid: string) => providerToken("rsa", providerClaims(1, "admin"), { kid });
    expect((await send(keySet.env, "GET", statsPath(), await unknown("rotated-1"))).status).toBe(401);
    expect(await keySet.fetches()).toBe(2);
    // Made-up kids right after: refused from the set in hand, no fetch each.
    for (const kid of ["rotated-2", "rotated-3", "rotated-4"]) {
      expect((await send(keySet.env, "GET", statsPath(), await unknown(kid))).status).toBe(401);
    }
    expect(await keySet.fetches()).toBe(2);
    expect((await send(keySet.env, "GET", statsPath(), valid)).status).toBe(200);
  });

  it("down: tokens signed with cached keys still pass", async () => {
    const keySet = ownKeySet();
    expect(
      (await send(keySet.env, "GET", statsPath(), await providerToken("ec", providerClaims(1, "admin"))))
        .status,
    ).toBe(200);
    await keySet.down();
    // Fresh tokens, so their signatures are checked against the cached keys.
    for (const key of ["rsa", "ec"] as const) {
      const token = await providerToken(key, providerClaims(1, "admin", { jti: crypto.randomUUID() }));
      expect((await send(keySet.env, "GET", statsPath(), token)).status).toBe(200);
    }
  });

  it("down with nothing cached: 503 problem, not 401", async () => {
    const keySet = ownKeySet();
    await keySet.down();
    const res = await send(
      keySet.env,
      "GET",
      statsPath(),
      await providerToken("rsa", providerClaims(1, "admin")),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect((await readResponse(`GET ${statsPath()}`, res)).problem).toMatchObject({
      code: "service_unavailable",
    });
  });
});

describe("verified tokens are remembered", () => {
  it("a repeated token skips the signature check", async () => {
    const keySet = ownKeySet();
    const token = await providerToken("rsa", providerClaims(1, "admin"));
    const verify = vi.spyOn(crypto.subtle, "verify");
    expect((await send(keySet.env, "GET", statsPath(), token)).status).toBe(200);
    const afterFirst = verify.mock.calls.length;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await send(keySet.env, "GET", statsPath(), token)).status).toBe(200);
    expect(verify.mock.calls.length).toBe(afterFirst);
  });

  it("but only until its exp", async () => {
    const exp = nowSeconds() + 2;
    const token = await providerToken("ec", providerClaims(1, "admin", { exp }));
    expect((await call("GET", statsPath(), { token })).status).toBe(200);
    await scheduler.wait((exp - Date.now() / 1000) * 1000 + 100);
    expect((await call("GET", statsPath(), { token })).status).toBe(401);
  });

  it("HS256 tokens too, with the same exp check", async () => {
    const token = await tokenFor(1, "admin", { expiresInSeconds: 2 });
    expect((await call("GET", statsPath(), { token })).status).toBe(200);
    await scheduler.wait(2_100);
    expect((await call("GET", statsPath(), { token })).status).toBe(401);
  });
});

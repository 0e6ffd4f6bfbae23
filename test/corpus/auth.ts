// Tokens: missing, malformed, expired, unsigned, signed another way, with bad
// claims (401 unauthorized), and valid tokens with the wrong role (403
// forbidden). Every request is one the route would accept with the right
// token, so a token that slips through changes state and the run says so.
import {
  type Auth,
  bad,
  type CaseRequest,
  type CorpusCase,
  type Expectation,
  forbidden,
  get,
  json,
  patch,
  post,
  problem,
  SESSION,
  send,
  sessionBody,
  unauthorized,
  VALID_BID,
} from "./case.js";
import { providerClaims, providerKeys, providerToken, signJwt } from "./provider-tokens.js";
import { base64url, bearer, type TokenKit, type TokenName } from "./tokens.js";

/** A bad Authorization value, built for the subject whose valid token it imitates. */
interface TokenVariant {
  name: string;
  build: (kit: TokenKit, who: TokenName) => string | Promise<string>;
  /** Default 401 unauthorized. */
  expect?: Expectation;
}

const HEADER = 0;
const PAYLOAD = 1;
const SIGNATURE = 2;
const part = (token: string, index: number) => token.split(".")[index] ?? "";
/** `who`'s valid token with its payload replaced by `claims` and its signature kept. */
const withPayload = (kit: TokenKit, who: TokenName, claims: Record<string, unknown>) => {
  const token = kit.token(who);
  const payload = base64url(JSON.stringify(claims));
  // A replacement equal to the signed payload would be a valid token, not a forged one.
  if (payload === part(token, PAYLOAD)) throw new Error("the swapped payload equals the signed one");
  return bearer(`${part(token, HEADER)}.${payload}.${part(token, SIGNATURE)}`);
};
const claimsWith = (overrides: Record<string, unknown>) => async (kit: TokenKit, who: TokenName) =>
  bearer(await kit.jwt({ payload: kit.claims(who, overrides) }));

const unknownRole = problem([401, 403], ["unauthorized", "forbidden"]);

const variants: TokenVariant[] = [
  // The header itself.
  { name: "empty Authorization value", build: () => "" },
  { name: "scheme only: 'Bearer'", build: () => "Bearer" },
  { name: "Basic credentials", build: () => `Basic ${btoa("admin:admin")}` },
  { name: "valid token without the Bearer scheme", build: (kit, who) => kit.token(who) },
  { name: "valid token under another scheme (Token)", build: (kit, who) => `Token ${kit.token(who)}` },
  { name: "not a JWT", build: () => "Bearer not-a-jwt" },
  { name: "three one-letter segments a.b.c", build: () => "Bearer a.b.c" },
  {
    name: "two segments (no signature part)",
    build: (kit, who) => bearer(kit.token(who).split(".").slice(0, 2).join(".")),
  },
  { name: "four segments", build: (kit, who) => bearer(`${kit.token(who)}.e30`) },
  { name: "base64 padding on the signature", build: (kit, who) => bearer(`${kit.token(who)}==`) },
  { name: "8 KiB of garbage", build: () => bearer("x".repeat(8192)) },
  { name: "non-ASCII characters in the token", build: () => "Bearer tökén.ünïcode.sïg" },
  { name: "a control character in the header value", build: (kit, who) => `Bearer \u0001${kit.token(who)}` },
  // The signature.
  {
    // The first character: it carries six bits of the MAC (the last one partly carries padding bits).
    name: "signature altered (its first character changed)",
    build: (kit, who) => {
      const token = kit.token(who);
      const signature = part(token, SIGNATURE);
      const altered = `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
      return bearer(`${part(token, HEADER)}.${part(token, PAYLOAD)}.${altered}`);
    },
  },
  {
    name: "signature removed",
    build: (kit, who) => bearer(`${kit.token(who).split(".").slice(0, 2).join(".")}.`),
  },
  {
    name: "a user's token with role changed to admin, signature kept",
    build: (kit) => withPayload(kit, "bidderB", kit.claims("bidderB", { role: "admin" })),
  },
  {
    name: "sub changed to another user's, signature kept",
    build: (kit, who) => {
      const other: TokenName = who === "bidderB" ? "bidderC" : "bidderB";
      return withPayload(kit, who, kit.claims(who, { sub: kit.claims(other).sub }));
    },
  },
  {
    name: "signed with another secret",
    build: async (kit, who) => bearer(await kit.jwt({ payload: kit.claims(who), secret: "not-the-secret" })),
  },
  {
    name: "signed with an empty secret",
    build: async (kit, who) => bearer(await kit.jwt({ payload: kit.claims(who), secret: "" })),
  },
  {
    name: "signed with the secret upper-cased",
    build: async (kit, who) =>
      bearer(await kit.jwt({ payload: kit.claims(who), secret: kit.devSecret.toUpperCase() })),
  },
  // The algorithm.
  {
    name: "alg none, no signature",
    build: async (kit, who) => bearer(await kit.jwt({ payload: kit.claims(who), sign: "none" })),
  },
  {
    name: "alg 'None', no signature",
    build: async (kit, who) =>
      bearer(await kit.jwt({ payload: kit.claims(who), sign: "none", header: { alg: "None", typ: "JWT" } })),
  },
  {
    name: "alg none with a valid HS256 signature",
    build: async (kit, who) =>
      bearer(await kit.jwt({ payload: kit.claims(who), header: { alg: "none", typ: "JWT" } })),
  },
  {
    name: "HS384 with the right secret",
    build: async (kit, who) => bearer(await kit.jwt({ payload: kit.claims(who), sign: "HS384" })),
  },
  {
    name: "HS512 with the right secret",
    build: async (kit, who) => bearer(await kit.jwt({ payload: kit.claims(who), sign: "HS512" })),
  },
  {
    name: "header says RS256, HMAC-signed with the secret (alg confusion)",
    build: async (kit, who) =>
      bearer(await kit.jwt({ payload: kit.claims(who), header: { alg: "RS256", typ: "JWT" } })),
  },
  {
    name: "header without alg",
    build: async (kit, who) => bearer(await kit.jwt({ payload: kit.claims(who), header: { typ: "JWT" } })),
  },
  {
    name: "header is not JSON",
    build: async (kit, who) =>
      bearer(await kit.signParts(base64url("HS256"), base64url(JSON.stringify(kit.claims(who))))),
  },
  // Expiry and validity window.
  { name: "expired a minute ago", build: (kit, who) => claimsWith({ exp: kit.now - 60 })(kit, who) },
  { name: "exp 0", build: claimsWith({ exp: 0 }) },
  { name: "exp -1", build: claimsWith({ exp: -1 }) },
  { name: "exp as a string", build: (kit, who) => claimsWith({ exp: String(kit.now + 3600) })(kit, who) },
  { name: "exp null", build: claimsWith({ exp: null }) },
  { name: "exp missing", build: claimsWith({ exp: undefined }) },
  {
    name: "not valid before an hour from now (nbf)",
    build: (kit, who) => claimsWith({ nbf: kit.now + 3600 })(kit, who),
  },
  // sub.
  { name: "sub '0'", build: claimsWith({ sub: "0" }) },
  { name: "sub '-1'", build: claimsWith({ sub: "-1" }) },
  { name: "sub '1.5'", build: claimsWith({ sub: "1.5" }) },
  { name: "sub '1e3'", build: claimsWith({ sub: "1e3" }) },
  { name: "sub 'abc'", build: claimsWith({ sub: "abc" }) },
  { name: "sub '0x2A'", build: claimsWith({ sub: "0x2A" }) },
  { name: "sub ''", build: claimsWith({ sub: "" }) },
  { name: "sub of 20 digits", build: claimsWith({ sub: "12345678901234567890" }) },
  { name: 'sub SQL: "1 OR 1=1"', build: claimsWith({ sub: "1 OR 1=1" }) },
  { name: "sub missing", build: claimsWith({ sub: undefined }) },
  {
    name: "sub a JSON number, not a decimal string",
    build: (kit, who) => claimsWith({ sub: Number(kit.claims(who).sub) })(kit, who),
  },
  // role.
  { name: "role missing", build: claimsWith({ role: undefined }) },
  { name: "role null", build: claimsWith({ role: null }) },
  { name: "role ''", build: claimsWith({ role: "" }), expect: unknownRole },
  { name: "unknown role 'superuser'", build: claimsWith({ role: "superuser" }), expect: unknownRole },
  { name: "role 'ADMIN' (wrong case)", build: claimsWith({ role: "ADMIN" }), expect: unknownRole },
  {
    name: "role as an array ['admin','user']",
    build: claimsWith({ role: ["admin", "user"] }),
    expect: unknownRole,
  },
  // The payload.
  {
    name: "payload is not JSON",
    build: async (kit) =>
      bearer(
        await kit.signParts(base64url(JSON.stringify({ alg: "HS256", typ: "JWT" })), base64url("hello")),
      ),
  },
  { name: "payload is a JSON array", build: async (kit) => bearer(await kit.jwt({ payload: ["admin"] })) },
  { name: "payload is JSON null", build: async (kit) => bearer(await kit.jwt({ payload: null })) },
  { name: "payload is an empty object", build: async (kit) => bearer(await kit.jwt({ payload: {} })) },
  // Identity-provider tokens (API.md, "Browsers"): each flawed in one way, signed with the provider's keys.
  {
    name: "provider RS256 with a kid the key set lacks",
    build: async (kit, who) =>
      bearer(await providerToken(kit, who, { key: "rsa", header: { kid: "rotated-away" } })),
  },
  {
    name: "provider ES256 from another issuer",
    build: async (kit, who) =>
      bearer(await providerToken(kit, who, { key: "ec", claims: { iss: "https://elsewhere.test/" } })),
  },
  {
    name: "provider RS256 for another audience",
    build: async (kit, who) =>
      bearer(await providerToken(kit, who, { key: "rsa", claims: { aud: "another-api" } })),
  },
  {
    name: "provider ES256 expired a minute ago",
    build: async (kit, who) =>
      bearer(await providerToken(kit, who, { key: "ec", claims: { exp: kit.now - 60 } })),
  },
  {
    name: "provider RS256 not valid before an hour from now (nbf)",
    build: async (kit, who) =>
      bearer(await providerToken(kit, who, { key: "rsa", claims: { nbf: kit.now + 3600 } })),
  },
  {
    name: "provider key, RS384 (an algorithm outside the contract)",
    build: async (kit, who) => {
      const { rsa } = await providerKeys(kit);
      const header = { alg: "RS384", typ: "JWT", kid: rsa.kid };
      return bearer(await signJwt(header, await providerClaims(kit, who), { alg: "RS384", jwk: rsa }));
    },
  },
  {
    name: "provider EC key's signature under the RSA key's kid (ES256 header)",
    build: async (kit, who) => {
      const { rsa } = await providerKeys(kit);
      return bearer(await providerToken(kit, who, { key: "ec", header: { kid: rsa.kid } }));
    },
  },
  {
    name: "alg none naming the provider's RSA key",
    build: async (kit, who) => {
      const { rsa } = await providerKeys(kit);
      const header = { alg: "none", typ: "JWT", kid: rsa.kid };
      return bearer(await signJwt(header, await providerClaims(kit, who), { alg: "none" }));
    },
  },
  // Provider subjects the contract refuses (a user or a 401, never anyone else's account, API.md v1.2).
  ...(
    [
      ["''", ""],
      ["of 1,000 characters", "s".repeat(1000)],
      ["of 256 characters", "s".repeat(256)],
      ["with a NUL", "corpus|a\u0000b"],
      ["with a newline", "corpus|a\nb"],
      ["with an escape sequence", "\u001b[31mcorpus"],
      ["with DEL", "corpus|ab\u007f"],
      ["with a C1 control (NEL)", "corpus|a\u0085b"],
      ["with a lone surrogate", "corpus|a\ud800b"],
      ["a JSON number", 12345],
      ["null", null],
      ["an array", ["corpus|a"]],
      ["missing", undefined],
    ] as const
  ).map(
    ([label, sub], i): TokenVariant => ({
      name: `provider ${i % 2 ? "ES256" : "RS256"} with sub ${label}`,
      build: async (kit, who) =>
        bearer(await providerToken(kit, who, { key: i % 2 ? "ec" : "rsa", claims: { sub } })),
    }),
  ),
  {
    name: "provider RS256 with role 'superuser'",
    build: async (kit, who) =>
      bearer(await providerToken(kit, who, { key: "rsa", claims: { role: "superuser" } })),
    expect: unknownRole,
  },
  {
    name: "HS256 signed with the provider's RSA public key (PEM) as HMAC secret (alg confusion)",
    build: async (kit, who) => {
      const { rsa, rsaPublicPem } = await providerKeys(kit);
      const header = { alg: "HS256", typ: "JWT", kid: rsa.kid };
      return bearer(
        await signJwt(header, await providerClaims(kit, who), { alg: "HS256", secret: rsaPublicPem }),
      );
    },
  },
];

/** Each variant is tried on a user route and an admin route, each time with a body that route would take. */
const targets: { label: string; who: TokenName; request: (auth: Auth) => CaseRequest }[] = [
  {
    label: "user route POST /bids",
    who: "bidderA",
    request: (auth) => post(`${SESSION.active}/bids`, VALID_BID, { auth }),
  },
  {
    label: "admin route POST /v1/sessions",
    who: "admin",
    request: (auth) => post("/v1/sessions", json(sessionBody({ title: "Corpus {{tag}} forged" })), { auth }),
  },
];

const tokenCases: CorpusCase[] = variants.flatMap((variant) =>
  targets.map((target) =>
    bad(
      `${variant.name} — ${target.label}`,
      target.request((kit) => variant.build(kit, target.who)),
      variant.expect ?? unauthorized,
    ),
  ),
);

/** Every protected endpoint with a request it would accept, to try without a token and with the wrong role. */
const protectedRequests: { label: string; role: "admin" | "user"; request: (auth?: Auth) => CaseRequest }[] =
  [
    {
      label: "POST /v1/users",
      role: "admin",
      request: (auth) => post("/v1/users", json({ username: "corpus_{{tag}}_x" }), { auth }),
    },
    {
      label: "POST /v1/users/batch",
      role: "admin",
      request: (auth) => post("/v1/users/batch", json({ usernames: ["corpus_{{tag}}_y"] }), { auth }),
    },
    {
      label: "POST /v1/sessions",
      role: "admin",
      request: (auth) => post("/v1/sessions", json(sessionBody()), { auth }),
    },
    {
      label: "PATCH /v1/sessions/{id}",
      role: "admin",
      request: (auth) => patch(SESSION.active, json({ title: "Renamed by the corpus" }), { auth }),
    },
    {
      label: "GET /v1/sessions/{id}/stats",
      role: "admin",
      request: (auth) => get(`${SESSION.active}/stats`, { auth }),
    },
    { label: "GET /metrics/pool", role: "admin", request: (auth) => get("/metrics/pool", { auth }) },
    {
      label: "POST /v1/sessions/{id}/bids",
      role: "user",
      request: (auth) => post(`${SESSION.active}/bids`, VALID_BID, { auth }),
    },
    {
      label: "GET /v1/sessions/{id}/bids/me",
      role: "user",
      request: (auth) => get(`${SESSION.active}/bids/me`, { auth }),
    },
    {
      label: "DELETE /v1/users/{id}/identities",
      role: "admin",
      request: (auth) => send("DELETE", "/v1/users/{{userA}}/identities", { auth }),
    },
  ];

const missingTokenCases = protectedRequests.map(({ label, request }) =>
  bad(`no Authorization header — ${label}`, request(), unauthorized),
);

const wrongRoleCases = protectedRequests.map(({ label, role, request }) =>
  role === "admin"
    ? bad(`user token on the admin route ${label}`, request("bidderB"), forbidden)
    : bad(`admin token on the user route ${label}`, request("admin"), forbidden),
);

const otherCases: CorpusCase[] = [
  bad(
    "user token re-opening the ended session (PATCH endsAt)",
    patch(SESSION.ended, json({ endsAt: "2099-01-01T00:00:00.000Z" }), { auth: "bidderA" }),
    forbidden,
  ),
  bad(
    "admin token bidding in the scheduled session",
    post(`${SESSION.scheduled}/bids`, VALID_BID, { auth: "admin" }),
    forbidden,
  ),
  bad(
    "token of a user id nobody has, on an admin route",
    post("/v1/sessions", json(sessionBody()), { auth: "ghost" }),
    forbidden,
  ),
  bad(
    "user token on the stats of an unknown session",
    get(`${SESSION.unknown}/stats`, { auth: "bidderB" }),
    problem([403, 404], ["forbidden", "session_not_found"]),
  ),
  bad(
    "two Authorization headers (admin token and garbage)",
    get(`${SESSION.active}/stats`, {
      headers: { Authorization: ["Bearer garbage", "Bearer {{adminToken}}"] },
    }),
    unauthorized,
  ),
  bad(
    "token in the query string instead of the header",
    get(`${SESSION.active}/stats?access_token={{adminToken}}`),
    unauthorized,
  ),
  bad(
    "token in Proxy-Authorization instead of Authorization",
    get(`${SESSION.active}/stats`, { headers: { "Proxy-Authorization": "Bearer {{adminToken}}" } }),
    unauthorized,
  ),
  bad("no Authorization header — GET /v1/me", get("/v1/me"), unauthorized),
  bad(
    "a valid token of a user id nobody has — GET /v1/me",
    get("/v1/me", { auth: "ghost" }),
    problem(404, "user_not_found"),
  ),
  bad(
    "token in a cookie instead of the header",
    get("/metrics/pool", { headers: { Cookie: "token={{adminToken}}" } }),
    unauthorized,
  ),
];

export const authCases: readonly CorpusCase[] = [
  ...missingTokenCases,
  ...wrongRoleCases,
  ...otherCases,
  ...tokenCases,
];

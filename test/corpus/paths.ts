// Request targets: dot segments, double and encoded slashes, trailing dots
// and slashes, very long paths, routes that do not exist, and methods a
// route does not have — 404 (or 405) problem documents. Ids in these paths
// belong to nobody, so no reading of a trick can land on something real.
import {
  bad,
  type CorpusCase,
  get,
  json,
  noRoute,
  problem,
  SESSION,
  send,
  sessionBody,
  VALID_BID,
} from "./case.js";

const GHOST_USER = "/v1/users/{{unknownUser}}";
const notFoundOrInvalid = problem(
  [400, 404],
  ["invalid_request", "not_found", "user_not_found", "session_not_found"],
);
const notFound = problem(404, "not_found");

const tricks: CorpusCase[] = [
  bad("dot segments: /v1/sessions/../users", get("/v1/sessions/../users"), notFoundOrInvalid),
  bad("encoded dot segments: /v1/sessions/%2E%2E/users", get("/v1/sessions/%2E%2E/users"), notFoundOrInvalid),
  bad(
    "dot segments climbing to /metrics/pool without a token",
    get("/v1/sessions/%2e%2e/%2e%2e/metrics/pool"),
    problem([400, 401, 404], ["invalid_request", "unauthorized", "not_found"]),
  ),
  bad("dot segments above the root", get("/../../../etc/passwd"), notFoundOrInvalid),
  bad("single-dot segments", get("/./v1/./users/./{{unknownUser}}"), notFoundOrInvalid),
  bad(
    "dot segments inside a session path",
    get(`${SESSION.unknown}/bids/me/../../leaderboard`),
    notFoundOrInvalid,
  ),
  bad("double slash at the start", get(`/${GHOST_USER}`), notFoundOrInvalid),
  bad("double slash in the middle", get("/v1//users/{{unknownUser}}"), notFoundOrInvalid),
  bad("double slash before the id", get("/v1/users//{{unknownUser}}"), notFoundOrInvalid),
  bad("encoded slash: /v1/users%2F{id}", get("/v1/users%2F{{unknownUser}}"), notFoundOrInvalid),
  bad("encoded slash inside a session id", get(`${SESSION.unknown}%2Fleaderboard`), notFoundOrInvalid),
  bad("backslashes for slashes", get("/v1\\users\\{{unknownUser}}"), notFoundOrInvalid),
  bad("trailing dot after a user id", get(`${GHOST_USER}.`), notFoundOrInvalid),
  bad("trailing dot after a session id", get(`${SESSION.unknown}.`), notFoundOrInvalid),
  bad("trailing dot after a collection", get("/v1/users."), notFoundOrInvalid),
  bad("trailing dot after /health", get("/health."), notFoundOrInvalid),
  bad("trailing slash after a user id", get(`${GHOST_USER}/`), notFoundOrInvalid),
  bad("trailing slash after a session id", get(`${SESSION.unknown}/`), notFoundOrInvalid),
  bad("encoded NUL inside a path segment", get("/v1/users%00/{{unknownUser}}"), notFoundOrInvalid),
  bad("path parameter after ';'", get(`${GHOST_USER};jsessionid=1`), notFoundOrInvalid),
  bad("encoded '#' after the id", get(`${GHOST_USER}%23frag`), notFoundOrInvalid),
  bad("upper-case route /V1/USERS/{id}", get("/V1/USERS/{{unknownUser}}"), notFoundOrInvalid),
  bad("mixed-case route /v1/Sessions/{id}", get("/v1/Sessions/{{unknownSession}}"), notFoundOrInvalid),
  bad("a path of 2000 segments", get("/x".repeat(2000)), problem([404, 414], ["not_found"])),
  bad(
    "a session id of 8000 characters",
    get(`/v1/sessions/${"a".repeat(8000)}`),
    problem([400, 404, 414], ["invalid_request", "not_found"]),
  ),
];

const unknownRoutes: CorpusCase[] = [
  bad("GET /", get("/"), notFound),
  bad("GET /v1", get("/v1"), notFound),
  bad("GET /v1/", get("/v1/"), notFound),
  bad("GET /v2/users/{id}", get("/v2/users/{{unknownUser}}"), notFound),
  bad("GET /api/v1/users", get("/api/v1/users"), notFound),
  bad("GET /admin", get("/admin"), notFound),
  bad("GET /.env", get("/.env"), notFound),
  bad("GET /metrics", get("/metrics"), notFound),
  bad("GET /metrics/pool/extra", get("/metrics/pool/extra", { auth: "admin" }), notFound),
  bad("GET /openapi.yaml", get("/openapi.yaml"), notFound),
  bad("GET /v1/users/{id}/bids", get("/v1/users/{{userA}}/bids"), notFound),
  bad("GET /v1/sessions/{id}/bids/other", get(`${SESSION.active}/bids/other`, { auth: "bidderA" }), notFound),
  bad(
    "GET /v1/sessions/{id}/bids/me/extra",
    get(`${SESSION.active}/bids/me/extra`, { auth: "bidderA" }),
    notFound,
  ),
  bad("GET /v1/sessions/{id}/leaderboard/1", get(`${SESSION.active}/leaderboard/1`), notFound),
  bad("GET /v1/sessions/{id}/bidders", get(`${SESSION.active}/bidders`), notFound),
];

const wrongMethods: CorpusCase[] = [
  bad("DELETE a user", send("DELETE", "/v1/users/{{userA}}", { auth: "admin" }), noRoute),
  bad(
    "PUT a user",
    send("PUT", "/v1/users/{{userA}}", { auth: "admin", body: json({ username: "corpus_{{tag}}_put" }) }),
    noRoute,
  ),
  bad(
    "PATCH a user",
    send("PATCH", "/v1/users/{{userA}}", { auth: "admin", body: json({ username: "corpus_{{tag}}_patch" }) }),
    noRoute,
  ),
  bad(
    "POST to a user",
    send("POST", "/v1/users/{{userA}}", { auth: "admin", body: json({ username: "corpus_{{tag}}_post" }) }),
    noRoute,
  ),
  bad("GET the user collection", get("/v1/users", { auth: "admin" }), noRoute),
  bad(
    "GET /v1/users/batch",
    get("/v1/users/batch", { auth: "admin" }),
    problem([400, 404, 405], ["invalid_request", "not_found", "method_not_allowed"]),
  ),
  bad("DELETE a session", send("DELETE", SESSION.active, { auth: "admin" }), noRoute),
  bad("PUT a session", send("PUT", SESSION.active, { auth: "admin", body: json(sessionBody()) }), noRoute),
  bad(
    "POST to a session",
    send("POST", SESSION.active, { auth: "admin", body: json(sessionBody()) }),
    noRoute,
  ),
  // GET of both collections is served since v1.1 (discovery and history): other methods are not.
  bad("DELETE the session collection", send("DELETE", "/v1/sessions", { auth: "admin" }), noRoute),
  bad("DELETE the bids collection", send("DELETE", `${SESSION.active}/bids`, { auth: "admin" }), noRoute),
  bad("PUT a bid", send("PUT", `${SESSION.active}/bids`, { auth: "bidderA", body: VALID_BID }), noRoute),
  bad("PATCH a bid", send("PATCH", `${SESSION.active}/bids`, { auth: "bidderA", body: VALID_BID }), noRoute),
  bad("DELETE my bid", send("DELETE", `${SESSION.active}/bids/me`, { auth: "bidderA" }), noRoute),
  bad(
    "POST my bid",
    send("POST", `${SESSION.active}/bids/me`, { auth: "bidderA", body: VALID_BID }),
    noRoute,
  ),
  bad(
    "POST the leaderboard",
    send("POST", `${SESSION.active}/leaderboard`, { body: json({ limit: 10 }) }),
    noRoute,
  ),
  bad("POST the stats", send("POST", `${SESSION.active}/stats`, { auth: "admin", body: json({}) }), noRoute),
  bad("POST the live route", send("POST", `${SESSION.active}/live`, { body: json({}) }), noRoute),
  bad("DELETE /metrics/pool", send("DELETE", "/metrics/pool", { auth: "admin" }), noRoute),
  bad("POST /health", send("POST", "/health", { body: json({}) }), noRoute),
  bad("DELETE /health", send("DELETE", "/health"), noRoute),
  bad("POST /openapi.json", send("POST", "/openapi.json", { body: json({}) }), noRoute),
  bad("PUT /docs", send("PUT", "/docs", { body: json({}) }), noRoute),
  bad("OPTIONS /v1/users", send("OPTIONS", "/v1/users"), noRoute),
  bad("TRACE a user", send("TRACE", "/v1/users/{{userA}}"), noRoute),
];

/** Errors are problem documents whatever the client says it accepts. */
const negotiation: CorpusCase[] = [
  bad(
    "malformed user id, Accept: text/html",
    get("/v1/users/abc", { headers: { Accept: "text/html" } }),
    problem(400, "invalid_request"),
  ),
  bad(
    "unknown route, Accept: application/xml",
    get("/v2", { headers: { Accept: "application/xml" } }),
    notFound,
  ),
  bad(
    "no token, Accept: text/plain",
    get("/metrics/pool", { headers: { Accept: "text/plain" } }),
    problem(401, "unauthorized"),
  ),
];

export const pathCases: readonly CorpusCase[] = [
  ...tricks,
  ...unknownRoutes,
  ...wrongMethods,
  ...negotiation,
];

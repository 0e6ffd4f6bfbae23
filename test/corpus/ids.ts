// Path ids that are not what the contract says: user ids are positive
// integers, session ids UUIDs (upper-case hex is a valid UUID and is not
// here). A malformed id is 400 invalid_request on every route; a well-formed
// one nobody has is 404.
import {
  type Auth,
  type Body,
  bad,
  type CaseRequest,
  type CorpusCase,
  get,
  invalid,
  json,
  patch,
  pct,
  post,
  problem,
  send,
  VALID_BID,
} from "./case.js";

const UUID = "5f0c8d2e-9b1a-4c3d-8e7f-0a1b2c3d4e5f";
/** Where a server could read a digit string as too long for an id or as an id nobody has. */
const tooLongOrUnknown = problem([400, 404], ["invalid_request", "user_not_found"]);

const badUserIds: [label: string, id: string][] = [
  ["0", "0"],
  ["-1", "-1"],
  ["-0", "-0"],
  ["1.5", "1.5"],
  ["1.0", "1.0"],
  ["1e3", "1e3"],
  ["+1", pct("+1")],
  ["0x1F", "0x1F"],
  ["abc", "abc"],
  ["NaN", "NaN"],
  ["Infinity", "Infinity"],
  ["null", "null"],
  ["true", "true"],
  ["%00", "%00"],
  ["1%00", "1%00"],
  ["a leading space", "%201"],
  ["a trailing space", "1%20"],
  ["1,2", pct("1,2")],
  ["[1]", pct("[1]")],
  ["a UUID", UUID],
  ["a zero-width space before 1", pct("\u200b1")],
  ["a full-width digit", pct("１")],
  ["an Arabic-Indic digit", pct("١")],
  ["SQL: 1 OR 1=1", pct("1 OR 1=1")],
  ["SQL: 1; DROP TABLE users", pct("1; DROP TABLE users")],
  ["SQL: 1'--", pct("1'--")],
  ["SQL: 1 UNION SELECT", pct("1 UNION SELECT username FROM users")],
];

const unlink = (id: string) => send("DELETE", `/v1/users/${id}/identities`, { auth: "admin" });

const userIds: CorpusCase[] = [
  ...badUserIds.map(([label, id]) => bad(`user id ${label}`, get(`/v1/users/${id}`), invalid)),
  bad("user id with a leading zero", get("/v1/users/01"), tooLongOrUnknown),
  bad("user id of 20 digits", get("/v1/users/99999999999999999999"), tooLongOrUnknown),
  bad(
    "user id of 5000 digits",
    get(`/v1/users/${"9".repeat(5000)}`),
    problem([400, 404, 414], ["invalid_request", "user_not_found"]),
  ),
  bad("user id 2^53 + 1", get("/v1/users/9007199254740993"), tooLongOrUnknown),
  bad("user id nobody has", get("/v1/users/{{unknownUser}}"), problem(404, "user_not_found")),
  // Unlinking identities (admin): a spread of the same ids.
  ...badUserIds
    .filter((_, i) => i % 3 === 0)
    .map(([label, id]) => bad(`user id ${label} — DELETE identities`, unlink(id), invalid)),
  bad("user id 2^53 + 1 — DELETE identities", unlink("9007199254740993"), tooLongOrUnknown),
  bad("user id nobody has — DELETE identities", unlink("{{unknownUser}}"), problem(404, "user_not_found")),
];

const badSessionIds: [label: string, id: string][] = [
  ["0", "0"],
  ["-1", "-1"],
  ["1.5", "1.5"],
  ["1e3", "1e3"],
  ["36 digits", "1".repeat(36)],
  ["500 digits", "1".repeat(500)],
  ["%00", "%00"],
  ["a UUID with %00 after it", `${UUID}%00`],
  ["a UUID one character short", UUID.slice(0, -1)],
  ["a UUID one character long", `${UUID}0`],
  ["a UUID with a 'g'", `g${UUID.slice(1)}`],
  ["a UUID with an upper-case 'Z'", `Z${UUID.slice(1).toUpperCase()}`],
  ["a UUID without dashes", UUID.replaceAll("-", "")],
  [
    "a UUID with the dashes moved",
    `${UUID.replaceAll("-", "").slice(0, 4)}-${UUID.replaceAll("-", "").slice(4)}`.padEnd(36, "0"),
  ],
  ["a UUID in braces", pct(`{${UUID}}`)],
  ["a urn:uuid: URN", pct(`urn:uuid:${UUID}`)],
  ["a UUID with a trailing space", `${UUID}%20`],
  ["36 dashes", "-".repeat(36)],
  ["SQL: ' OR '1'='1", pct("' OR '1'='1")],
  ["SQL: 1; DROP TABLE bidding_sessions", pct("1; DROP TABLE bidding_sessions")],
  ["a user id", "{{userA}}"],
  ["undefined", "undefined"],
];

/** Every route with a session id, with a request it would otherwise accept. */
const sessionRoutes: { label: string; request: (id: string) => CaseRequest }[] = [
  { label: "GET", request: (id) => get(`/v1/sessions/${id}`) },
  {
    label: "PATCH",
    request: (id) => patch(`/v1/sessions/${id}`, json({ title: "Renamed" }), { auth: "admin" }),
  },
  {
    label: "POST a maximum bid",
    request: (id) => post(`/v1/sessions/${id}/bids`, json({ maxAmount: 1000 }), { auth: "bidderA" }),
  },
  { label: "POST bids", request: (id) => post(`/v1/sessions/${id}/bids`, VALID_BID, { auth: "bidderA" }) },
  { label: "GET bids/me", request: (id) => get(`/v1/sessions/${id}/bids/me`, { auth: "bidderA" }) },
  { label: "GET leaderboard", request: (id) => get(`/v1/sessions/${id}/leaderboard`) },
  { label: "GET results", request: (id) => get(`/v1/sessions/${id}/results`) },
  { label: "GET stats", request: (id) => get(`/v1/sessions/${id}/stats`, { auth: "admin" }) },
  {
    label: "GET live (WebSocket upgrade)",
    request: (id) =>
      get(`/v1/sessions/${id}/live`, {
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version": "13",
        },
      }),
  },
];

/** GET tries every bad id; the other routes a spread of them. */
const sessionIds: CorpusCase[] = sessionRoutes.flatMap(({ label, request }, routeIndex) =>
  badSessionIds
    .filter((_, i) => routeIndex === 0 || i % sessionRoutes.length === routeIndex || i % 7 === 0)
    .map(([idLabel, id]) => bad(`session id ${idLabel} — ${label}`, request(id), invalid)),
);

const live = (id: string, auth?: Auth, body?: Body): CaseRequest =>
  body === undefined
    ? get(`/v1/sessions/${id}/live`, { auth })
    : post(`/v1/sessions/${id}/live`, body, { auth });

const liveCases: CorpusCase[] = [
  bad("live without a WebSocket upgrade", live("{{active}}"), problem(426, "upgrade_required")),
  bad(
    "live of an unknown session without an upgrade",
    live("{{unknownSession}}"),
    problem([404, 426], ["session_not_found", "upgrade_required"]),
  ),
  bad(
    "live of an unknown session, with an upgrade",
    get("/v1/sessions/{{unknownSession}}/live", {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      },
    }),
    problem(404, "session_not_found"),
  ),
  bad(
    "live of a malformed id without an upgrade",
    live("not-a-uuid"),
    problem([400, 426], ["invalid_request", "upgrade_required"]),
  ),
];

export const idCases: readonly CorpusCase[] = [...userIds, ...sessionIds, ...liveCases];

// Discovery and history (API.md, "Discovery and history"): GET /v1/sessions
// (status, limit 1–100, an opaque signed cursor), GET /v1/sessions/{id}/bids
// (after: a seq from 0, limit 1–500), its CSV export (admins only) and GET
// /v1/me/bids (users only; limit, cursor). Every bad value is 400
// invalid_request; who may ask is 401/403 as everywhere.

import {
  bad,
  type CorpusCase,
  forbidden,
  get,
  invalid,
  json,
  noRoute,
  patch,
  pct,
  post,
  problem,
  SESSION,
  send,
  unauthorized,
} from "./case.js";
import { base64url } from "./tokens.js";

const list = (query: string) => get(`/v1/sessions?${query}`);
const history = (query: string, session: string = SESSION.active) => get(`${session}/bids?${query}`);
const mine = (query: string) => get(`/v1/me/bids?${query}`, { auth: "bidderA" });

/** A cursor of the right shape whose MAC nobody issued: the signature check, not the shape check, must refuse it. */
const forged = (key: unknown, listing = "sessions:active") =>
  `${base64url(JSON.stringify({ l: listing, k: key }))}.${"A".repeat(43)}`;
const UUID = "5f0c8d2e-9b1a-4c3d-8e7f-0a1b2c3d4e5f";

const badStatuses: [label: string, query: string][] = [
  ["Active (case)", "status=Active"],
  ["ACTIVE", "status=ACTIVE"],
  ["live", "status=live"],
  ["all", "status=all"],
  ["empty", "status="],
  ["a list 'active,ended'", `status=${pct("active,ended")}`],
  ["repeated: active and ended", "status=active&status=ended"],
  ["active%00", "status=active%00"],
  ["a trailing space", "status=active%20"],
  ["SQL: active' OR '1'='1", `status=${pct("active' OR '1'='1")}`],
];

const badLimits = (max: number): [label: string, value: string][] => [
  ["0", "0"],
  [String(max + 1), String(max + 1)],
  ["-1", "-1"],
  ["1.5", "1.5"],
  ["1e2", "1e2"],
  ["abc", "abc"],
  ["empty", ""],
  ["20 digits", "99999999999999999999"],
  ["SQL: 10;DROP TABLE bids", pct("10;DROP TABLE bids")],
];

const badCursors: [label: string, value: string][] = [
  ["empty", ""],
  ["no MAC", "abc"],
  ["a dot alone", "."],
  ["a forged MAC", forged([0, UUID])],
  ["a forged MAC over a huge key", forged([1e300, UUID])],
  ["a forged MAC over SQL", forged(["1; DROP TABLE bidding_sessions", "x"])],
  ["a forged MAC, another listing", forged([0, UUID], "me:1")],
  ["a MAC too short", `${base64url('{"l":"sessions:active","k":[0,"x"]}')}.${"A".repeat(42)}`],
  ["standard base64 with padding", pct(`${btoa('{"l":"sessions:active"}')}==.${"A".repeat(43)}`)],
  ["500 characters", `${"A".repeat(456)}.${"A".repeat(43)}`],
  ["non-ASCII", pct(`é.${"A".repeat(43)}`)],
  ["%00 inside", `abc%00.${"A".repeat(43)}`],
  ["JSON in the clear", pct('{"l":"sessions:active","k":[0,"x"]}')],
];

const discovery: CorpusCase[] = [
  ...badStatuses.map(([label, query]) => bad(`list status ${label}`, list(query), invalid)),
  ...badLimits(100).map(([label, value]) => bad(`list limit ${label}`, list(`limit=${value}`), invalid)),
  bad("list limit repeated", list("limit=10&limit=20"), invalid),
  ...badCursors.map(([label, value]) =>
    bad(`list cursor ${label}`, list(`status=active&cursor=${value}`), invalid),
  ),
  bad("list cursor repeated", list(`cursor=${forged([0, UUID])}&cursor=${forged([1, UUID])}`), invalid),
  bad("list with a malformed token", get("/v1/sessions", { auth: () => "Bearer not-a-token" }), unauthorized),
];

const badAfters: [label: string, value: string][] = [
  ["-1", "-1"],
  ["-0", "-0"],
  ["+1", pct("+1")],
  ["01 (a leading zero)", "01"],
  ["1.5", "1.5"],
  ["1e3", "1e3"],
  ["0x10", "0x10"],
  ["abc", "abc"],
  ["empty", ""],
  ["2^53", "9007199254740992"],
  ["20 digits", "99999999999999999999"],
  ["a leading space", "%201"],
  ["full-width digits", pct("１")],
  ["SQL: 0 OR 1=1", pct("0 OR 1=1")],
];

const bidHistory: CorpusCase[] = [
  ...badAfters.map(([label, value]) => bad(`history after ${label}`, history(`after=${value}`), invalid)),
  bad("history after repeated", history("after=1&after=2"), invalid),
  ...badLimits(500).map(([label, value]) =>
    bad(`history limit ${label}`, history(`limit=${value}`), invalid),
  ),
  bad("history limit repeated", history("limit=10&limit=20"), invalid),
  bad("history of a malformed session id", get("/v1/sessions/not-a-uuid/bids"), invalid),
  bad("history of an unknown session", get(`${SESSION.unknown}/bids`), problem(404, "session_not_found")),
  bad(
    "history after -1 of an unknown session",
    get(`${SESSION.unknown}/bids?after=-1`),
    problem([400, 404], ["invalid_request", "session_not_found"]),
  ),
  bad(
    "history with a malformed token",
    get(`${SESSION.active}/bids`, { auth: () => "Bearer x" }),
    unauthorized,
  ),
  bad("CSV without a token", get(`${SESSION.active}/bids.csv`), unauthorized),
  bad("CSV as a bidder", get(`${SESSION.active}/bids.csv`, { auth: "bidderA" }), forbidden),
  bad("CSV of a malformed session id", get("/v1/sessions/not-a-uuid/bids.csv", { auth: "admin" }), invalid),
  bad(
    "CSV of an unknown session",
    get(`${SESSION.unknown}/bids.csv`, { auth: "admin" }),
    problem(404, "session_not_found"),
  ),
  bad("CSV by POST", post(`${SESSION.active}/bids.csv`, undefined, { auth: "admin" }), noRoute),
  bad("CSV by DELETE", send("DELETE", `${SESSION.active}/bids.csv`, { auth: "admin" }), noRoute),
];

const myBids: CorpusCase[] = [
  bad("my bids without a token", get("/v1/me/bids"), unauthorized),
  bad("my bids as an admin", get("/v1/me/bids", { auth: "admin" }), forbidden),
  ...badLimits(100).map(([label, value]) => bad(`my bids limit ${label}`, mine(`limit=${value}`), invalid)),
  ...badCursors.map(([label, value]) => bad(`my bids cursor ${label}`, mine(`cursor=${value}`), invalid)),
  bad("my bids, a forged cursor of the session list", mine(`cursor=${forged([0, UUID])}`), invalid),
  bad("POST /v1/me/bids", post("/v1/me/bids", undefined, { auth: "bidderA" }), noRoute),
  bad(
    "PATCH /v1/me (only GET reads it)",
    patch("/v1/me", json({ username: "renamed" }), { auth: "bidderA" }),
    noRoute,
  ),
];

export const historyCases: readonly CorpusCase[] = [...discovery, ...bidHistory, ...myBids];

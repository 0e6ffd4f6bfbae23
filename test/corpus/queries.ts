// Query strings: the leaderboard's `limit` (an integer 1–100, default 50)
// out of range, not an integer, repeated, empty, or carrying SQL.
import { bad, type CorpusCase, get, invalid, pct, problem, SESSION } from "./case.js";

const board = (query: string) => get(`${SESSION.active}/leaderboard?${query}`);

const badLimits: [label: string, query: string][] = [
  ["0", "limit=0"],
  ["101", "limit=101"],
  ["1000", "limit=1000"],
  ["-1", "limit=-1"],
  ["-0", "limit=-0"],
  ["+10", `limit=${pct("+10")}`],
  ["1.5", "limit=1.5"],
  ["10.0", "limit=10.0"],
  ["1e2", "limit=1e2"],
  ["0x10", "limit=0x10"],
  ["abc", "limit=abc"],
  ["NaN", "limit=NaN"],
  ["Infinity", "limit=Infinity"],
  ["empty", "limit="],
  ["without '='", "limit"],
  ["repeated: 10 and 20", "limit=10&limit=20"],
  ["repeated: 10 and empty", "limit=10&limit="],
  ["a list '1,2'", `limit=${pct("1,2")}`],
  ["in brackets '[10]'", `limit=${pct("[10]")}`],
  ["a leading space", "limit=%2010"],
  ["a trailing space", "limit=10%20"],
  ["20 digits", "limit=99999999999999999999"],
  ["'1000' percent-encoded", "limit=%31%30%30%30"],
  ["Arabic-Indic digits", `limit=${pct("١٠")}`],
  ["full-width digits", `limit=${pct("１０")}`],
  ["%00", "limit=%00"],
  ["10%00", "limit=10%00"],
  ["0 under a percent-encoded name", "li%6Dit=0"],
  ["SQL: 1;DROP TABLE bids", `limit=${pct("1;DROP TABLE bids")}`],
  ["SQL: 10 OR 1=1", `limit=${pct("10 OR 1=1")}`],
  ["SQL: 10) UNION SELECT", `limit=${pct("10) UNION SELECT username FROM users --")}`],
];

const limits: CorpusCase[] = badLimits.map(([label, query]) =>
  bad(`leaderboard limit ${label}`, board(query), invalid),
);

const others: CorpusCase[] = [
  bad(
    "limit 0 on an unknown session",
    get(`${SESSION.unknown}/leaderboard?limit=0`),
    problem([400, 404], ["invalid_request", "session_not_found"]),
  ),
  bad("limit 0 on a malformed session id", get("/v1/sessions/not-a-uuid/leaderboard?limit=0"), invalid),
  bad(
    "SQL in an ignored query parameter (unknown user)",
    get(`/v1/users/{{unknownUser}}?id=${pct("1 OR 1=1")}`),
    problem(404, "user_not_found"),
  ),
  bad(
    "SQL in an ignored query parameter (unknown session)",
    get(`${SESSION.unknown}?id=${pct("' OR '1'='1")}`),
    problem(404, "session_not_found"),
  ),
];

export const queryCases: readonly CorpusCase[] = [...limits, ...others];

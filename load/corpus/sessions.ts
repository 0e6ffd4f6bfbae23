// POST /v1/sessions and PATCH /v1/sessions/{id}: each field missing, of the
// wrong type or out of bounds (money 1 … 10^12, title 1–200 characters
// without control characters, ISO-8601 times, endsAt > startsAt), unknown
// fields; and reads of sessions nobody created (404).
import {
  bad,
  type CorpusCase,
  get,
  invalid,
  json,
  patch,
  post,
  problem,
  raw,
  SESSION,
  sessionBody,
} from "./case.js";

const create = (overrides: Record<string, unknown>) =>
  post("/v1/sessions", json(sessionBody(overrides)), { auth: "admin" });

/** A session body with one field replaced by a JSON literal no JSON.stringify would produce. */
const createWithLiteral = (field: string, literal: string) => {
  const text = JSON.stringify(sessionBody({ [field]: 0 })).replace(`"${field}":0`, `"${field}":${literal}`);
  return post("/v1/sessions", raw(text), { auth: "admin" });
};

const change = (path: string, body: unknown) => patch(path, json(body), { auth: "admin" });
const sessionNotFound = problem(404, "session_not_found");
const SQL_TITLE = "'; DROP TABLE bidding_sessions; --";

const fields = ["title", "startsAt", "endsAt", "minBid", "minIncrement"];

const badTimes: [label: string, value: unknown][] = [
  ["a word", "tomorrow"],
  ["empty", ""],
  ["month 13", "2027-13-01T00:00:00.000Z"],
  ["February 30th", "2027-02-30T00:00:00.000Z"],
  ["hour 25", "2027-01-01T25:00:00.000Z"],
  ["a date without a time", "2027-01-01"],
  ["a time without a zone", "2027-01-01T10:00:00.000"],
  ["epoch milliseconds", 1798761600000],
  ["null", null],
  ["'NaN'", "NaN"],
  ["'Infinity'", "Infinity"],
  ["a date with SQL after it", "2027-01-01T10:00:00.000Z'; DROP TABLE bidding_sessions;--"],
];

const badMoney: [label: string, value: unknown][] = [
  ["0", 0],
  ["-1", -1],
  ["1.5", 1.5],
  ["a string '100'", "100"],
  ["10^12 + 1", 1_000_000_000_001],
  ["'NaN'", "NaN"],
  ["'Infinity'", "Infinity"],
  ["null", null],
  ["true", true],
];

/** Number literals sent verbatim: JSON.stringify cannot write them. */
const badMoneyLiterals: [label: string, literal: string][] = [
  ["1e308", "1e308"],
  ["123456789012345678901234567890", "123456789012345678901234567890"],
  ["-0", "-0"],
  ["9007199254740993 (above 2^53)", "9007199254740993"],
  ["1e400 (parses to Infinity)", "1e400"],
];

const badTitles: [label: string, value: unknown][] = [
  ["empty", ""],
  ["201 characters", "t".repeat(201)],
  ["a number", 123],
  ["null", null],
  ["an array", ["Corpus lot"]],
  ["a NUL", "\u0000"],
  ["with a bell character", "Lot \u0007 7"],
  ["with an ANSI escape", "\u001b[31mRed lot"],
  ["with a newline", "Lot\n7"],
  ["with a tab", "Lot\t7"],
  ["with DEL", "Lot 7\u007f"],
  ["with a C1 control (NEL)", "Lot\u00857"],
  ["SQL, 201 characters", SQL_TITLE.repeat(6).slice(0, 201)],
];

const creation: CorpusCase[] = [
  ...fields.map((field) => bad(`create: ${field} missing`, create({ [field]: undefined }), invalid)),
  ...badTitles.map(([label, value]) => bad(`create: title ${label}`, create({ title: value }), invalid)),
  ...badTimes.map(([label, value]) => bad(`create: startsAt ${label}`, create({ startsAt: value }), invalid)),
  bad(
    "create: endsAt equal to startsAt",
    create({ startsAt: "2030-01-01T10:00:00.000Z", endsAt: "2030-01-01T10:00:00.000Z" }),
    invalid,
  ),
  bad(
    "create: endsAt before startsAt",
    create({ startsAt: "2030-01-02T10:00:00.000Z", endsAt: "2030-01-01T10:00:00.000Z" }),
    invalid,
  ),
  bad(
    "create: SQL title with endsAt before startsAt",
    create({ title: SQL_TITLE, startsAt: "2030-01-02T10:00:00.000Z", endsAt: "2030-01-01T10:00:00.000Z" }),
    invalid,
  ),
  bad("create: endsAt 'Infinity'", create({ endsAt: "Infinity" }), invalid),
  bad("create: endsAt a number", create({ endsAt: 1798848000000 }), invalid),
  ...badMoney.map(([label, value]) => bad(`create: minBid ${label}`, create({ minBid: value }), invalid)),
  ...badMoneyLiterals.map(([label, literal]) =>
    bad(`create: minBid ${label}`, createWithLiteral("minBid", literal), invalid),
  ),
  bad("create: minIncrement 0", create({ minIncrement: 0 }), invalid),
  bad("create: minIncrement -10", create({ minIncrement: -10 }), invalid),
  bad("create: minIncrement 0.5", create({ minIncrement: 0.5 }), invalid),
  bad("create: minIncrement 10^13", create({ minIncrement: 10_000_000_000_000 }), invalid),
  bad("create: minIncrement a string", create({ minIncrement: "10" }), invalid),
  bad("create: minIncrement 1e308", createWithLiteral("minIncrement", "1e308"), invalid),
  bad("create: unknown field status", create({ status: "active" }), invalid),
  bad("create: unknown field id (an existing session's)", create({ id: "{{active}}" }), invalid),
  bad("create: unknown field highestBid", create({ highestBid: 1 }), invalid),
  bad("create: empty object", post("/v1/sessions", json({}), { auth: "admin" }), invalid),
];

const changes: CorpusCase[] = [
  bad("PATCH: empty object", change(SESSION.scheduled, {}), invalid),
  bad("PATCH: title null", change(SESSION.scheduled, { title: null }), invalid),
  bad("PATCH: endsAt null", change(SESSION.scheduled, { endsAt: null }), invalid),
  bad("PATCH: title empty", change(SESSION.scheduled, { title: "" }), invalid),
  bad("PATCH: title of 201 characters", change(SESSION.scheduled, { title: "t".repeat(201) }), invalid),
  bad("PATCH: title a NUL", change(SESSION.scheduled, { title: "\u0000" }), invalid),
  bad("PATCH: title with an ANSI escape", change(SESSION.scheduled, { title: "\u001b[2J" }), invalid),
  bad("PATCH: title a number", change(SESSION.scheduled, { title: 42 }), invalid),
  bad(
    "PATCH: endsAt before startsAt",
    change(SESSION.scheduled, { endsAt: "2000-01-01T00:00:00.000Z" }),
    invalid,
  ),
  bad(
    "PATCH: endsAt equal to startsAt",
    change(SESSION.scheduled, { endsAt: "{{scheduledStartsAt}}" }),
    invalid,
  ),
  bad("PATCH: endsAt not a date", change(SESSION.scheduled, { endsAt: "next week" }), invalid),
  bad(
    "PATCH: endsAt February 29th of a common year",
    change(SESSION.scheduled, { endsAt: "2027-02-29T00:00:00.000Z" }),
    invalid,
  ),
  bad("PATCH: endsAt in epoch milliseconds", change(SESSION.scheduled, { endsAt: 4102444800000 }), invalid),
  bad(
    "PATCH: startsAt is not patchable",
    change(SESSION.scheduled, { startsAt: "2031-01-01T00:00:00.000Z" }),
    invalid,
  ),
  bad("PATCH: minBid is not patchable", change(SESSION.scheduled, { minBid: 1 }), invalid),
  bad(
    "PATCH: a valid title with an unknown field",
    change(SESSION.scheduled, { title: "Renamed", status: "ended" }),
    invalid,
  ),
  bad(
    "PATCH: SQL title with an unknown field",
    change(SESSION.scheduled, { title: SQL_TITLE, bogus: 1 }),
    invalid,
  ),
  bad("PATCH: an array", change(SESSION.scheduled, [{ title: "Renamed" }]), invalid),
  bad(
    "PATCH: active session endsAt at the epoch",
    change(SESSION.active, { endsAt: "1970-01-01T00:00:00.000Z" }),
    invalid,
  ),
  bad(
    "PATCH: ended session endsAt before its start",
    change(SESSION.ended, { endsAt: "2000-01-01T00:00:00.000Z" }),
    invalid,
  ),
  bad("PATCH: unknown session, SQL title", change(SESSION.unknown, { title: SQL_TITLE }), sessionNotFound),
];

const reads: CorpusCase[] = [
  bad("GET an unknown session", get(SESSION.unknown), sessionNotFound),
  bad("GET an unknown session, upper-case id", get("/v1/sessions/{{UNKNOWN}}"), sessionNotFound),
  bad("GET the nil UUID", get("/v1/sessions/00000000-0000-0000-0000-000000000000"), sessionNotFound),
  bad("GET the max UUID", get("/v1/sessions/ffffffff-ffff-ffff-ffff-ffffffffffff"), sessionNotFound),
  bad("stats of an unknown session", get(`${SESSION.unknown}/stats`, { auth: "admin" }), sessionNotFound),
  bad("leaderboard of an unknown session", get(`${SESSION.unknown}/leaderboard`), sessionNotFound),
];

export const sessionCases: readonly CorpusCase[] = [...creation, ...changes, ...reads];

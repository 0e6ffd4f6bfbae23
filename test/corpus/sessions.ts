// POST /v1/sessions and PATCH /v1/sessions/{id}: each field missing, of the
// wrong type or out of bounds (money 1 … 10^12, title 1–200 characters
// without control characters, ISO-8601 times, endsAt > startsAt; units
// 1–1000, reservePrice >= minBid, softClose seconds 1–3600, hardEndsAt >
// endsAt; currency an ISO 4217 code in capitals, not patchable), unknown
// fields; the auction rules changed after the start (409);
// and reads of sessions nobody created (404) or results before the end (409).
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
import { MIN_BID } from "./fixtures.js";

const create = (overrides: Record<string, unknown>) =>
  post("/v1/sessions", json(sessionBody(overrides)), { auth: "admin" });

/** A session body with one field replaced by a JSON literal no JSON.stringify would produce. */
const createWithLiteral = (field: string, literal: string) => {
  const text = JSON.stringify(sessionBody({ [field]: 0 })).replace(`"${field}":0`, `"${field}":${literal}`);
  return post("/v1/sessions", raw(text), { auth: "admin" });
};

const change = (path: string, body: unknown) => patch(path, json(body), { auth: "admin" });
const sessionNotFound = problem(404, "session_not_found");
const alreadyStarted = problem(409, "session_already_started");
const notEnded = problem(409, "session_not_ended");
const RULE = { windowSeconds: 60, extendSeconds: 30 };
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

const badUnits: [label: string, value: unknown][] = [
  ["0", 0],
  ["-1", -1],
  ["1001", 1001],
  ["1.5", 1.5],
  ["a string '3'", "3"],
  ["null", null],
  ["true", true],
  ["10^12", 1_000_000_000_000],
];

const badSeconds: [label: string, value: unknown][] = [
  ["0", 0],
  ["-1", -1],
  ["3601", 3601],
  ["1.5", 1.5],
  ["a string '60'", "60"],
  ["null", null],
  ["86400 (a day)", 86_400],
];

const badSoftCloses: [label: string, value: unknown][] = [
  ["null", null],
  ["a number", 60],
  ["a string", "60s"],
  ["an array", [60, 30]],
  ["empty", {}],
  ["without windowSeconds", { extendSeconds: 30 }],
  ["without extendSeconds", { windowSeconds: 60 }],
  ["with an unknown field", { ...RULE, resetToSeconds: 10 }],
  ...badSeconds.map(([label, value]): [string, unknown] => [
    `windowSeconds ${label}`,
    { ...RULE, windowSeconds: value },
  ]),
  ...badSeconds.map(([label, value]): [string, unknown] => [
    `extendSeconds ${label}`,
    { ...RULE, extendSeconds: value },
  ]),
];

const badCurrencies: [label: string, value: unknown][] = [
  ["lower case", "usd"],
  ["mixed case", "Eur"],
  ["two letters", "US"],
  ["four letters", "USDT"],
  ["three capitals ISO 4217 does not list", "ABC"],
  ["a symbol", "$"],
  ["with a space", "US D"],
  ["with trailing whitespace", "USD "],
  ["the numeric code as a number", 840],
  ["the numeric code as a string", "840"],
  ["empty", ""],
  ["null", null],
  ["an object", { code: "USD" }],
  ["with SQL after it", "USD'; DROP TABLE bidding_sessions;--"],
  ["full-width capitals", "\uff35\uff33\uff24"],
];

/** The v1.1 fields of a new session, each out of bounds. */
const auctionRules: CorpusCase[] = [
  ...badUnits.map(([label, value]) => bad(`create: units ${label}`, create({ units: value }), invalid)),
  ...badMoney.map(([label, value]) =>
    bad(`create: reservePrice ${label}`, create({ reservePrice: value }), invalid),
  ),
  bad("create: reservePrice 1 under minBid", create({ minBid: 100, reservePrice: 99 }), invalid),
  bad("create: reservePrice 1e308", createWithLiteral("reservePrice", "1e308"), invalid),
  ...badSoftCloses.map(([label, value]) =>
    bad(`create: softClose ${label}`, create({ softClose: value }), invalid),
  ),
  ...badTimes.map(([label, value]) =>
    bad(`create: hardEndsAt ${label}`, create({ hardEndsAt: value }), invalid),
  ),
  bad(
    "create: hardEndsAt equal to endsAt",
    create({ endsAt: "2030-01-02T10:00:00.000Z", hardEndsAt: "2030-01-02T10:00:00.000Z" }),
    invalid,
  ),
  bad(
    "create: hardEndsAt before endsAt",
    create({ endsAt: "2030-01-02T10:00:00.000Z", hardEndsAt: "2030-01-02T09:59:59.999Z" }),
    invalid,
  ),
  bad(
    "create: hardEndsAt before startsAt",
    create({
      startsAt: "2030-01-01T10:00:00.000Z",
      endsAt: "2030-01-02T10:00:00.000Z",
      hardEndsAt: "2029-12-31T10:00:00.000Z",
    }),
    invalid,
  ),
  bad(
    "create: every rule valid but units out of bounds",
    create({ units: 0, reservePrice: 500, softClose: RULE, hardEndsAt: "2099-01-01T00:00:00.000Z" }),
    invalid,
  ),
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
  ...badCurrencies.map(([label, value]) =>
    bad(`create: currency ${label}`, create({ currency: value }), invalid),
  ),
  ...auctionRules,
];

/** softClose and reservePrice: in bounds only, and only before the start; units and hardEndsAt never. */
const ruleChanges: CorpusCase[] = [
  ...badSoftCloses
    .filter(([label]) => label !== "null")
    .map(([label, value]) =>
      bad(`PATCH: softClose ${label}`, change(SESSION.scheduled, { softClose: value }), invalid),
    ),
  ...badMoney
    .filter(([label]) => label !== "null")
    .map(([label, value]) =>
      bad(`PATCH: reservePrice ${label}`, change(SESSION.scheduled, { reservePrice: value }), invalid),
    ),
  bad(
    "PATCH: reservePrice 1 under minBid",
    change(SESSION.scheduled, { reservePrice: MIN_BID - 1 }),
    invalid,
  ),
  bad("PATCH: units is not patchable", change(SESSION.scheduled, { units: 2 }), invalid),
  bad(
    "PATCH: hardEndsAt is not patchable",
    change(SESSION.scheduled, { hardEndsAt: "2099-01-01T00:00:00.000Z" }),
    invalid,
  ),
  bad(
    "PATCH: endsAt 1 ms after hardEndsAt",
    change(SESSION.scheduled, { endsAt: "{{scheduledAfterHardEnd}}" }),
    invalid,
  ),
  bad(
    "PATCH: a valid title with a bad softClose",
    change(SESSION.scheduled, { title: "Renamed", softClose: { windowSeconds: 0, extendSeconds: 30 } }),
    invalid,
  ),
  bad("PATCH: softClose after the start", change(SESSION.active, { softClose: RULE }), alreadyStarted),
  bad(
    "PATCH: softClose removed after the start",
    change(SESSION.multiUnit, { softClose: null }),
    alreadyStarted,
  ),
  bad("PATCH: reservePrice after the start", change(SESSION.active, { reservePrice: 500 }), alreadyStarted),
  bad(
    "PATCH: reservePrice removed after the start",
    change(SESSION.multiUnit, { reservePrice: null }),
    alreadyStarted,
  ),
  bad(
    "PATCH: a valid title with softClose after the start",
    change(SESSION.active, { title: "Renamed", softClose: RULE }),
    alreadyStarted,
  ),
  bad(
    "PATCH: a later end with reservePrice after the start",
    change(SESSION.multiUnit, { endsAt: "2099-01-01T00:00:00.000Z", reservePrice: 600 }),
    problem([400, 409], ["invalid_request", "session_already_started"]),
  ),
  bad(
    "PATCH: softClose of the ended session",
    change(SESSION.ended, { softClose: RULE }),
    problem(409, ["session_already_started", "session_ended"]),
  ),
  bad(
    "PATCH: reservePrice of the ended session",
    change(SESSION.ended, { reservePrice: 150 }),
    problem(409, ["session_already_started", "session_ended"]),
  ),
  bad(
    "PATCH: softClose of an unknown session",
    change(SESSION.unknown, { softClose: RULE }),
    sessionNotFound,
  ),
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
  bad("PATCH: currency is not patchable", change(SESSION.scheduled, { currency: "EUR" }), invalid),
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
  ...ruleChanges,
];

const reads: CorpusCase[] = [
  bad("GET an unknown session", get(SESSION.unknown), sessionNotFound),
  bad("GET an unknown session, upper-case id", get("/v1/sessions/{{UNKNOWN}}"), sessionNotFound),
  bad("GET the nil UUID", get("/v1/sessions/00000000-0000-0000-0000-000000000000"), sessionNotFound),
  bad("GET the max UUID", get("/v1/sessions/ffffffff-ffff-ffff-ffff-ffffffffffff"), sessionNotFound),
  bad("stats of an unknown session", get(`${SESSION.unknown}/stats`, { auth: "admin" }), sessionNotFound),
  bad("leaderboard of an unknown session", get(`${SESSION.unknown}/leaderboard`), sessionNotFound),
  bad("results of an unknown session", get(`${SESSION.unknown}/results`), sessionNotFound),
  bad(
    "results of an unknown session, upper-case id",
    get("/v1/sessions/{{UNKNOWN}}/results"),
    sessionNotFound,
  ),
  bad(
    "results of the nil UUID",
    get("/v1/sessions/00000000-0000-0000-0000-000000000000/results"),
    sessionNotFound,
  ),
  bad("results before the end", get(`${SESSION.active}/results`), notEnded),
  bad(
    "results before the end, as an admin",
    get(`${SESSION.multiUnit}/results`, { auth: "admin" }),
    notEnded,
  ),
  bad("results before the start", get(`${SESSION.scheduled}/results`), notEnded),
  bad("results with a malformed id", get("/v1/sessions/not-a-uuid/results"), invalid),
];

export const sessionCases: readonly CorpusCase[] = [...creation, ...changes, ...reads];

// POST /v1/sessions/{id}/bids and GET .../bids/me: amounts and maximums of
// the wrong type or out of bounds, or both at once (400), the bid rules (422
// below minimum, too small a raise, a maximum where there are several units;
// 409 not started or ended; 404 unknown session), and bad Idempotency-Key
// headers. The fixture figures: minimum 100, increment 10, bidder A holds 150
// in the active session; B and C hold nothing; the multi-unit session has no bids.
import { bad, type CorpusCase, get, invalid, json, post, problem, raw, SESSION } from "./case.js";
import { A_ACTIVE_BID, MIN_BID, MIN_INCREMENT } from "./fixtures.js";
import type { TokenName } from "./tokens.js";

const bid = (amount: unknown, who: TokenName = "bidderA", session: string = SESSION.active) =>
  post(`${session}/bids`, json({ amount }), { auth: who });
const bidLiteral = (literal: string) =>
  post(`${SESSION.active}/bids`, raw(`{"amount":${literal}}`), { auth: "bidderA" });
const maxBid = (maxAmount: unknown, who: TokenName = "bidderA", session: string = SESSION.active) =>
  post(`${session}/bids`, json({ maxAmount }), { auth: who });
const maxBidLiteral = (literal: string) =>
  post(`${SESSION.active}/bids`, raw(`{"maxAmount":${literal}}`), { auth: "bidderA" });
const bidWithKey = (key: string | readonly string[], amount = 1000, who: TokenName = "bidderA") =>
  post(`${SESSION.active}/bids`, json({ amount }), { auth: who, headers: { "Idempotency-Key": key } });

const belowMinimum = problem(422, "bid_below_minimum");
const tooSmallRaise = problem(422, "bid_increment_too_small");
const notStarted = problem(409, "session_not_started");
const ended = problem(409, "session_ended");
const sessionNotFound = problem(404, "session_not_found");
const singleUnitOnly = problem(422, "proxy_bids_need_single_unit");

const badAmounts: [label: string, amount: unknown][] = [
  ["a string '1000'", "1000"],
  ["null", null],
  ["true", true],
  ["an array [1000]", [1000]],
  ["an object", { value: 1000 }],
  ["0", 0],
  ["-1", -1],
  ["1.5", 1.5],
  ["1000.5", 1000.5],
  ["10^12 + 1", 1_000_000_000_001],
  ["-(10^12 + 1)", -1_000_000_000_001],
  ["'NaN'", "NaN"],
  ["'Infinity'", "Infinity"],
  ["'-Infinity'", "-Infinity"],
  ["a string '1e3'", "1e3"],
  ["a hex string '0x3E8'", "0x3E8"],
  ["an empty string", ""],
  ["SQL: '1000; DROP TABLE bids'", "1000; DROP TABLE bids"],
];

/** Number literals sent verbatim: JSON.stringify cannot write them. */
const badLiterals: [label: string, literal: string][] = [
  ["-0", "-0"],
  ["1e308", "1e308"],
  ["123456789012345678901234567890", "123456789012345678901234567890"],
  ["9007199254740993 (above 2^53)", "9007199254740993"],
  ["1e-7", "1e-7"],
  ["1000000000000.5", "1000000000000.5"],
];

const amounts: CorpusCase[] = [
  ...badAmounts.map(([label, amount]) => bad(`amount ${label}`, bid(amount), invalid)),
  ...badLiterals.map(([label, literal]) => bad(`amount literal ${label}`, bidLiteral(literal), invalid)),
  bad("amount missing", post(`${SESSION.active}/bids`, json({}), { auth: "bidderA" }), invalid),
  bad(
    "amount under a differently-cased key",
    post(`${SESSION.active}/bids`, json({ Amount: 1000 }), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "unknown field next to a valid amount",
    post(`${SESSION.active}/bids`, json({ amount: 1000, note: "hi" }), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "__proto__ next to a valid amount",
    post(`${SESSION.active}/bids`, raw('{"amount":1000,"__proto__":{"amount":1}}'), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "userId in the body (bidding as someone else)",
    post(`${SESSION.active}/bids`, json({ amount: 1000, userId: "{{userB}}" }), { auth: "bidderA" }),
    invalid,
  ),
];

/** `maxAmount` instead of `amount`: the same bounds, never both, and only where one unit is sold. */
const maximums: CorpusCase[] = [
  ...badAmounts.map(([label, maxAmount]) => bad(`maxAmount ${label}`, maxBid(maxAmount), invalid)),
  ...badLiterals.map(([label, literal]) =>
    bad(`maxAmount literal ${label}`, maxBidLiteral(literal), invalid),
  ),
  bad(
    "amount and maxAmount both",
    post(`${SESSION.active}/bids`, json({ amount: 1000, maxAmount: 2000 }), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "amount and maxAmount both, equal",
    post(`${SESSION.active}/bids`, json({ amount: 1000, maxAmount: 1000 }), { auth: "bidderB" }),
    invalid,
  ),
  bad(
    "amount null next to a valid maxAmount",
    post(`${SESSION.active}/bids`, json({ amount: null, maxAmount: 1000 }), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "amount and maxAmount both, in the multi-unit session",
    post(`${SESSION.multiUnit}/bids`, json({ amount: 1000, maxAmount: 2000 }), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "maxAmount under a differently-cased key",
    post(`${SESSION.active}/bids`, json({ MaxAmount: 1000 }), { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "unknown field next to a valid maxAmount",
    post(`${SESSION.active}/bids`, json({ maxAmount: 1000, autoIncrement: 5 }), { auth: "bidderA" }),
    invalid,
  ),
  bad(`maxAmount below the minimum: ${MIN_BID - 1}`, maxBid(MIN_BID - 1, "bidderB"), belowMinimum),
  bad(`maxAmount equal to the caller's bid: ${A_ACTIVE_BID}`, maxBid(A_ACTIVE_BID), tooSmallRaise),
  bad(
    `maxAmount under the caller's bid, above the minimum: ${MIN_BID + MIN_INCREMENT}`,
    maxBid(MIN_BID + MIN_INCREMENT),
    tooSmallRaise,
  ),
  bad("maxAmount where there are three units", maxBid(1000, "bidderA", SESSION.multiUnit), singleUnitOnly),
  bad(
    "maxAmount where there are three units, by a user with no bid",
    maxBid(MIN_BID, "bidderC", SESSION.multiUnit),
    singleUnitOnly,
  ),
  bad(
    "maxAmount below the minimum where there are three units",
    maxBid(1, "bidderB", SESSION.multiUnit),
    problem(422, ["proxy_bids_need_single_unit", "bid_below_minimum"]),
  ),
  bad("maxAmount, not started", maxBid(1000, "bidderA", SESSION.scheduled), notStarted),
  bad("maxAmount, ended", maxBid(10_000, "bidderA", SESSION.ended), ended),
  bad("maxAmount, ended, by a user with no bid", maxBid(10_000, "bidderB", SESSION.ended), ended),
  bad("maxAmount, unknown session", maxBid(1000, "bidderA", SESSION.unknown), sessionNotFound),
  bad(
    "maxAmount with bidder A's Idempotency-Key (first used for a plain bid of the same figure)",
    post(`${SESSION.active}/bids`, json({ maxAmount: A_ACTIVE_BID }), {
      auth: "bidderA",
      headers: { "Idempotency-Key": "{{idempotencyKey}}" },
    }),
    problem(422, "idempotency_key_reused"),
  ),
];

const rules: CorpusCase[] = [
  bad("below the minimum: 1", bid(1, "bidderB"), belowMinimum),
  bad(`below the minimum: ${MIN_BID - 1}`, bid(MIN_BID - 1, "bidderB"), belowMinimum),
  bad("below the minimum: 50, by a user with no bid", bid(50, "bidderC"), belowMinimum),
  bad(`raise of 0: ${A_ACTIVE_BID} again`, bid(A_ACTIVE_BID), tooSmallRaise),
  bad(
    `raise 1 short of the increment: ${A_ACTIVE_BID + MIN_INCREMENT - 1}`,
    bid(A_ACTIVE_BID + MIN_INCREMENT - 1),
    tooSmallRaise,
  ),
  bad(`lower than the caller's bid but above the minimum: ${MIN_BID}`, bid(MIN_BID), tooSmallRaise),
  bad(
    `below both the minimum and the caller's bid: ${MIN_BID - 1}`,
    bid(MIN_BID - 1),
    problem(422, ["bid_below_minimum", "bid_increment_too_small"]),
  ),
  bad("not started: a valid raise", bid(1000, "bidderA", SESSION.scheduled), notStarted),
  bad("not started: the minimum, first bid", bid(MIN_BID, "bidderB", SESSION.scheduled), notStarted),
  bad(
    "not started: below the minimum",
    bid(1, "bidderC", SESSION.scheduled),
    problem([409, 422], ["session_not_started", "bid_below_minimum"]),
  ),
  bad("ended: a valid raise", bid(10_000, "bidderA", SESSION.ended), ended),
  bad("ended: a first bid", bid(1000, "bidderB", SESSION.ended), ended),
  bad(
    "ended: with an Idempotency-Key",
    post(`${SESSION.ended}/bids`, json({ amount: 1000 }), {
      auth: "bidderC",
      headers: { "Idempotency-Key": "corpus-ended" },
    }),
    ended,
  ),
  bad("unknown session", bid(1000, "bidderA", SESSION.unknown), sessionNotFound),
  bad("unknown session, upper-case id", bid(1000, "bidderA", "/v1/sessions/{{UNKNOWN}}"), sessionNotFound),
  bad(
    "valid token of a user id nobody has",
    bid(1000, "ghost"),
    problem([401, 403, 404, 422], ["unauthorized", "forbidden", "user_not_found"]),
  ),
];

const idempotencyKeys: CorpusCase[] = [
  bad(
    "Idempotency-Key reused with another amount",
    bidWithKey("{{idempotencyKey}}", 1000),
    problem(422, "idempotency_key_reused"),
  ),
  bad("Idempotency-Key empty", bidWithKey(""), invalid),
  bad("Idempotency-Key of 129 characters", bidWithKey("k".repeat(129)), invalid),
  bad("Idempotency-Key of 4000 characters", bidWithKey("k".repeat(4000)), invalid),
  bad("Idempotency-Key with a tab", bidWithKey("corpus\tkey"), invalid),
  bad("Idempotency-Key with a control character (0x01)", bidWithKey("corpus\u0001key"), invalid),
  bad("Idempotency-Key with an escape (0x1B)", bidWithKey("corpus\u001bkey"), invalid),
  bad("Idempotency-Key with DEL (0x7F)", bidWithKey("corpus\u007fkey"), invalid),
  bad("Idempotency-Key in Cyrillic (UTF-8 bytes)", bidWithKey("ключ"), invalid),
  bad("Idempotency-Key with an accented letter", bidWithKey("café-1"), invalid),
  bad("Idempotency-Key of emoji", bidWithKey("🔑🔑"), invalid),
  bad(
    "Idempotency-Key that looks like SQL, with a bid below the minimum",
    bidWithKey("'; DROP TABLE bids; --", 1, "bidderB"),
    belowMinimum,
  ),
];

const myBid: CorpusCase[] = [
  bad(
    "my bid where I have none",
    get(`${SESSION.active}/bids/me`, { auth: "bidderB" }),
    problem(404, "no_bid"),
  ),
  bad(
    "my bid in the scheduled session",
    get(`${SESSION.scheduled}/bids/me`, { auth: "bidderC" }),
    problem(404, "no_bid"),
  ),
  bad(
    "my bid in an unknown session",
    get(`${SESSION.unknown}/bids/me`, { auth: "bidderA" }),
    sessionNotFound,
  ),
  bad(
    "my bid in the multi-unit session, where I have none",
    get(`${SESSION.multiUnit}/bids/me`, { auth: "bidderA" }),
    problem(404, "no_bid"),
  ),
  bad(
    "my bid as a user id nobody has",
    get(`${SESSION.active}/bids/me`, { auth: "ghost" }),
    problem([401, 403, 404], ["unauthorized", "forbidden", "user_not_found", "no_bid"]),
  ),
];

export const bidCases: readonly CorpusCase[] = [
  ...amounts,
  ...maximums,
  ...rules,
  ...idempotencyKeys,
  ...myBid,
];

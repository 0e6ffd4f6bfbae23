// Request bodies: broken JSON (400), the wrong content type (415, or 400
// when there is none), and bodies over 16 KiB (413). Each body would be
// accepted if it were well-formed, so a parser that guesses changes state.
import {
  bad,
  bytes,
  type CaseRequest,
  type CorpusCase,
  invalid,
  json,
  patch,
  post,
  problem,
  raw,
  SESSION,
  sessionBody,
  tooLarge,
  utf16le,
} from "./case.js";

const KIB = 1024;
const bid = (body: ReturnType<typeof raw>, options: Omit<CaseRequest, "method" | "path" | "body"> = {}) =>
  post(`${SESSION.active}/bids`, body, { auth: "bidderA", ...options });
const newUser = (body: ReturnType<typeof raw>, options: Omit<CaseRequest, "method" | "path" | "body"> = {}) =>
  post("/v1/users", body, { auth: "admin", ...options });

const nested = (depth: number, open: string, inner: string, close: string) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

const unsupported = problem(415, "unsupported_media_type");
const noContentType = problem([400, 415], ["invalid_request", "unsupported_media_type"]);
/** Accepting a byte order mark is allowed (RFC 8259 §8.1): then the bid itself is refused. */
const bomOrRaise = problem([400, 422], ["invalid_request", "bid_increment_too_small"]);

const brokenJson: CorpusCase[] = [
  bad("truncated JSON", bid(raw('{"amount": 1000')), invalid),
  bad("JSON cut after the key", bid(raw('{"amount":')), invalid),
  bad("a lone opening brace", bid(raw("{")), invalid),
  bad("trailing comma in an object", bid(raw('{"amount":1000,}')), invalid),
  bad("trailing comma in an array", bid(raw("[1000,]")), invalid),
  bad("single-quoted keys and strings", bid(raw("{'amount':1000}")), invalid),
  bad("unquoted key", bid(raw("{amount:1000}")), invalid),
  bad("byte order mark before a JSON body", bid(raw('\uFEFF{"amount":150}')), bomOrRaise),
  bad("UTF-16LE body with its byte order mark", bid(raw(utf16le('\uFEFF{"amount":1000}'))), invalid),
  bad("empty body with Content-Type application/json", bid(raw("")), invalid),
  bad("whitespace-only body", bid(raw("   \n\t ")), invalid),
  bad("JSON null", bid(raw("null")), invalid),
  bad("an empty array instead of an object", bid(raw("[]")), invalid),
  bad("the object wrapped in an array", bid(raw('[{"amount":1000}]')), invalid),
  bad("a JSON string instead of an object", bid(raw('"1000"')), invalid),
  bad("a bare number instead of an object", bid(raw("1000")), invalid),
  bad("JSON true instead of an object", bid(raw("true")), invalid),
  bad("arrays nested 8000 deep", bid(raw(nested(8000, "[", "1000", "]"))), invalid),
  bad(
    "objects nested 2000 deep inside amount",
    bid(raw(`{"amount":${nested(2000, '{"a":', "1", "}")}}`)),
    invalid,
  ),
  bad("NaN literal", bid(raw('{"amount":NaN}')), invalid),
  bad("Infinity literal", bid(raw('{"amount":Infinity}')), invalid),
  bad("-Infinity literal", bid(raw('{"amount":-Infinity}')), invalid),
  bad("undefined literal", bid(raw('{"amount":undefined}')), invalid),
  bad("a comment inside the object", bid(raw('{"amount":1000 /* raise */}')), invalid),
  bad("garbage after the object", bid(raw('{"amount":1000}garbage')), invalid),
  bad("two JSON documents back to back", bid(raw('{"amount":1000}{"amount":2000}')), invalid),
  bad("hexadecimal number literal", bid(raw('{"amount":0x3E8}')), invalid),
  bad("number with a leading zero", bid(raw('{"amount":01000}')), invalid),
  bad("number with a leading plus", bid(raw('{"amount":+1000}')), invalid),
  bad("number starting with a dot", bid(raw('{"amount":.5}')), invalid),
  bad("number ending with a dot", bid(raw('{"amount":1000.}')), invalid),
  bad(
    "duplicate key, the last one a string",
    bid(raw('{"amount":150,"amount":"1000"}')),
    problem([400, 422], ["invalid_request", "bid_increment_too_small"]),
  ),
  bad("invalid UTF-8 byte where the number goes", bid(raw(bytes('{"amount":', 0xff, 0x7d))), invalid),
  bad("a raw NUL byte inside a string", newUser(raw('{"username":"ab\u0000cd"}')), invalid),
  bad("a raw newline inside a string", newUser(raw('{"username":"ab\ncd"}')), invalid),
  bad(
    "invalid UTF-8 bytes inside a string",
    newUser(raw(bytes('{"username":"ab', 0xc3, 0x28, 'cd"}'))),
    invalid,
  ),
  bad("JSON null on PATCH", patch(SESSION.scheduled, raw("null"), { auth: "admin" }), invalid),
  bad("truncated JSON on PATCH", patch(SESSION.scheduled, raw('{"title":"x'), { auth: "admin" }), invalid),
  bad(
    "an array on POST /v1/sessions",
    post("/v1/sessions", json([sessionBody()]), { auth: "admin" }),
    invalid,
  ),
  bad(
    "truncated JSON on POST /v1/users/batch",
    post("/v1/users/batch", raw('{"usernames":["a'), { auth: "admin" }),
    invalid,
  ),
];

const contentTypes: CorpusCase[] = [
  bad("bid as text/plain", bid(raw('{"amount":1000}'), { contentType: "text/plain" }), unsupported),
  bad(
    "bid form-encoded",
    bid(raw("amount=1000"), { contentType: "application/x-www-form-urlencoded" }),
    unsupported,
  ),
  bad(
    "bid as multipart/form-data",
    bid(raw('--b\r\nContent-Disposition: form-data; name="amount"\r\n\r\n1000\r\n--b--\r\n'), {
      contentType: "multipart/form-data; boundary=b",
    }),
    unsupported,
  ),
  bad("bid JSON without a Content-Type", bid(raw('{"amount":1000}'), { contentType: null }), noContentType),
  bad(
    "bid without a body or Content-Type",
    post(`${SESSION.active}/bids`, undefined, { auth: "bidderA" }),
    invalid,
  ),
  bad(
    "user as text/plain",
    newUser(json({ username: "corpus_{{tag}}_ct1" }), { contentType: "text/plain" }),
    unsupported,
  ),
  bad(
    "user form-encoded",
    newUser(raw("username=corpus_{{tag}}_ct2"), { contentType: "application/x-www-form-urlencoded" }),
    unsupported,
  ),
  bad(
    "user as text/json",
    newUser(json({ username: "corpus_{{tag}}_ct3" }), { contentType: "text/json" }),
    unsupported,
  ),
  bad(
    "user as application/xml",
    newUser(raw("<user><username>corpus_{{tag}}_ct4</username></user>"), { contentType: "application/xml" }),
    unsupported,
  ),
  bad(
    "user JSON without a Content-Type",
    newUser(json({ username: "corpus_{{tag}}_ct5" }), { contentType: null }),
    noContentType,
  ),
  bad(
    "user as application/jsonp",
    newUser(json({ username: "corpus_{{tag}}_ct6" }), { contentType: "application/jsonp" }),
    unsupported,
  ),
  bad(
    "user with Content-Type 'json'",
    newUser(json({ username: "corpus_{{tag}}_ct7" }), { contentType: "json" }),
    unsupported,
  ),
  bad(
    "user with Content-Type */*",
    newUser(json({ username: "corpus_{{tag}}_ct8" }), { contentType: "*/*" }),
    unsupported,
  ),
  bad(
    "user with a Content-Type list 'application/json, text/plain'",
    newUser(json({ username: "corpus_{{tag}}_ct9" }), { contentType: "application/json, text/plain" }),
    unsupported,
  ),
  bad(
    "user with two Content-Type headers (JSON and text/plain)",
    newUser(json({ username: "corpus_{{tag}}_cta" }), {
      contentType: null,
      headers: { "Content-Type": ["application/json", "text/plain"] },
    }),
    unsupported,
  ),
  bad(
    "user with a control character in the Content-Type",
    newUser(json({ username: "corpus_{{tag}}_ctb" }), { contentType: "application/json\u0001" }),
    noContentType,
  ),
  // Malformed parameters after a JSON media type: refused or read as JSON, never a 500.
  bad(
    "Content-Type 'application/json;' (empty parameter)",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "application/json;" }),
    problem([400, 409, 415], ["invalid_request", "username_taken", "unsupported_media_type"]),
  ),
  bad(
    "Content-Type 'application/json; charset' (parameter without a value)",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "application/json; charset" }),
    problem([400, 409, 415], ["invalid_request", "username_taken", "unsupported_media_type"]),
  ),
  bad(
    "Content-Type 'application/json;charset=' (empty value)",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "application/json;charset=" }),
    problem([400, 409, 415], ["invalid_request", "username_taken", "unsupported_media_type"]),
  ),
  bad(
    "Content-Type 'application/+json' (empty structured-syntax prefix)",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "application/+json" }),
    problem([400, 409, 415], ["invalid_request", "username_taken", "unsupported_media_type"]),
  ),
  bad(
    "Content-Type 'application/json; charset=utf-8;' (trailing semicolon)",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "application/json; charset=utf-8;" }),
    problem([400, 409, 415], ["invalid_request", "username_taken", "unsupported_media_type"]),
  ),
  // The same empty parameter on the other JSON routes, with bodies each route refuses anyway.
  bad(
    "Content-Type 'application/json;' on POST bids (a raise too small)",
    bid(json({ amount: 150 }), { contentType: "application/json;" }),
    problem([400, 415, 422], ["invalid_request", "unsupported_media_type", "bid_increment_too_small"]),
  ),
  bad(
    "Content-Type 'application/json;' on PATCH (empty object)",
    patch(SESSION.scheduled, json({}), { auth: "admin", contentType: "application/json;" }),
    problem([400, 415], ["invalid_request", "unsupported_media_type"]),
  ),
  bad(
    "Content-Type 'application/json;' on POST /v1/sessions (empty object)",
    post("/v1/sessions", json({}), { auth: "admin", contentType: "application/json;" }),
    problem([400, 415], ["invalid_request", "unsupported_media_type"]),
  ),
  bad(
    "Content-Type 'application/json;' on POST /v1/users/batch (empty list)",
    post("/v1/users/batch", json({ usernames: [] }), { auth: "admin", contentType: "application/json;" }),
    problem([400, 415], ["invalid_request", "unsupported_media_type"]),
  ),
  // Well-formed media types (RFC 9110 §8.3: OWS around ';', case-insensitive): the body is read, the name is taken.
  // Parameters are accepted as `;name=value` with optional space after ';' only (the route validators' rule).
  bad(
    "Content-Type 'application/json ; charset=utf-8' (whitespace before ';'), taken username",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "application/json ; charset=utf-8" }),
    problem(415, "unsupported_media_type"),
  ),
  bad(
    "Content-Type 'APPLICATION/JSON', taken username",
    newUser(json({ username: "{{takenUsername}}" }), { contentType: "APPLICATION/JSON" }),
    problem(409, "username_taken"),
  ),
  bad(
    "session as text/plain",
    post("/v1/sessions", json(sessionBody()), { auth: "admin", contentType: "text/plain" }),
    unsupported,
  ),
  bad(
    "PATCH as text/plain",
    patch(SESSION.active, json({ title: "Renamed by the corpus" }), {
      auth: "admin",
      contentType: "text/plain",
    }),
    unsupported,
  ),
  bad(
    "PATCH form-encoded",
    patch(SESSION.active, raw("title=Renamed"), {
      auth: "admin",
      contentType: "application/x-www-form-urlencoded",
    }),
    unsupported,
  ),
  bad(
    "batch JSON without a Content-Type",
    post("/v1/users/batch", json({ usernames: ["corpus_{{tag}}_ctc"] }), {
      auth: "admin",
      contentType: null,
    }),
    noContentType,
  ),
];

const pad = (bytes: number) => "x".repeat(bytes);

const oversized: CorpusCase[] = [
  bad("bid of 20 KiB (padding field)", bid(json({ amount: 1000, pad: pad(20 * KIB) })), tooLarge),
  bad("bid of 16 KiB + 1 byte", bid(raw(`{"amount":1000,"pad":"${pad(16 * KIB + 1 - 24)}"}`)), tooLarge),
  bad(
    "bid of 17 KiB of whitespace around valid JSON",
    bid(raw(`${" ".repeat(17 * KIB)}{"amount":1000}`)),
    tooLarge,
  ),
  bad(
    "bid of 20 KiB sent chunked, no Content-Length",
    bid(json({ amount: 1000, pad: pad(20 * KIB) }), { chunked: true }),
    tooLarge,
  ),
  bad("username of 17 KiB", newUser(json({ username: pad(17 * KIB) })), tooLarge),
  bad(
    "session of 1 MiB (title)",
    post("/v1/sessions", json(sessionBody({ title: pad(1024 * KIB) })), { auth: "admin" }),
    tooLarge,
  ),
  bad(
    "batch of 1000 valid 32-character names (35 KiB)",
    post(
      "/v1/users/batch",
      json({ usernames: Array.from({ length: 1000 }, (_, i) => `corpus_big_${i}_`.padEnd(32, "x")) }),
      { auth: "admin" },
    ),
    tooLarge,
  ),
  bad(
    "PATCH title of 17 KiB",
    patch(SESSION.scheduled, json({ title: pad(17 * KIB) }), { auth: "admin" }),
    tooLarge,
  ),
  bad(
    "17 KiB without a token",
    post("/v1/users", json({ username: pad(17 * KIB) })),
    problem([401, 413], ["unauthorized", "payload_too_large"]),
  ),
  bad(
    "17 KiB as text/plain",
    newUser(raw(pad(17 * KIB)), { contentType: "text/plain" }),
    problem([413, 415], ["payload_too_large", "unsupported_media_type"]),
  ),
];

export const bodyCases: readonly CorpusCase[] = [...brokenJson, ...contentTypes, ...oversized];

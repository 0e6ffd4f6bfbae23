// Webhooks (src/routes/webhooks.ts, src/webhooks/url-policy.ts): POST
// /v1/webhooks is admins only (401/403); its body is strict (url a string of
// at most 2048 characters, events 1–3 distinct known names, nothing else:
// 400); a URL that is not https://, names a private, link-local or metadata
// address, or carries credentials is 422 webhook_url_refused. DELETE takes a
// UUID (400) and answers 404 for one nobody created. And /live with a bad
// `bearer.<JWT>` subprotocol: 401 before the upgrade. Loopback is not a
// refused case: the test project sets WEBHOOK_ALLOW_LOOPBACK.
import {
  bad,
  type CorpusCase,
  forbidden,
  get,
  invalid,
  json,
  post,
  problem,
  raw,
  SESSION,
  send,
  unauthorized,
} from "./case.js";
import { base64url } from "./tokens.js";

const VALID = { url: "https://hooks.example.com/corpus", events: ["session.ended"] };
const UUID = "5f0c8d2e-9b1a-4c3d-8e7f-0a1b2c3d4e5f";

const create = (body: unknown) => post("/v1/webhooks", json(body), { auth: "admin" });
const withUrl = (url: unknown) => create({ ...VALID, url });
const urlRefused = problem(422, "webhook_url_refused");

const who: CorpusCase[] = [
  bad("create without a token", post("/v1/webhooks", json(VALID)), unauthorized),
  bad("create as a bidder", post("/v1/webhooks", json(VALID), { auth: "bidderA" }), forbidden),
  bad("list without a token", get("/v1/webhooks"), unauthorized),
  bad("list as a bidder", get("/v1/webhooks", { auth: "bidderA" }), forbidden),
  bad("delete without a token", send("DELETE", `/v1/webhooks/${UUID}`), unauthorized),
  bad("delete as a bidder", send("DELETE", `/v1/webhooks/${UUID}`, { auth: "bidderA" }), forbidden),
];

const badBodies: [label: string, body: unknown][] = [
  ["empty object", {}],
  ["without url", { events: VALID.events }],
  ["without events", { url: VALID.url }],
  ["url a number", { ...VALID, url: 123 }],
  ["url null", { ...VALID, url: null }],
  ["url an array", { ...VALID, url: [VALID.url] }],
  ["url 2049 characters", { ...VALID, url: `https://hooks.example.com/${"a".repeat(2049 - 26)}` }],
  ["events empty", { ...VALID, events: [] }],
  ["events a string", { ...VALID, events: "session.ended" }],
  ["events an object", { ...VALID, events: { "session.ended": true } }],
  ["events an unknown name", { ...VALID, events: ["session.started"] }],
  ["events a name in another case", { ...VALID, events: ["Session.Ended"] }],
  ["events a wildcard", { ...VALID, events: ["*"] }],
  ["events repeated", { ...VALID, events: ["session.ended", "session.ended"] }],
  ["events a number", { ...VALID, events: [1] }],
  ["an extra field", { ...VALID, secret: "mine" }],
  ["an array", [VALID]],
  ["null", null],
];

const refusedUrls: [label: string, url: string][] = [
  ["http:// to a public host", "http://hooks.example.com/corpus"],
  ["ftp://", "ftp://hooks.example.com/corpus"],
  ["not absolute", "hooks.example.com/corpus"],
  ["a word", "corpus"],
  ["javascript:", "javascript:alert(1)"],
  ["10.0.0.1", "https://10.0.0.1/corpus"],
  ["192.168.1.1", "https://192.168.1.1/corpus"],
  ["172.16.0.1", "https://172.16.0.1/corpus"],
  ["169.254.169.254 (metadata)", "https://169.254.169.254/latest/meta-data/"],
  ["0.0.0.0", "https://0.0.0.0/corpus"],
  ["100.64.0.1 (carrier-grade NAT)", "https://100.64.0.1/corpus"],
  ["0x0a000001 (10.0.0.1 in hex)", "https://0x0a000001/corpus"],
  ["167772161 (10.0.0.1 as a number)", "https://167772161/corpus"],
  ["[fd00::1]", "https://[fd00::1]/corpus"],
  ["[fe80::1] (link-local)", "https://[fe80::1]/corpus"],
  ["[::ffff:10.0.0.1] (IPv4-mapped)", "https://[::ffff:10.0.0.1]/corpus"],
  ["[fd00:ec2::254] (AWS metadata)", "https://[fd00:ec2::254]/corpus"],
  ["metadata.google.internal", "http://metadata.google.internal/computeMetadata/v1/"],
  ["metadata.google.internal over https", "https://metadata.google.internal/computeMetadata/v1/"],
  ["a .internal name", "https://hooks.corp.internal/corpus"],
  ["a .local name", "https://printer.local/corpus"],
  ["a name without a dot", "https://intranet/corpus"],
  ["credentials", "https://user:secret@hooks.example.com/corpus"],
  ["a user name only", "https://user@hooks.example.com/corpus"],
];

const bodies: CorpusCase[] = [
  ...badBodies.map(([label, body]) => bad(`create: ${label}`, create(body), invalid)),
  bad("create: not JSON", post("/v1/webhooks", raw("{url:"), { auth: "admin" }), invalid),
  ...refusedUrls.map(([label, url]) => bad(`create: url ${label}`, withUrl(url), urlRefused)),
  bad("create: url refused and events unknown", create({ url: "https://10.0.0.1/", events: ["x"] }), invalid),
  bad(
    "create: all three events, url 10.0.0.1",
    create({ url: "https://10.0.0.1/", events: ["bid.outbid", "session.ended", "session.extended"] }),
    urlRefused,
  ),
];

const remove = (id: string) => send("DELETE", `/v1/webhooks/${id}`, { auth: "admin" });
const deletes: CorpusCase[] = [
  bad("delete: id not a UUID", remove("not-a-uuid"), invalid),
  bad("delete: id a number", remove("1"), invalid),
  bad("delete: id a UUID without dashes", remove(UUID.replaceAll("-", "")), invalid),
  bad("delete: id SQL", remove("1%27%20OR%20%271%27%3D%271"), invalid),
  bad("delete: id nobody created", remove(UUID), problem(404, "not_found")),
];

/** A JWT of the right shape whose signature nobody made. */
const FORGED = `${base64url('{"alg":"HS256","typ":"JWT"}')}.${base64url('{"sub":"1","role":"admin"}')}.${"A".repeat(43)}`;
const upgrade = (protocols: string) =>
  get(`${SESSION.active}/live`, {
    headers: {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Protocol": protocols,
    },
  });
const liveAuth: CorpusCase[] = [
  bad("live: bearer.<not a JWT>", upgrade("bearer, bearer.not-a-jwt"), unauthorized),
  bad("live: bearer.<forged JWT>", upgrade(`bearer, bearer.${FORGED}`), unauthorized),
  bad(
    "live: bearer.<unsigned JWT>",
    upgrade(`bearer, bearer.${FORGED.slice(0, FORGED.lastIndexOf(".") + 1)}`),
    unauthorized,
  ),
  bad("live: bearer.<JWT> without bearer", upgrade(`bearer.${FORGED}`), unauthorized),
  bad("live: bearer without a token", upgrade("bearer"), unauthorized),
  bad("live: bearer. with an empty token", upgrade("bearer, bearer."), unauthorized),
  bad("live: two tokens", upgrade(`bearer, bearer.${FORGED}, bearer.not-a-jwt`), unauthorized),
];

export const webhookCases: readonly CorpusCase[] = [...who, ...bodies, ...deletes, ...liveAuth];

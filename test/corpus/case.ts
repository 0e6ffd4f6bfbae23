// One bad-input case: the request, byte for byte where it matters, and the
// problem document the contract (API.md) says must come back. The case tables
// are plain data and web-standard code only: the live runner (Node) and the
// Vitest suite (workerd) import the same ones.
import type { TokenKit, TokenName } from "./tokens.js";

/** The stable `code`s a client can see (API.md, plus the router's own). */
export type ProblemCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "user_not_found"
  | "session_not_found"
  | "no_bid"
  | "method_not_allowed"
  | "username_taken"
  | "session_not_started"
  | "session_ended"
  | "session_already_started"
  | "session_not_ended"
  | "payload_too_large"
  | "unsupported_media_type"
  | "bid_below_minimum"
  | "bid_increment_too_small"
  | "idempotency_key_reused"
  | "proxy_bids_need_single_unit"
  | "upgrade_required"
  | "webhook_url_refused";

/**
 * `Authorization`: a fixture's valid token by name, or the whole header
 * value built with the token kit (bad tokens of every kind; signing is async).
 */
export type Auth = TokenName | ((kit: TokenKit) => string | Promise<string>);

export type Body = { json: unknown } | { raw: string | Uint8Array };

export interface CaseRequest {
  method: string;
  /**
   * Sent verbatim as the request target (no normalisation): `{{name}}`
   * placeholders are replaced by fixture values (fixtures.ts, placeholderValues).
   */
  path: string;
  auth?: Auth;
  body?: Body;
  /** Defaults to application/json when there is a body; null sends none. */
  contentType?: string | null;
  /** Extra headers; an array value sends the header once per element. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}

export interface Expectation {
  /** Acceptable statuses, all 4xx. */
  status: readonly number[];
  /** Acceptable codes; absent where the contract fixes none. */
  code?: readonly ProblemCode[];
}

export interface CorpusCase {
  name: string;
  request: CaseRequest;
  expect: Expectation;
}

export interface Theme {
  theme: string;
  cases: readonly CorpusCase[];
}

/** The expected answer: one status or a few, and the code when the contract fixes it. */
export function problem(
  status: number | readonly number[],
  code?: ProblemCode | readonly ProblemCode[],
): Expectation {
  const statuses = typeof status === "number" ? [status] : status;
  for (const s of statuses) {
    if (s < 400 || s > 499) throw new Error(`a bad-input case must expect a 4xx, not ${s}`);
  }
  if (code === undefined) return { status: statuses };
  return { status: statuses, code: typeof code === "string" ? [code] : code };
}

// The answers that recur in every theme.
export const invalid = problem(400, "invalid_request");
export const unauthorized = problem(401, "unauthorized");
export const forbidden = problem(403, "forbidden");
export const tooLarge = problem(413, "payload_too_large");
export const noRoute = problem([404, 405], ["not_found", "method_not_allowed"]);

export function bad(name: string, request: CaseRequest, expect: Expectation): CorpusCase {
  return { name, request, expect };
}

type RequestOptions = Omit<CaseRequest, "method" | "path" | "body">;

export const json = (value: unknown): Body => ({ json: value });
export const raw = (text: string | Uint8Array): Body => ({ raw: text });

/** Bytes no string can carry: text parts as UTF-8, numbers as single bytes. */
export function bytes(...parts: (string | number)[]): Uint8Array {
  const encoder = new TextEncoder();
  return Uint8Array.from(parts.flatMap((p) => (typeof p === "number" ? [p] : [...encoder.encode(p)])));
}

/** Text as UTF-16LE code units, the way Buffer.from(text, "utf16le") writes it. */
export function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    out[i * 2] = unit & 0xff;
    out[i * 2 + 1] = unit >> 8;
  }
  return out;
}

export function get(path: string, options: RequestOptions = {}): CaseRequest {
  return { method: "GET", path, ...options };
}

export function post(path: string, body: Body | undefined, options: RequestOptions = {}): CaseRequest {
  return body === undefined
    ? { method: "POST", path, ...options }
    : { method: "POST", path, body, ...options };
}

export function patch(path: string, body: Body | undefined, options: RequestOptions = {}): CaseRequest {
  return body === undefined
    ? { method: "PATCH", path, ...options }
    : { method: "PATCH", path, body, ...options };
}

export function send(
  method: string,
  path: string,
  options: RequestOptions & { body?: Body } = {},
): CaseRequest {
  return { method, path, ...options };
}

/** Percent-encodes every byte that is not unreserved, so any string can travel in a path or query. */
export function pct(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

// Paths of the routes under test, with the fixtures as placeholders.
export const SESSION = {
  active: "/v1/sessions/{{active}}",
  scheduled: "/v1/sessions/{{scheduled}}",
  ended: "/v1/sessions/{{ended}}",
  /** Active, three units, a reserve and a soft close: where maximum bids are refused. */
  multiUnit: "/v1/sessions/{{multiUnit}}",
  unknown: "/v1/sessions/{{unknownSession}}",
} as const;

/** A body every bid route would accept from bidder A in the active session (it raises A's bid). */
export const VALID_BID = json({ amount: 1000 });

/** A session body the admin route would accept: a case that makes it fail must change one thing. */
export function sessionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const day = 24 * 60 * 60 * 1000;
  const base: Record<string, unknown> = {
    title: "Corpus lot",
    startsAt: new Date(Date.now() + 30 * day).toISOString(),
    endsAt: new Date(Date.now() + 31 * day).toISOString(),
    minBid: 100,
    minIncrement: 10,
  };
  return { ...base, ...overrides };
}

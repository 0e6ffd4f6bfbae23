import { exports } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { sign } from "hono/jwt";
import { inject } from "vitest";
import { BidReceiptSchema, CreatedUsersSchema, ProblemSchema, SessionSchema } from "../../src/api/contract";

export type Session = z.infer<typeof SessionSchema>;
export type Problem = z.infer<typeof ProblemSchema>;

export type Role = "user" | "admin";

export async function tokenFor(
  sub: number,
  role: Role,
  options: { expiresInSeconds?: number; secret?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { sub: String(sub), role, iat: now, exp: now + (options.expiresInSeconds ?? 600) },
    options.secret ?? inject("jwtSecret"),
    "HS256",
  );
}

export const adminToken = () => tokenFor(1_000_000, "admin");

/** A body that does not match the contract: the test fails with this, naming the request and the issue. */
export class ContractError extends Error {
  override name = "ContractError";
}

function describeBody(text: string): string {
  return text === "" ? "an empty body" : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** `text` parsed as JSON and then with `schema`; anything else throws a ContractError naming `what`. */
export function parseJson<S extends z.ZodType>(what: string, schema: S, text: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ContractError(`${what}: not JSON: ${describeBody(text)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new ContractError(
      `${what} does not match its schema: ${issues.join("; ")} in ${describeBody(text)}`,
    );
  }
  return parsed.data;
}

/**
 * An answer of the Worker. A problem document (application/problem+json) is
 * always parsed with ProblemSchema as it arrives, so a malformed one fails the
 * test at the call. `text` and `json()` are the body unchecked, for tests about
 * shapes the contract does not cover.
 */
export class RawResponse {
  readonly #problem: Problem | undefined;

  constructor(
    /** `GET /v1/…`, for messages. */
    readonly request: string,
    readonly status: number,
    readonly headers: Headers,
    readonly text: string,
  ) {
    this.#problem = this.isProblem()
      ? parseJson(`${request} → ${status}: problem document`, ProblemSchema, text)
      : undefined;
  }

  isProblem(): boolean {
    return this.headers.get("Content-Type")?.startsWith("application/problem+json") ?? false;
  }

  /** The problem document; fails the test when the answer is not one. */
  get problem(): Problem {
    if (this.#problem === undefined) {
      throw new ContractError(
        `${this.request} → ${this.status} ${this.headers.get("Content-Type") ?? "(no Content-Type)"}, ` +
          `not a problem document: ${describeBody(this.text)}`,
      );
    }
    return this.#problem;
  }

  /** The body as JSON, unchecked. */
  json(): unknown {
    return JSON.parse(this.text);
  }
}

/** An answer whose body, unless it is a problem document, is parsed with the schema the call named. */
export class ApiResponse<T> extends RawResponse {
  readonly #body: { value: T } | undefined;

  constructor(request: string, status: number, headers: Headers, text: string, schema: z.ZodType<T>) {
    super(request, status, headers, text);
    this.#body = this.isProblem() ? undefined : { value: parseJson(`${request} → ${status}`, schema, text) };
  }

  /** The parsed body; fails the test when the answer was a problem document instead. */
  get body(): T {
    if (this.#body === undefined) {
      const { code, detail } = this.problem;
      throw new ContractError(`${this.request} → ${this.status} ${code} (${detail}), not the body expected`);
    }
    return this.#body.value;
  }
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Reads an answer of the Worker however it was fetched (`call`, or
 * `worker.fetch` with an env of the test's own): with a schema, the body is
 * parsed with it.
 */
export async function readResponse<S extends z.ZodType>(
  request: string,
  response: Response,
  schema: S,
): Promise<ApiResponse<z.output<S>>>;
export async function readResponse(request: string, response: Response): Promise<RawResponse>;
export async function readResponse(
  request: string,
  response: Response,
  schema?: z.ZodType,
): Promise<RawResponse> {
  const text = await response.text();
  return schema === undefined
    ? new RawResponse(request, response.status, response.headers, text)
    : new ApiResponse(request, response.status, response.headers, text, schema);
}

/**
 * Calls the Worker in workerd, as a client would over HTTP. With `schema`,
 * every answer that is not a problem document is parsed with it (a success,
 * or /health's 503), and a mismatch fails the test here.
 */
export function call<S extends z.ZodType>(
  method: string,
  path: string,
  options: CallOptions & { schema: S },
): Promise<ApiResponse<z.output<S>>>;
export function call(method: string, path: string, options?: CallOptions): Promise<RawResponse>;
export async function call(
  method: string,
  path: string,
  options: CallOptions & { schema?: z.ZodType } = {},
): Promise<RawResponse> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const response = await exports.default.fetch(`http://bidding.test${path}`, { method, headers, body });
  const request = `${method} ${path}`;
  return options.schema === undefined
    ? readResponse(request, response)
    : readResponse(request, response, options.schema);
}

const runPrefix = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
let uniqueCounter = 0;
/** A short username no other test file (or earlier run on the same database) has used. */
export function uniqueName(): string {
  uniqueCounter += 1;
  return `u${runPrefix}${uniqueCounter.toString(36)}`;
}

export async function createUsers(count: number): Promise<z.infer<typeof CreatedUsersSchema>["users"]> {
  const usernames = Array.from({ length: count }, () => uniqueName());
  const created: z.infer<typeof CreatedUsersSchema>["users"] = [];
  for (let i = 0; i < usernames.length; i += 1000) {
    const res = await call("POST", "/v1/users/batch", {
      token: await adminToken(),
      body: { usernames: usernames.slice(i, i + 1000) },
      schema: CreatedUsersSchema,
    });
    if (res.status !== 201) throw new Error(`user batch failed: ${res.status} ${res.text}`);
    created.push(...res.body.users);
  }
  return created;
}

export async function createSession(
  overrides: Partial<{
    title: string;
    startsAt: string;
    endsAt: string;
    minBid: number;
    minIncrement: number;
    currency: string;
  }> = {},
): Promise<Session> {
  const now = Date.now();
  const res = await call("POST", "/v1/sessions", {
    token: await adminToken(),
    body: {
      title: "Test session",
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      minBid: 100,
      minIncrement: 10,
      ...overrides,
    },
    schema: SessionSchema,
  });
  if (res.status !== 201) throw new Error(`session create failed: ${res.status} ${res.text}`);
  return res.body;
}

/** A bid; `.body` is the receipt (BidReceiptSchema), `.problem` the refusal. */
export async function bid(
  sessionId: string,
  userId: number,
  amount: number,
  headers: Record<string, string> = {},
): Promise<ApiResponse<z.output<typeof BidReceiptSchema>>> {
  return call("POST", `/v1/sessions/${sessionId}/bids`, {
    token: await tokenFor(userId, "user"),
    body: { amount },
    headers,
    schema: BidReceiptSchema,
  });
}

import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every stable `code` a client can see, with its HTTP status and title (API.md). */
export const problemCodes = {
  invalid_request: [400, "Invalid request"],
  unauthorized: [401, "Unauthorized"],
  forbidden: [403, "Forbidden"],
  not_found: [404, "Not found"],
  user_not_found: [404, "User not found"],
  session_not_found: [404, "Session not found"],
  no_bid: [404, "No bid"],
  method_not_allowed: [405, "Method not allowed"],
  username_taken: [409, "Username taken"],
  session_not_started: [409, "Session not started"],
  session_ended: [409, "Session ended"],
  session_already_started: [409, "Session already started"],
  session_not_ended: [409, "Session not ended"],
  payload_too_large: [413, "Payload too large"],
  unsupported_media_type: [415, "Unsupported media type"],
  bid_below_minimum: [422, "Bid below minimum"],
  bid_increment_too_small: [422, "Bid increment too small"],
  idempotency_key_reused: [422, "Idempotency key reused"],
  proxy_bids_need_single_unit: [422, "Proxy bids need a single unit"],
  webhook_url_refused: [422, "Webhook URL refused"],
  upgrade_required: [426, "Upgrade required"],
  rate_limited: [429, "Too many requests"],
  internal_error: [500, "Internal server error"],
  database_unavailable: [503, "Database unavailable"],
  service_unavailable: [503, "Service unavailable"],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>;

export type ProblemCode = keyof typeof problemCodes;

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
}

/** A failure the client caused or should know about; the error handler turns it into a problem document. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    cause?: unknown,
  ) {
    super(`${code}: ${detail}`, { cause });
    this.status = problemCodes[code][0];
  }
}

export function problemDocument(code: ProblemCode, detail: string): ProblemDocument {
  const [status, title] = problemCodes[code];
  return { type: `/problems/${code}`, title, status, detail, code };
}

export function problemResponse(
  code: ProblemCode,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const body = problemDocument(code, detail);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "Content-Type": "application/problem+json", ...headers },
  });
}

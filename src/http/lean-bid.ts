import { problemResponse } from "../api/problem";
import { uuidPattern } from "../api/schemas";
import { expectOk, placeBidInSession } from "../session-client/session-client";
import { problemFor } from "./app";
import { authenticate } from "./auth";
import { jsonMediaType, MAX_BODY_BYTES } from "./body-rules";
import { corsOrigins } from "./cors";

/**
 * The hot route, `POST /v1/sessions/{id}/bids`, without the router: a bid
 * exactly as a well-behaved client sends it (a user's valid token, a JSON
 * body of one `amount` or one `maxAmount`, a sound Idempotency-Key if any,
 * no CORS to answer) is placed here, at a fraction of Hono's and zod's cost
 * per request. Anything else goes on to the router, which answers it as it
 * always did, every problem document included, so the two can never
 * disagree on what is refused.
 */

const BID_PATH = /^\/v1\/sessions\/([^/]+)\/bids$/;
const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/;
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,128}$/;
const MONEY_MAX = 1_000_000_000_000;

type Order = { amount: number } | { maxAmount: number };

const isMoney = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MONEY_MAX;

/** `{"amount": n}` or `{"maxAmount": n}` and nothing else, or undefined. */
function orderIn(body: string): Order | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const keys = Object.keys(parsed);
  if (keys.length !== 1) return undefined;
  if ("amount" in parsed && isMoney(parsed.amount)) return { amount: parsed.amount };
  if ("maxAmount" in parsed && isMoney(parsed.maxAmount)) return { maxAmount: parsed.maxAmount };
  return undefined;
}

/**
 * Answers the request when it is a plain bid; otherwise hands back the
 * request for the router (rebuilt when its body was read).
 */
export async function placeLeanBid(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
): Promise<Response | Request> {
  if (request.method !== "POST" || corsOrigins(env.CORS_ORIGINS) !== undefined) return request;
  const path = request.url.slice(request.url.indexOf("/", request.url.indexOf("//") + 2));
  const sessionId = BID_PATH.exec(path)?.[1];
  const headers = request.headers;
  const length = Number(headers.get("Content-Length") ?? "NaN");
  const token = BEARER.exec(headers.get("Authorization") ?? "")?.[1];
  const idempotencyKey = headers.get("Idempotency-Key") ?? undefined;
  if (
    sessionId === undefined ||
    !uuidPattern.test(sessionId) ||
    !(length > 0 && length <= MAX_BODY_BYTES) ||
    !jsonMediaType.test(headers.get("Content-Type") ?? "") ||
    token === undefined ||
    (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey))
  ) {
    return request;
  }
  const body = await request.text();
  const order = orderIn(body);
  const caller = order === undefined ? undefined : await authenticateOrUndefined(env, ctx, token);
  if (order === undefined || caller === undefined) return new Request(request, { body });
  try {
    const placed = await expectOk(
      placeBidInSession(env, ctx, sessionId.toLowerCase(), {
        userId: caller.userId,
        ...order,
        idempotencyKey,
      }),
    );
    const answer: Record<string, string> = { "Content-Type": "application/json" };
    if (placed.replayed) answer["Idempotent-Replayed"] = "true";
    return new Response(JSON.stringify(placed.receipt), { status: 201, headers: answer });
  } catch (error) {
    return error instanceof Error
      ? problemFor(error, "POST", path)
      : problemResponse("internal_error", "Something went wrong on our side.");
  }
}

/** A user's token, checked as the router checks it; anything it would refuse is left to it. */
async function authenticateOrUndefined(env: Env, ctx: ExecutionContext, token: string) {
  try {
    return await authenticate({ env, keepAlive: (promise) => ctx.waitUntil(promise) }, token, ["user"]);
  } catch {
    return undefined;
  }
}

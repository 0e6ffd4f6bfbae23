import { ApiError } from "../api/problem";
import type { BidRequest, Outcome, PlacedBid } from "../api/session-protocol";
import { type RecentFirstBids, recentFirstBidsOf } from "../users/recent-first-bids";
import { BidCoalescer, type SendBids, type WaitUntil } from "./bid-coalescer";

/** The stub of the one object that owns session `id`. */
export function sessionObject(env: Env, id: string) {
  return env.BIDDING_SESSION.getByName(id);
}

/** This isolate's bids in flight, per session (src/session-client/bid-coalescer.ts). */
const coalescer = new BidCoalescer();

/**
 * Request ids: random per isolate, then counted, so no two bids anywhere share
 * one and none costs a UUID. Made at the first bid: no random values at
 * global scope in a Worker.
 */
let requestIdPrefix: string | undefined;
let requestsSent = 0;

/**
 * Places a bid: with the other bids of this isolate for the same session, in
 * one call, when `BID_COALESCING` is on (it is, but for the workerd test pool,
 * whose requests cannot wait on one another); the object decides a call's
 * bids together, in one transaction (`BiddingSession.placeBids`). A bid that
 * got no answer is sent once more alone, under the same request id, which
 * the object recognises: a bid stored before the failure is answered, not
 * applied twice.
 */
export async function placeBidInSession(
  env: Env,
  ctx: WaitUntil,
  id: string,
  request: BidRequest,
): Promise<Outcome<PlacedBid>> {
  requestIdPrefix ??= crypto.randomUUID();
  requestsSent += 1;
  const sent: BidRequest = { ...request, requestId: `${requestIdPrefix}:${requestsSent}` };
  const send = async (requests: BidRequest[]) => {
    const outcomes = await sessionObject(env, id).placeBids(requests);
    return { outcomes, settled: recordFirstBids(env, id, requests, outcomes) };
  };
  try {
    const outcome =
      env.BID_COALESCING === "off"
        ? await answerOf(send([sent]))
        : await coalescer.place(ctx, id, sent, send);
    if (outcome) return outcome;
  } catch (error) {
    logUnavailable(error);
  }
  const outcome = await answerOf(send([{ ...sent, resend: true }]));
  return (
    outcome ?? {
      ok: false,
      code: "service_unavailable",
      detail: "The session gave no answer; retry shortly.",
    }
  );
}

/** The one bid's outcome, once what it waits for has settled. */
async function answerOf(sending: ReturnType<SendBids>): Promise<Outcome<PlacedBid> | undefined> {
  const { outcomes, settled } = await sending;
  await settled;
  return outcomes[0];
}

let firstBids: RecentFirstBids | undefined;

/**
 * GET /v1/me/bids finds a user's sessions in PostgreSQL, which learns of a
 * first bid only at the object's next flush: the sessions of the first bids
 * just accepted are recorded (src/users/recent-first-bids.ts) before their
 * 201s. Here in the Worker, after the call, so the object's next call does
 * not wait for it.
 */
function recordFirstBids(
  env: Env,
  sessionId: string,
  requests: readonly BidRequest[],
  outcomes: readonly Outcome<PlacedBid>[],
): Promise<void> | undefined {
  const userIds = requests
    .filter((_, i) => {
      const outcome = outcomes[i];
      return outcome?.ok === true && outcome.value.first === true;
    })
    .map((request) => request.userId);
  if (userIds.length === 0) return undefined;
  firstBids ??= recentFirstBidsOf(env);
  return firstBids.add(sessionId, userIds, Date.now());
}

function logUnavailable(error: unknown): void {
  console.error(
    JSON.stringify({
      level: "error",
      event: "session_object_unavailable",
      error: error instanceof Error ? error.message : String(error),
    }),
  );
}

/**
 * Awaits an RPC call on a session object and turns its refusals into
 * ApiErrors. A call that fails outright (the object restarting, overloaded)
 * is a 503 the client may retry: with an Idempotency-Key that is always safe.
 */
export async function expectOk<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (error) {
    logUnavailable(error);
    throw new ApiError("service_unavailable", "The session is briefly unavailable; retry shortly.", {
      "Retry-After": "1",
    });
  }
  if (outcome.ok) return outcome.value;
  const headers: Record<string, string> =
    outcome.retryAfterSeconds === undefined ? {} : { "Retry-After": String(outcome.retryAfterSeconds) };
  throw new ApiError(outcome.code, outcome.detail, headers);
}

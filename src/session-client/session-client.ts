import { ApiError } from "../api/problem";
import type { BidRequest, Outcome, PlacedBid } from "../api/session-protocol";
import { BidCoalescer, type WaitUntil } from "./bid-coalescer";

/** The stub of the one object that owns session `id`. */
export function sessionObject(env: Env, id: string) {
  return env.BIDDING_SESSION.getByName(id);
}

/** This isolate's bids in flight, per session (src/objects/bid-coalescer.ts). */
const coalescer = new BidCoalescer();

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
  const sent: BidRequest = { ...request, requestId: crypto.randomUUID() };
  try {
    const outcome =
      env.BID_COALESCING === "off"
        ? (await sessionObject(env, id).placeBids([sent]))[0]
        : await coalescer.place(ctx, id, sent, (requests) => sessionObject(env, id).placeBids(requests));
    if (outcome) return outcome;
  } catch (error) {
    logUnavailable(error);
  }
  const [outcome] = await sessionObject(env, id).placeBids([{ ...sent, resend: true }]);
  return (
    outcome ?? {
      ok: false,
      code: "service_unavailable",
      detail: "The session gave no answer; retry shortly.",
    }
  );
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

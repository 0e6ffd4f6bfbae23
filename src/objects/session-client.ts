import { ApiError } from "../http/problem";
import { type KeepAlive, placeBatched } from "./bid-batcher";
import type { BidRequest, Leaderboard, Outcome, PlacedBid, SessionView } from "./protocol";
import { SingleFlight } from "./single-flight";

/** The stub of the one object that owns session `id`. */
export function sessionObject(env: Env, id: string) {
  return env.BIDDING_SESSION.getByName(id);
}

/** Places a bid through the isolate's batch for its session: one object call for all bids arriving together. */
export function placeBid(
  env: Env,
  ctx: Lifetime,
  id: string,
  request: BidRequest,
): Promise<Outcome<PlacedBid>> {
  return placeBatched(
    id,
    (requests) => sessionObject(env, id).placeBids(requests),
    request,
    keepAliveIn(ctx),
  );
}

/** The part of a request's execution context that keeps work going after its answer. */
interface Lifetime {
  waitUntil(promise: Promise<unknown>): void;
}

/** A call shared by several requests outlives the answer of the one that started it. */
const keepAliveIn =
  (ctx: Lifetime): KeepAlive =>
  (call) =>
    ctx.waitUntil(call);

const sessionReads = new SingleFlight<Outcome<SessionView>>();
const boardReads = new SingleFlight<Outcome<Leaderboard>>();

/** A session's public view; concurrent reads of it in this isolate share one object call. */
export function readSession(env: Env, ctx: Lifetime, id: string): Promise<Outcome<SessionView>> {
  return sessionReads.read(id, () => sessionObject(env, id).getSession(), keepAliveIn(ctx));
}

/** A session's top `limit`; concurrent reads of the same board in this isolate share one object call. */
export function readBoard(env: Env, ctx: Lifetime, id: string, limit: number): Promise<Outcome<Leaderboard>> {
  return boardReads.read(`${id}:${limit}`, () => sessionObject(env, id).leaderboard(limit), keepAliveIn(ctx));
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
    console.error(
      JSON.stringify({
        level: "error",
        event: "session_object_unavailable",
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    throw new ApiError("service_unavailable", "The session is briefly unavailable; retry shortly.", {
      "Retry-After": "1",
    });
  }
  if (outcome.ok) return outcome.value;
  const headers: Record<string, string> =
    outcome.retryAfterSeconds === undefined ? {} : { "Retry-After": String(outcome.retryAfterSeconds) };
  throw new ApiError(outcome.code, outcome.detail, headers);
}

import type { BidStanding, Outcome } from "../api/session-protocol";
import { sessionObject } from "../session-client/session-client";
import type { MyBidEntry } from "./my-bids";

/** Object calls in flight at once for one page: a page is at most 100 sessions. */
const MAX_CONCURRENT_CALLS = 10;

/**
 * The page's figures from each session's object, for the sessions whose
 * results PostgreSQL does not have yet: PostgreSQL holds the bids as of the
 * last flush, the object holds them as of now (a raise a moment ago, a rival's
 * bid not yet flushed, an end moved by a soft close). An object that cannot
 * answer leaves the flushed figures in place.
 */
export async function withLiveStandings(
  env: Env,
  userId: number,
  entries: readonly MyBidEntry[],
): Promise<MyBidEntry[]> {
  const open = entries.filter((entry) => !entry.closed);
  const standings = new Map<string, BidStanding>();
  for (let start = 0; start < open.length; start += MAX_CONCURRENT_CALLS) {
    await Promise.all(
      open.slice(start, start + MAX_CONCURRENT_CALLS).map(async ({ sessionId }) => {
        const standing = await standingOf(env, sessionId, userId);
        if (standing) standings.set(sessionId, standing);
      }),
    );
  }
  return entries.map((entry) => ({ ...entry, ...standings.get(entry.sessionId) }));
}

/** The entries whose objects answered, with the figures they hold; the rest left out. */
export async function standingsOf(
  env: Env,
  userId: number,
  entries: readonly MyBidEntry[],
): Promise<MyBidEntry[]> {
  const answered = await Promise.all(
    entries.slice(0, MAX_CONCURRENT_CALLS).map(async (entry) => {
      const standing = await standingOf(env, entry.sessionId, userId);
      return standing ? [{ ...entry, ...standing }] : [];
    }),
  );
  return answered.flat();
}

async function standingOf(env: Env, sessionId: string, userId: number): Promise<BidStanding | undefined> {
  let outcome: Outcome<BidStanding>;
  try {
    outcome = await sessionObject(env, sessionId).standing(userId);
  } catch {
    // An object of an older version (no such method) or one restarting: the flushed figures stand.
    return undefined;
  }
  return outcome.ok ? outcome.value : undefined;
}

import { ApiError } from "../api/problem";
import { DatabaseUnavailable, withDatabase } from "../db/client";
import {
  type Identity,
  type IdentityUser,
  identitiesOf,
  unlinkIdentities,
  userForIdentity,
} from "./identities";
import { IdentityCache } from "./identity-cache";
import { learnUsernames } from "./lookup";
import { RecentIdentities } from "./recent-identities";
import { findUser } from "./store";

/** Tens of thousands of signed-in people per isolate, at ~200 bytes each. */
const RECENT_CAPACITY = 20_000;
/** How long an unlink may take to reach an isolate that already knows the identity. */
export const IDENTITY_RECHECK_MS = 60_000;

/** This isolate's memory of identities: module-level, so it outlives the request. */
export const recentIdentities = new RecentIdentities(RECENT_CAPACITY, IDENTITY_RECHECK_MS);

/**
 * Our user id for a provider's identity: from this isolate's memory (no
 * network at all), else the shared cache, else PostgreSQL, which creates the
 * user named `username` on the identity's first sight. While PostgreSQL
 * cannot be reached, an identity this isolate knows keeps its user; a new
 * one gets the 503.
 */
export async function userIdForIdentity(env: Env, identity: Identity, username: string): Promise<number> {
  const now = Date.now();
  const recalled = recentIdentities.recall(identity, now);
  if (recalled?.fresh) return recalled.userId;

  const cache = IdentityCache.fromEnv(env);
  const cached = await cache?.get(identity);
  if (cached !== undefined) {
    recentIdentities.remember(identity, cached, now);
    return cached;
  }

  let resolved: IdentityUser;
  try {
    resolved = await withDatabase(env, (db) => userForIdentity(db, identity, username));
  } catch (error) {
    if (recalled && error instanceof DatabaseUnavailable) return recalled.userId;
    throw error;
  }
  recentIdentities.remember(identity, resolved.userId, now);
  await cache?.put(identity, resolved.userId);
  if (resolved.created) {
    // A new user's first bid then finds its name, even while PostgreSQL is down.
    await learnUsernames(env, new Map([[resolved.created.id, resolved.created.username]]));
  }
  return resolved.userId;
}

/**
 * Unlinks every identity of `userId`, so the next token of each creates a
 * new user; undefined when there is no such user. This isolate forgets them
 * at once, the others within IDENTITY_RECHECK_MS.
 */
export async function unlinkUserIdentities(env: Env, userId: number): Promise<Identity[] | undefined> {
  const cache = IdentityCache.fromEnv(env);
  return withDatabase(env, async (db) => {
    if (!(await findUser(db, userId))) return undefined;
    // The shared cache is cleared first, so a failure unlinks nothing, and again after, for a lookup
    // that cached one of them in between.
    if (cache && !(await cache.delete(await identitiesOf(db, userId)))) {
      const detail = "The identity cache cannot be cleared now; nothing was unlinked.";
      throw new ApiError("service_unavailable", detail, { "Retry-After": "5" });
    }
    const removed = await unlinkIdentities(db, userId);
    for (const identity of removed) recentIdentities.forget(identity);
    await cache?.delete(removed);
    return removed;
  });
}

import { DatabaseUnavailable, withDatabase } from "../db/client";
import { type Identity, type IdentityUser, userForIdentity } from "./identities";
import { IdentityCache } from "./identity-cache";
import { RecentIdentities } from "./recent-identities";
import { UsernameCache } from "./username-cache";

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
    // A new user's first bid then finds its name in the cache, even while PostgreSQL is down.
    await UsernameCache.fromEnv(env)?.putMany(new Map([[resolved.created.id, resolved.created.username]]));
  }
  return resolved.userId;
}

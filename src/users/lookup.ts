import { type Database, withDatabase } from "../db/client";
import { findUsernames } from "./store";
import { UsernameCache } from "./username-cache";

/**
 * Usernames for many users in one batch: one cache MGET, then one SQL query
 * for the misses only, then the misses written back in one pipeline. Never a
 * query per user (the reference system's N+1 leaderboard).
 */
export async function lookupUsernames(
  env: Env,
  userIds: number[],
  db?: Database,
): Promise<Map<number, string>> {
  const ids = [...new Set(userIds)];
  const cache = UsernameCache.fromEnv(env);
  const found = cache ? await cache.getMany(ids) : new Map<number, string>();
  const misses = ids.filter((id) => !found.has(id));
  if (misses.length === 0) return found;

  const loaded = db
    ? await findUsernames(db, misses)
    : await withDatabase(env, (fresh) => findUsernames(fresh, misses));
  for (const [id, name] of loaded) found.set(id, name);
  if (cache) await cache.putMany(loaded);
  return found;
}

import { type Database, DatabaseUnavailable, withDatabase } from "../db/client";
import { findUsernames } from "./store";
import { UsernameCache } from "./username-cache";
import { recallUsernames, rememberUsernames } from "./username-memory";

/**
 * Usernames for many users in one batch: what this isolate remembers, then
 * one cache MGET, then one SQL query for the misses only, then the misses
 * written back in one pipeline. Never a query per user (the reference
 * system's N+1 leaderboard).
 *
 * With `bestEffort`, a database that cannot be reached leaves the misses out
 * instead of failing: a leaderboard without some names beats no leaderboard.
 */
export async function lookupUsernames(
  env: Env,
  userIds: number[],
  options: { db?: Database; bestEffort?: boolean } = {},
): Promise<Map<number, string>> {
  const ids = [...new Set(userIds)];
  const found = recallUsernames(ids);
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length === 0) return found;
  const cache = UsernameCache.fromEnv(env);
  const cached = cache ? await cache.getMany(unknown) : new Map<number, string>();
  rememberUsernames(cached);
  for (const [id, name] of cached) found.set(id, name);
  const misses = unknown.filter((id) => !found.has(id));
  if (misses.length === 0) return found;

  let loaded: Map<number, string>;
  try {
    loaded = options.db
      ? await findUsernames(options.db, misses)
      : await withDatabase(env, (db) => findUsernames(db, misses));
  } catch (error) {
    if (!(options.bestEffort && error instanceof DatabaseUnavailable)) throw error;
    console.warn(JSON.stringify({ level: "warn", event: "usernames_unavailable", missing: misses.length }));
    return found;
  }
  for (const [id, name] of loaded) found.set(id, name);
  rememberUsernames(loaded);
  if (cache) await cache.putMany(loaded);
  return found;
}

/** Names just created: this isolate remembers them, and the cache gets them while they are at hand. */
export async function learnUsernames(env: Env, created: ReadonlyMap<number, string>): Promise<void> {
  rememberUsernames(created);
  await UsernameCache.fromEnv(env)?.putMany(new Map(created));
}

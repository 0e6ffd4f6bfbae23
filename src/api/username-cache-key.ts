// The Upstash keys the username cache writes, apart from the cache itself so
// Node scripts (load/, tests) can name the same keys without the Worker's types.

/** CACHE_NAMESPACE when it is not set (wrangler.toml sets the same). */
export const DEFAULT_CACHE_NAMESPACE = "bidding";

/** `<namespace>:username:<id>`: one key per user, so several deployments can share one Redis. */
export function usernameCacheKey(namespace: string, userId: number): string {
  return `${namespace}:username:${userId}`;
}

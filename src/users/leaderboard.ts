import { lookupUsernames } from "./lookup";

/**
 * Fills the names the session object lacks with one batched lookup. The
 * object holds every bidder's name from their first bid, so usually nothing
 * is missing and nothing is looked up; a name that cannot be had stays null.
 */
export async function withMissingUsernames<Entry extends { userId: number; username?: string | null }>(
  env: Env,
  entries: Entry[],
): Promise<(Entry & { username: string | null })[]> {
  // An object of an older version sends entries without the field at all.
  const missing = entries.filter((entry) => entry.username == null).map((entry) => entry.userId);
  const names =
    missing.length === 0
      ? new Map<number, string>()
      : await lookupUsernames(env, missing, { bestEffort: true });
  return entries.map((entry) => ({ ...entry, username: entry.username ?? names.get(entry.userId) ?? null }));
}

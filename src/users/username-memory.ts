/** About 10 MB of names at most per isolate. */
const MAX_NAMES = 100_000;

/**
 * The usernames this isolate has seen: created here, or found in the cache
 * or PostgreSQL. A user is never deleted or renamed, so a name once seen
 * stays true, and a user found here exists: a first bid by one needs no
 * lookup. The names seen last are kept.
 */
const names = new Map<number, string>();

export function rememberUsernames(found: ReadonlyMap<number, string>): void {
  for (const [id, name] of found) {
    names.delete(id);
    names.set(id, name);
  }
  for (const id of names.keys()) {
    if (names.size <= MAX_NAMES) break;
    names.delete(id);
  }
}

/** The names of `userIds` this isolate remembers. */
export function recallUsernames(userIds: readonly number[]): Map<number, string> {
  const found = new Map<number, string>();
  for (const id of userIds) {
    const name = names.get(id);
    if (name !== undefined) found.set(id, name);
  }
  return found;
}

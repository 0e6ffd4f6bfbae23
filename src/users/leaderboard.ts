import type { Leaderboard } from "../objects/protocol";
import { lookupUsernames } from "./lookup";

export type { Leaderboard };

/**
 * Fills the names the session object lacks with one batched lookup. The
 * object holds every bidder's name from their first bid, so usually nothing
 * is missing and nothing is looked up; a name that cannot be had stays null.
 */
export async function withMissingUsernames(env: Env, board: Leaderboard): Promise<Leaderboard> {
  // An object of an older version sends entries without the field at all.
  const missing = board.entries.filter((entry) => entry.username == null).map((entry) => entry.userId);
  if (missing.length === 0) return board;
  const names = await lookupUsernames(env, missing, { bestEffort: true });
  return {
    ...board,
    entries: board.entries.map((entry) => ({
      ...entry,
      username: entry.username ?? names.get(entry.userId) ?? null,
    })),
  };
}

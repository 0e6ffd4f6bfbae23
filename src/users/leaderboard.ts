import type { BoardSnapshot } from "../objects/protocol";
import { lookupUsernames } from "./lookup";

export type Leaderboard = Omit<BoardSnapshot, "entries"> & {
  entries: (BoardSnapshot["entries"][number] & { username: string | null })[];
};

/** Adds usernames to a board snapshot with one batched lookup; a name that cannot be had is null. */
export async function withUsernames(env: Env, snapshot: BoardSnapshot): Promise<Leaderboard> {
  const names = await lookupUsernames(
    env,
    snapshot.entries.map((entry) => entry.userId),
    { bestEffort: true },
  );
  return {
    ...snapshot,
    entries: snapshot.entries.map((entry) => ({ ...entry, username: names.get(entry.userId) ?? null })),
  };
}

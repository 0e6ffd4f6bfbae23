import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { SessionStats } from "../../src/api/session-protocol";

export const sessionStub = (id: string) => env.BIDDING_SESSION.getByName(id);

/** Runs the session's alarm now, as the platform would when it is due. */
export const fireAlarm = (id: string) => runDurableObjectAlarm(sessionStub(id));

export async function statsOf(id: string): Promise<SessionStats> {
  const outcome = await sessionStub(id).stats();
  if (!outcome.ok) throw new Error(outcome.detail);
  return outcome.value;
}

/** Every live bid the object holds, best first. */
export async function objectBoard(id: string) {
  return runInDurableObject(sessionStub(id), async (instance) => {
    const outcome = await instance.leaderboard(Number.MAX_SAFE_INTEGER);
    if (!outcome.ok) throw new Error(outcome.detail);
    return outcome.value;
  });
}

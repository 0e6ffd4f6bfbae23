import { sql } from "drizzle-orm";
import { withDatabase } from "./client";

/** A check this young answers every caller: a crowd of probes costs one query a second, not one each. */
const FRESH_MS = 1_000;
/** A caller that waited this long for another request's check makes its own. */
const WAIT_MS = 5_000;

let last: { at: number; reachable: boolean } | undefined;
/** The callers waiting for the check under way, if one is. */
let waiting: ((reachable: boolean) => void)[] | undefined;

async function check(env: Env): Promise<boolean> {
  try {
    await withDatabase(env, (db) => db.execute(sql`select 1`));
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether PostgreSQL answered a check at most a second old. One request at a
 * time makes the check; the others wait on a promise of their own (workerd
 * cancels a promise made in another request's context along with that
 * request), and make their own check if the answer is slow to come.
 */
export async function databaseReachable(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
): Promise<boolean> {
  if (last !== undefined && Date.now() - last.at <= FRESH_MS) return last.reachable;
  const waiters = waiting;
  if (waiters !== undefined) {
    let timer: number | undefined;
    const answer = await Promise.race([
      new Promise<boolean>((resolve) => waiters.push(resolve)),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    return answer ?? check(env);
  }
  const ours: ((reachable: boolean) => void)[] = [];
  waiting = ours;
  const startedAt = Date.now();
  const checked = check(env).then((reachable) => {
    last = { at: startedAt, reachable };
    if (waiting === ours) waiting = undefined;
    for (const resolve of ours) resolve(reachable);
    return reachable;
  });
  // Finished even if this caller goes away, so the waiters get their answer.
  ctx.waitUntil(checked);
  return checked;
}

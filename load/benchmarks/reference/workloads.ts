// W1–W3 of the side-by-side benchmark, the same requests for either design,
// and the platform floor's routes, on the lean client, each with the CPU its
// system and the load generator used.
import { type Burst, type BurstResult, openBurst } from "../../bids/burst.js";
import { type RawLoopResult, runRawClosedLoop } from "../../bids/closed-loop.js";
import type { Raises } from "../../bids/ledger.js";
import type { Bidder, Session } from "../../kit/api.js";
import { type Measured, measured } from "../../kit/cpu.js";
import { buildRequest } from "../../kit/http.js";
import type { AcknowledgedAmount } from "./live-bids.js";

/** What a workload needs of a system: where it answers, and which processes are its. */
export interface LoadTarget {
  url: URL;
  cpuRoots(): number[];
}

export const W2_CONNECTIONS = 100;
export const W3_CONNECTIONS = 50;
const LEADERBOARD_LIMIT = 50;
export const FLOOR_ROUTES = ["/bare", "/object", "/write"] as const;
export type FloorRoute = (typeof FLOOR_ROUTES)[number];
const FLOOR_CONNECTIONS = 100;

function bidRequest(sessionId: string, token: string, amount: number): string {
  return buildRequest(
    "POST",
    `/v1/sessions/${sessionId}/bids`,
    { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    JSON.stringify({ amount }),
  );
}

/**
 * W1: every user's first bid, each on its own connection opened beforehand,
 * all written at once. Amounts differ per user, so the board W3 reads is stable.
 * `around` wraps the burst itself, not the connections' opening (the profiler samples only it).
 */
export async function runSimultaneousBids(
  system: LoadTarget,
  session: Session,
  users: readonly Bidder[],
  acknowledged: AcknowledgedAmount[],
  around: <T>(fire: () => Promise<T>) => Promise<T> = (fire) => fire(),
): Promise<Measured<BurstResult>> {
  const burst: Burst = await openBurst(
    system.url,
    users.length,
    buildRequest("GET", `/v1/sessions/${session.id}`, {}),
  );
  try {
    const amounts = users.map((_, index) => session.minBid + index * session.minIncrement);
    const requests = users.map((user, index) => bidRequest(session.id, user.token, amounts[index] ?? 0));
    return await around(() =>
      measured(system.cpuRoots(), () =>
        burst.fire(requests, (index, status) => {
          const user = users[index];
          const amount = amounts[index];
          if (status === 201 && user && amount !== undefined) acknowledged.push({ userId: user.id, amount });
        }),
      ),
    );
  } finally {
    burst.close();
  }
}

/**
 * W2: closed loop, each connection owning every 100th user and raising the next of them by one
 * increment per request, so every request is a fresh, valid raise. `own`: the users rise in step
 * and the lead changes hands about once per `users` bids (few bid.outbid events); `top`: each amount
 * above every one sent before, so most bids outbid the leader (0.68 events per bid in a 5 s run).
 */
export function runRaises(
  system: LoadTarget,
  session: Session,
  users: readonly Bidder[],
  durationMs: number,
  acknowledged: AcknowledgedAmount[],
  signal: AbortSignal,
  raises: Raises = "own",
): Promise<Measured<RawLoopResult>> {
  const owned = Array.from({ length: W2_CONNECTIONS }, (_, connection) =>
    users.filter((_, index) => index % W2_CONNECTIONS === connection),
  );
  const turns = new Array<number>(W2_CONNECTIONS).fill(0);
  const nextAmount = new Map<number, number>();
  let nextTop = session.minBid;
  const inFlight: (AcknowledgedAmount | undefined)[] = [];
  return measured(system.cpuRoots(), () =>
    runRawClosedLoop({
      url: system.url,
      connections: W2_CONNECTIONS,
      durationMs,
      signal,
      nextRequest: (connection) => {
        const mine = owned[connection] ?? [];
        const turn = (turns[connection] ?? 0) + 1;
        turns[connection] = turn;
        const user = mine[turn % mine.length];
        if (!user) throw new Error(`connection ${connection} owns no user`);
        // `top`: above every amount sent before, so above this user's own too.
        const amount = raises === "top" ? nextTop : (nextAmount.get(user.id) ?? session.minBid);
        if (raises === "top") nextTop += session.minIncrement;
        else nextAmount.set(user.id, amount + session.minIncrement);
        inFlight[connection] = { userId: user.id, amount };
        return bidRequest(session.id, user.token, amount);
      },
      onAnswer: (connection, answer) => {
        const bid = inFlight[connection];
        if (answer?.status === 201 && bid) acknowledged.push(bid);
      },
    }),
  );
}

/** One fixed GET, closed loop. */
function runFixedReads(
  target: LoadTarget,
  path: string,
  connections: number,
  durationMs: number,
  signal: AbortSignal,
) {
  const request = buildRequest("GET", path, {});
  return measured(target.cpuRoots(), () =>
    runRawClosedLoop({ url: target.url, connections, durationMs, signal, nextRequest: () => request }),
  );
}

/** W3: the leaderboard, top 50 with usernames, closed loop. */
export function runLeaderboardReads(
  system: LoadTarget,
  sessionId: string,
  durationMs: number,
  signal: AbortSignal,
): Promise<Measured<RawLoopResult>> {
  const path = `/v1/sessions/${sessionId}/leaderboard?limit=${LEADERBOARD_LIMIT}`;
  return runFixedReads(system, path, W3_CONNECTIONS, durationMs, signal);
}

/**
 * The platform floor (floor/): what the runtime serves on this machine with
 * none of the product in the way, served the way the product is (the same
 * front door), closed loop on each route.
 */
export async function measureFloor(
  floor: LoadTarget,
  durationMs: number,
  signal: AbortSignal,
): Promise<Record<FloorRoute, Measured<RawLoopResult>>> {
  const read = (route: FloorRoute) => runFixedReads(floor, route, FLOOR_CONNECTIONS, durationMs, signal);
  return { "/bare": await read("/bare"), "/object": await read("/object"), "/write": await read("/write") };
}

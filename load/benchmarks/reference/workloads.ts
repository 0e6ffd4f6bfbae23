// W1–W3 of the side-by-side benchmark, the same requests for either design,
// on the lean client, each with the CPU its system and the load generator used.

import type { BurstResult } from "../../bids/burst.js";
import { openBurst } from "../../bids/burst.js";
import { type RawLoopResult, runRawClosedLoop } from "../../bids/closed-loop.js";
import type { Raises } from "../../bids/ledger.js";
import type { Bidder } from "../../bids/open-loop.js";
import type { Session } from "../../kit/api.js";
import { CpuMeter, type CpuWindow } from "../../kit/cpu.js";
import { buildRequest } from "../../kit/raw-http.js";
import type { AcknowledgedAmount } from "./live-bids.js";
import type { BenchSystem } from "./systems.js";

export interface Measured<T> {
  result: T;
  /** CPU-seconds per second of the system's process tree. */
  serverCores: number;
  server: CpuWindow;
  /** CPU-seconds per second of this process (the load generator). */
  loaderCores: number;
}

/** What a workload needs of a system: where it answers, and which processes are its. */
export type LoadTarget = Pick<BenchSystem, "url" | "cpuRoots">;

export const W2_CONNECTIONS = 100;
export const W3_CONNECTIONS = 50;
const LEADERBOARD_LIMIT = 50;

async function measured<T>(roots: number[], run: () => Promise<T>): Promise<Measured<T>> {
  const meter = new CpuMeter(roots);
  meter.start();
  const before = process.cpuUsage();
  const startedAt = performance.now();
  const result = await run();
  const server = meter.stop();
  const used = process.cpuUsage(before);
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    result,
    server,
    serverCores: server.total / server.seconds,
    loaderCores: (used.user + used.system) / 1e6 / seconds,
  };
}

function bidRequest(sessionId: string, token: string, amount: number): string {
  return buildRequest(
    "POST",
    `/v1/sessions/${sessionId}/bids`,
    { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    JSON.stringify({ amount }),
  );
}

const port = (url: URL) => Number(url.port);

/**
 * W1: every user's first bid, each on its own connection opened beforehand,
 * all written at once. Amounts differ per user, so the board W3 reads is stable.
 */
export async function runSimultaneousBids(
  system: LoadTarget,
  session: Session,
  users: readonly Bidder[],
  acknowledged: AcknowledgedAmount[],
): Promise<Measured<BurstResult>> {
  const warm = buildRequest("GET", `/v1/sessions/${session.id}`, {});
  const burst = await openBurst(system.url.hostname, port(system.url), users.length, warm);
  try {
    const amounts = users.map((_, index) => session.minBid + index * session.minIncrement);
    const requests = users.map((user, index) => bidRequest(session.id, user.token, amounts[index] ?? 0));
    return await measured(system.cpuRoots(), () =>
      burst.fire(requests, (index, status) => {
        const user = users[index];
        const amount = amounts[index];
        if (status === 201 && user && amount !== undefined) acknowledged.push({ userId: user.id, amount });
      }),
    );
  } finally {
    burst.close();
  }
}

/**
 * W2: closed loop, each connection owning every 100th user and raising the
 * next of them by one increment per request, so every request is a fresh,
 * valid raise whatever answers came before. `own` (the default): the users
 * rise in step, so the lead changes hands only about once per `users` bids,
 * and the object writes few bid.outbid events; `top`: each amount one
 * increment above every amount sent before, so most bids take the lead and
 * outbid the leader (the rest are overtaken in flight by a higher one sent
 * later; 0.68 events per bid in a 5 s run).
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
      host: system.url.hostname,
      port: port(system.url),
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
      onAnswer: (connection, status) => {
        const bid = inFlight[connection];
        if (status === 201 && bid) acknowledged.push(bid);
      },
    }),
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
  return runFixedReads(system.url, path, W3_CONNECTIONS, durationMs, system.cpuRoots(), signal);
}

/** One fixed GET, closed loop (W3, and the platform floor's routes). */
export function runFixedReads(
  target: URL,
  path: string,
  connections: number,
  durationMs: number,
  cpuRoots: number[],
  signal: AbortSignal,
): Promise<Measured<RawLoopResult>> {
  const request = buildRequest("GET", path, {});
  return measured(cpuRoots, () =>
    runRawClosedLoop({
      host: target.hostname,
      port: port(target),
      connections,
      durationMs,
      signal,
      nextRequest: () => request,
    }),
  );
}

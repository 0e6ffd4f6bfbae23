// The two designs behind one interface: where they answer, which processes
// are theirs, their fault, and how to count what the fault lost.
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceProcess } from "../../../tools/service-process.js";
import { checkConsistency, consistencyFigures } from "../../bids/consistency.js";
import type { BidLedger } from "../../bids/ledger.js";
import { AdminFigures } from "../../kit/admin-figures.js";
import type { BiddingApi, CreatedBidder } from "../../kit/api.js";
import { HttpClient } from "../../kit/http.js";
import { type AcknowledgedAmount, checkLiveBids } from "./live-bids.js";
import type { ReferencePeer } from "./peer.js";
import type { LoadTarget } from "./workloads.js";

export const SYSTEM_KEYS = ["service", "reference"] as const;
export type SystemKey = (typeof SYSTEM_KEYS)[number];

export interface LossCount {
  /** Acknowledged bids PostgreSQL does not hold. */
  lost: number;
  details: Record<string, unknown>;
}

export interface BenchSystem extends LoadTarget {
  key: SystemKey;
  label: string;
  /** Its PostgreSQL database, read directly. */
  databaseUrl: string;
  /** W4's fault; returns what was done, in a few words. */
  fault(): Promise<string>;
  recover(): Promise<string>;
  /** After W4's bids: waits for the flush, then counts the 201s PostgreSQL lost. */
  countLost(
    sessionId: string,
    ledger: BidLedger,
    acknowledged: readonly AcknowledgedAmount[],
  ): Promise<LossCount>;
}

/** A system with its API client and the users created on it for the benchmark. */
export interface Contender {
  system: BenchSystem;
  api: BiddingApi;
  users: CreatedBidder[];
}

/** After the flush wait, the live rows still short of an acknowledged amount get this long to arrive. */
const LIVE_ROWS_TIMEOUT_MS = 5_000;
const FLUSH_TIMEOUT_MS = 30_000;
/** The peer drains its buffer every 5 s; a batch taken just before the buffer emptied needs one more tick. */
const PEER_DRAIN_SETTLE_MS = 6_000;

/** A service process as a load target: its URL, and its process group's root for the CPU figures. */
export const targetOf = (service: ServiceProcess): LoadTarget => ({
  url: service.url,
  cpuRoots: () => (service.pid === undefined ? [] : [service.pid]),
});

export function serviceSystem(stack: ServiceProcess, databaseUrl: string, adminToken: string): BenchSystem {
  return {
    ...targetOf(stack),
    key: "service",
    label: `this service (${stack.command})`,
    databaseUrl,
    async fault() {
      const kill = await stack.kill();
      const survivors = kill.survivors.length > 0 ? `, ${kill.survivors.length} SURVIVORS` : "";
      return `SIGKILL to ${stack.command}'s process group (${kill.killed.length} processes), gone after ${kill.releasedAfterMs} ms${survivors}`;
    },
    async recover() {
      const started = Date.now();
      await stack.start();
      return `${stack.command} restarted on its persisted state in ${((Date.now() - started) / 1000).toFixed(1)} s`;
    },
    async countLost(sessionId, ledger, acknowledged) {
      const client = new HttpClient(stack.url, { maxSockets: 2 });
      try {
        const consistency = await checkConsistency({
          databaseUrl,
          sessionId,
          sinceSeq: 0,
          ledger: ledger,
          admin: new AdminFigures(client, adminToken),
          flushTimeoutMs: FLUSH_TIMEOUT_MS,
        });
        const liveRows = await checkLiveBids(databaseUrl, sessionId, acknowledged, LIVE_ROWS_TIMEOUT_MS);
        return {
          lost: Math.max(consistency.lost, liveRows.lostBids),
          details: { consistency: consistencyFigures(consistency), liveRows },
        };
      } finally {
        client.close();
      }
    },
  };
}

export function referenceSystem(peer: ReferencePeer, databaseUrl: string): BenchSystem {
  return {
    key: "reference",
    label: "reference design",
    url: peer.url,
    databaseUrl,
    cpuRoots: () => peer.pids(),
    async fault() {
      await peer.redisKill();
      return "run.sh redis-kill (SIGKILL to the peer's Redis, which persists nothing)";
    },
    async recover() {
      await peer.redisStart();
      return "run.sh redis-start";
    },
    async countLost(sessionId, _ledger, acknowledged) {
      const started = Date.now();
      let buffered = await peer.bufferLength();
      while (buffered > 0 && Date.now() - started < FLUSH_TIMEOUT_MS) {
        await sleep(250);
        buffered = await peer.bufferLength();
      }
      await sleep(PEER_DRAIN_SETTLE_MS);
      const liveRows = await checkLiveBids(databaseUrl, sessionId, acknowledged, LIVE_ROWS_TIMEOUT_MS);
      return {
        lost: liveRows.lostBids,
        details: { bufferedAfterWait: buffered, flushWaitMs: Date.now() - started, liveRows },
      };
    },
  };
}

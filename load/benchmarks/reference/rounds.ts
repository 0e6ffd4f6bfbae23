// The rounds of the side-by-side benchmark: in each, every workload on both
// systems one after the other, the first alternating per round, each system
// given its flush before the next measurement so one's flush never lands in
// the other's figures. The results fill in as each measurement ends, so an
// interrupted run keeps what it measured.
import { setTimeout as sleep } from "node:timers/promises";
import type { BurstResult } from "../../bids/burst.js";
import type { RawLoopResult } from "../../bids/closed-loop.js";
import type { Raises } from "../../bids/ledger.js";
import type { Session } from "../../kit/api.js";
import { type Measured, waitForQuietMachine } from "../../kit/cpu.js";
import { type FaultPlan, type FaultRunResult, runFaultRound } from "./fault-run.js";
import { type AcknowledgedAmount, checkLiveBids, type LiveBidCheck } from "./live-bids.js";
import type { Contender, SystemKey } from "./systems.js";
import { DELIVERY_WAIT_MS, runW2WithWebhooks, type WebhookBench, type WebhookRun } from "./webhook-run.js";
import {
  type FloorRoute,
  type LoadTarget,
  measureFloor,
  runLeaderboardReads,
  runRaises,
  runSimultaneousBids,
} from "./workloads.js";

export type Settled<T> = T & { settle: LiveBidCheck };

/** Index = round. */
export type Series<T> = Record<SystemKey, T[]>;

export interface BenchResults {
  w1: Series<Settled<Measured<BurstResult>>>;
  w2: Series<Settled<Measured<RawLoopResult>>>;
  /** This service's W2 with a webhook subscription, measured in the same rounds as its plain W2 (index = round). */
  w2Webhooks: WebhookRun[];
  w3: Series<Measured<RawLoopResult>>;
  w4: Series<FaultRunResult>;
  floor: Record<FloorRoute, Measured<RawLoopResult>>[];
}

export const emptyResults = (): BenchResults => ({
  w1: { service: [], reference: [] },
  w2: { service: [], reference: [] },
  w2Webhooks: [],
  w3: { service: [], reference: [] },
  w4: { service: [], reference: [] },
  floor: [],
});

export interface RoundsPlan {
  contenders: Contender[];
  rounds: number;
  durationMs: number;
  faultPlan: FaultPlan;
  /** W2's amounts (workloads.ts). */
  raises: Raises;
  /** Set: this service's W2 runs once more each round with a webhook subscription. */
  webhooks: WebhookBench | undefined;
  floor: LoadTarget;
  signal: AbortSignal;
  results: BenchResults;
  notes: string[];
  log: (line: string) => void;
}

const SESSION_MINUTES = 6 * 60;
const SETTLE_TIMEOUT_MS = 30_000;
const PAUSE_MS = 1_000;
const W4_USERS = 200;

const newSession = (contender: Contender, title: string): Promise<Session> =>
  contender.api.createSession(title, { minutes: SESSION_MINUTES });

/** `W2 this service: 1,234 bids/s, p50 …`: one closed-loop measurement as a progress line. */
const loopLine = (name: string, { result: r }: Measured<RawLoopResult>, unit: string) =>
  `  ${name}: ${Math.round(r.okPerSecond)} ${unit}, p50 ${Math.round(r.latency.p50)} ms, ` +
  `p99 ${Math.round(r.latency.p99)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`;

/** Waits (bounded) until PostgreSQL holds every acknowledged amount; a shortfall is noted, not thrown. */
async function settle(
  plan: RoundsPlan,
  contender: Contender,
  sessionId: string,
  acknowledged: AcknowledgedAmount[],
) {
  const { databaseUrl, label } = contender.system;
  const check = await checkLiveBids(databaseUrl, sessionId, acknowledged, SETTLE_TIMEOUT_MS);
  if (check.lostBids > 0) {
    plan.notes.push(
      `${label}: ${check.lostBids} acknowledged bids not in PostgreSQL ${SETTLE_TIMEOUT_MS / 1000} s after a run without fault (session ${sessionId})`,
    );
  }
  await sleep(PAUSE_MS);
  return check;
}

/** W2's closed loop of raises on `session`. */
const raises = (
  plan: RoundsPlan,
  { system, users }: Contender,
  session: Session,
  acknowledged: AcknowledgedAmount[],
) => runRaises(system, session, users, plan.durationMs, acknowledged, plan.signal, plan.raises);

export async function runRounds(plan: RoundsPlan): Promise<void> {
  const { results, log } = plan;
  // Once interrupted, no further workload starts; each starts on a quiet machine.
  const next = async () => {
    if (plan.signal.aborted) throw new Error("interrupted");
    if (!(await waitForQuietMachine())) log("  (the machine was not quiet after 30 s; measuring anyway)");
  };

  // Alternating which system goes first.
  const orderOf = (round: number) => (round % 2 === 0 ? plan.contenders : [...plan.contenders].reverse());
  for (let round = 0; round < plan.rounds; round++) {
    const order = orderOf(round);
    log(`round ${round + 1}/${plan.rounds}: ${order.map((c) => c.system.label).join(" first, then ")}`);
    const boards = new Map<Contender, string>();
    for (const contender of order) {
      const { system } = contender;
      await next();
      const session = await newSession(contender, `W1 round ${round + 1}`);
      const acknowledged: AcknowledgedAmount[] = [];
      const w1 = await runSimultaneousBids(system, session, contender.users, acknowledged);
      log(
        `  W1 ${system.label}: all ${w1.result.connections} answered in ${(w1.result.allAnsweredMs / 1000).toFixed(2)} s, ` +
          `${acknowledged.length} × 201, p50 ${Math.round(w1.result.latency.p50)} ms, p99 ${Math.round(w1.result.latency.p99)} ms`,
      );
      results.w1[system.key].push({ ...w1, settle: await settle(plan, contender, session.id, acknowledged) });
      boards.set(contender, session.id);
    }
    for (const contender of order) {
      // This service's W2 without and with a subscription, side by side, the first alternating per round.
      const withWebhooks = plan.webhooks && contender.system.key === "service" ? [plan.webhooks] : [];
      const variants = round % 2 === 0 ? [undefined, ...withWebhooks] : [...withWebhooks, undefined];
      for (const webhooks of variants) {
        await next();
        if (webhooks) await runWebhookW2(plan, contender, webhooks, round);
        else {
          const { system } = contender;
          const session = await newSession(contender, `W2 round ${round + 1}`);
          const acknowledged: AcknowledgedAmount[] = [];
          const w2 = await raises(plan, contender, session, acknowledged);
          log(loopLine(`W2 ${system.label}`, w2, "bids/s"));
          results.w2[system.key].push({
            ...w2,
            settle: await settle(plan, contender, session.id, acknowledged),
          });
        }
      }
    }
    for (const contender of order) {
      const { system } = contender;
      await next();
      const w3 = await runLeaderboardReads(system, boards.get(contender) ?? "", plan.durationMs, plan.signal);
      log(loopLine(`W3 ${system.label}`, w3, "req/s"));
      results.w3[system.key].push(w3);
      await sleep(PAUSE_MS);
    }
    await next();
    const floorRound = await measureFloor(plan.floor, plan.durationMs, plan.signal);
    log(
      `  floor: ${Object.entries(floorRound)
        .map(([route, m]) => `${route} ${Math.round(m.result.okPerSecond)} req/s`)
        .join(", ")}`,
    );
    results.floor.push(floorRound);
  }
  // The faults after every clean round: this service's W4 restarts its whole server, the reference's
  // only its Redis, so a W1 right after it compared a restarted runtime (a cold JIT) with a warm one.
  for (let round = 0; round < plan.rounds; round++) {
    const order = orderOf(round);
    for (const contender of order) {
      const { system } = contender;
      await next();
      const session = await newSession(contender, `W4 round ${round + 1}`);
      const users = contender.users.slice(0, W4_USERS);
      const w4 = await runFaultRound(system, session, users, plan.faultPlan, plan.signal);
      log(
        `  W4 ${system.label}: ${w4.fault}; ${w4.recovery}; ${w4.acknowledged} × 201, ${w4.unresolved} unresolved, lost ${w4.lost}`,
      );
      results.w4[system.key].push(w4);
      await sleep(PAUSE_MS);
    }
  }
}

async function runWebhookW2(plan: RoundsPlan, contender: Contender, webhooks: WebhookBench, round: number) {
  const run = await runW2WithWebhooks({
    contender,
    webhooks,
    round,
    signal: plan.signal,
    newSession: () => newSession(contender, `W2 with webhooks round ${round + 1}`),
    runW2: (session, acknowledged) => raises(plan, contender, session, acknowledged),
    settle: (sessionId, acknowledged) => settle(plan, contender, sessionId, acknowledged),
  });
  const r = run.received;
  plan.log(
    `${loopLine(`W2 ${contender.system.label} with webhooks subscribed`, run.w2, "bids/s")}; ` +
      `events expected ${run.expected.total}, received ${r.sessionIds}, missing ${run.missing}, ` +
      `${r.duplicates} duplicates, ${r.badSignatures} bad signatures, lag p50 ${Math.round(r.lagMs.p50)} ms p99 ${Math.round(r.lagMs.p99)} ms`,
  );
  if (run.missing > 0) {
    plan.notes.push(
      `round ${round + 1}: the receiver lacked ${run.missing} of the ${run.expected.total} events of session ${run.sessionId} ` +
        `${DELIVERY_WAIT_MS / 1000} s after W2 with webhooks (the deliveries may still land in the next measurement)`,
    );
  }
  if (r.badSignatures > 0 || r.malformed > 0) {
    plan.notes.push(
      `round ${round + 1}: ${r.badSignatures} deliveries with a bad signature, ${r.malformed} malformed bodies`,
    );
  }
  plan.results.w2Webhooks.push(run);
}

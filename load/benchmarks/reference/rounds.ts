// The rounds of the side-by-side benchmark: in each, every workload on both
// systems one after the other, the first alternating per round, each system
// given its flush before the next measurement so one's flush never lands in
// the other's figures.

import type { Raises } from "../../bids/ledger.js";
import { sleep } from "../../faults/harness.js";
import type { BiddingApi, Session } from "../../kit/api.js";
import type { CreatedBidder } from "../../kit/user-batches.js";
import type { BenchWorker } from "../bench-worker.js";
import { type FaultPlan, runFaultRound } from "./fault-run.js";
import { measureFloor } from "./floor.js";
import { type AcknowledgedAmount, checkLiveBids, type LiveBidCheck } from "./live-bids.js";
import type { BenchResults } from "./summary.js";
import type { BenchSystem } from "./systems.js";
import { DELIVERY_WAIT_MS, runW2WithWebhooks, type WebhookBench } from "./webhook-run.js";
import { runLeaderboardReads, runRaises, runSimultaneousBids } from "./workloads.js";

export interface Contender {
  system: BenchSystem;
  api: BiddingApi;
  users: CreatedBidder[];
}

export interface RoundsPlan {
  contenders: Contender[];
  adminToken: string;
  rounds: number;
  durationMs: number;
  faultPlan: FaultPlan;
  /** W2's amounts (workloads.ts). */
  raises: Raises;
  /** Set: this service's W2 runs once more each round with a webhook subscription. */
  webhooks: WebhookBench | undefined;
  floor: BenchWorker;
  signal: AbortSignal;
  /** Filled in as each measurement ends, so an interrupted run keeps what it measured. */
  results: BenchResults;
  notes: string[];
  log: (line: string) => void;
}

const SESSION_MS = 6 * 3600_000;
const SETTLE_TIMEOUT_MS = 30_000;
const PAUSE_MS = 1_000;
const W4_USERS = 200;
const MIN_BID = 100;
const MIN_INCREMENT = 1;

function newSession(contender: Contender, adminToken: string, title: string): Promise<Session> {
  const now = Date.now();
  return contender.api.createSession(adminToken, {
    title,
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + SESSION_MS).toISOString(),
    minBid: MIN_BID,
    minIncrement: MIN_INCREMENT,
  });
}

export async function runRounds(plan: RoundsPlan): Promise<void> {
  const settle = async (contender: Contender, sessionId: string, acknowledged: AcknowledgedAmount[]) => {
    const check = await checkLiveBids(
      contender.system.databaseUrl,
      sessionId,
      acknowledged,
      SETTLE_TIMEOUT_MS,
    );
    if (check.lostBids > 0) {
      plan.notes.push(
        `${contender.system.label}: ${check.lostBids} acknowledged bids not in PostgreSQL ${SETTLE_TIMEOUT_MS / 1000} s after a run without fault (session ${sessionId})`,
      );
    }
    await sleep(PAUSE_MS);
    return check;
  };

  // Once interrupted, no further workload starts (the cleanup is already under way).
  const next = () => {
    if (plan.signal.aborted) throw new Error("interrupted");
  };
  for (let round = 0; round < plan.rounds; round++) {
    const order = round % 2 === 0 ? plan.contenders : [...plan.contenders].reverse();
    plan.log(`round ${round + 1}/${plan.rounds}: ${order.map((c) => c.system.label).join(" first, then ")}`);
    const boards = new Map<Contender, string>();
    for (const contender of order) {
      const { system } = contender;
      next();
      const session = await newSession(contender, plan.adminToken, `W1 round ${round + 1}`);
      const acknowledged: AcknowledgedAmount[] = [];
      const w1 = await runSimultaneousBids(system, session, contender.users, acknowledged);
      plan.log(
        `  W1 ${system.label}: all ${w1.result.connections} answered in ${(w1.result.allAnsweredMs / 1000).toFixed(2)} s, ` +
          `${acknowledged.length} × 201, p50 ${Math.round(w1.result.latency.p50)} ms, p99 ${Math.round(w1.result.latency.p99)} ms`,
      );
      plan.results.w1[system.key].push({ ...w1, settle: await settle(contender, session.id, acknowledged) });
      boards.set(contender, session.id);
    }
    for (const contender of order) {
      // This service's W2 without and with a subscription, side by side, the first alternating per round.
      const variants = webhookVariants(contender, plan.webhooks, round);
      for (const webhooks of variants) {
        next();
        if (webhooks) await runWebhookW2(plan, contender, webhooks, round, settle);
        else await runPlainW2(plan, contender, round, settle);
      }
    }
    for (const contender of order) {
      const { system } = contender;
      next();
      const sessionId = boards.get(contender) ?? "";
      const w3 = await runLeaderboardReads(system, sessionId, plan.durationMs, plan.signal);
      plan.log(
        `  W3 ${system.label}: ${Math.round(w3.result.okPerSecond)} req/s, p50 ${Math.round(w3.result.latency.p50)} ms, ` +
          `p99 ${Math.round(w3.result.latency.p99)} ms, non-2xx ${w3.result.non2xx}, errors ${w3.result.errors}`,
      );
      plan.results.w3[system.key].push(w3);
      await sleep(PAUSE_MS);
    }
    next();
    const floorRound = await measureFloor(plan.floor, plan.durationMs, plan.signal);
    plan.log(
      `  floor: ${Object.entries(floorRound)
        .map(([route, m]) => `${route} ${Math.round(m.result.okPerSecond)} req/s`)
        .join(", ")}`,
    );
    plan.results.floor.push(floorRound);
    for (const contender of order) {
      const { system } = contender;
      next();
      const session = await newSession(contender, plan.adminToken, `W4 round ${round + 1}`);
      const w4 = await runFaultRound(
        system,
        session,
        contender.users.slice(0, W4_USERS),
        plan.faultPlan,
        plan.signal,
      );
      plan.log(
        `  W4 ${system.label}: ${w4.fault}; ${w4.recovery}; ${w4.acknowledged} × 201, ${w4.unresolved} unresolved, lost ${w4.lost}`,
      );
      plan.results.w4[system.key].push(w4);
      await sleep(PAUSE_MS);
    }
  }
}

type Settle = (
  contender: Contender,
  sessionId: string,
  acknowledged: AcknowledgedAmount[],
) => Promise<LiveBidCheck>;

/** W2's runs of one contender in one round: undefined is the plain one. */
function webhookVariants(
  contender: Contender,
  webhooks: WebhookBench | undefined,
  round: number,
): (WebhookBench | undefined)[] {
  if (!webhooks || contender.system.key !== "service") return [undefined];
  return round % 2 === 0 ? [undefined, webhooks] : [webhooks, undefined];
}

async function runPlainW2(plan: RoundsPlan, contender: Contender, round: number, settle: Settle) {
  const { system } = contender;
  const session = await newSession(contender, plan.adminToken, `W2 round ${round + 1}`);
  const acknowledged: AcknowledgedAmount[] = [];
  const w2 = await runRaises(
    system,
    session,
    contender.users,
    plan.durationMs,
    acknowledged,
    plan.signal,
    plan.raises,
  );
  plan.log(
    `  W2 ${system.label}: ${Math.round(w2.result.okPerSecond)} bids/s, p50 ${Math.round(w2.result.latency.p50)} ms, ` +
      `p99 ${Math.round(w2.result.latency.p99)} ms, non-2xx ${w2.result.non2xx}, errors ${w2.result.errors}`,
  );
  plan.results.w2[system.key].push({ ...w2, settle: await settle(contender, session.id, acknowledged) });
}

async function runWebhookW2(
  plan: RoundsPlan,
  contender: Contender,
  webhooks: WebhookBench,
  round: number,
  settle: Settle,
) {
  const run = await runW2WithWebhooks({
    contender,
    webhooks,
    adminToken: plan.adminToken,
    round,
    durationMs: plan.durationMs,
    raises: plan.raises,
    signal: plan.signal,
    newSession: () => newSession(contender, plan.adminToken, `W2 with webhooks round ${round + 1}`),
    settle: (sessionId, acknowledged) => settle(contender, sessionId, acknowledged),
  });
  const { result } = run.w2;
  const r = run.received;
  plan.log(
    `  W2 ${contender.system.label} with webhooks subscribed: ${Math.round(result.okPerSecond)} bids/s, ` +
      `p50 ${Math.round(result.latency.p50)} ms, p99 ${Math.round(result.latency.p99)} ms, non-2xx ${result.non2xx}, ` +
      `errors ${result.errors}; events expected ${run.expected.total}, received ${r.sessionIds}, missing ${run.missing}, ` +
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

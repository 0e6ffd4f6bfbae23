// W4: open-loop bids at a modest rate; the system's fault mid-run (this
// service: its whole `npm run dev` SIGKILLed and restarted on its persisted
// state; the reference: its Redis killed and started again); more bids; then,
// after the flush, every 201 PostgreSQL does not hold. The bids after the
// recovery come from other users than those before it: bids only rise, so a
// later raise of the same user would hide an earlier loss in its live row.
import { setTimeout as sleep } from "node:timers/promises";
import { BidLedger } from "../../bids/ledger.js";
import { type MetricsTotals, RequestMetrics } from "../../bids/metrics.js";
import { OpenLoopBidders, type OpenLoopResult } from "../../bids/open-loop.js";
import { FAULT_BID_ATTEMPTS } from "../../bids/place-bid.js";
import type { Bidder, Session } from "../../kit/api.js";
import type { AcknowledgedAmount } from "./live-bids.js";
import type { BenchSystem, LossCount } from "./systems.js";

export interface FaultPlan {
  ratePerSecond: number;
  /** Bids before the fault. */
  beforeMs: number;
  /** Bids keep coming this long after the fault, before the recovery. */
  downMs: number;
  /** Bids after the recovery. */
  afterMs: number;
}

export interface FaultRunResult {
  sessionId: string;
  fault: string;
  recovery: string;
  acknowledged: number;
  /** Sent, but no client learned whether they were stored. */
  unresolved: number;
  lost: number;
  bids: MetricsTotals;
  openLoop: { beforeRecovery: OpenLoopResult; afterRecovery: OpenLoopResult };
  loss: LossCount["details"];
}

export async function runFaultRound(
  system: BenchSystem,
  session: Session,
  users: readonly Bidder[],
  plan: FaultPlan,
  signal: AbortSignal,
): Promise<FaultRunResult> {
  const acknowledged: AcknowledgedAmount[] = [];
  // Every receipt, kept here too: after the reference's Redis restarts, its seqs start again from PostgreSQL's.
  const ledger = new BidLedger(session, {
    onAcknowledged: (receipt) => acknowledged.push({ userId: receipt.userId, amount: receipt.amount }),
  });
  const metrics = new RequestMetrics();
  const half = Math.ceil(users.length / 2);
  const beforeUsers = new OpenLoopBidders(system.url, users.slice(0, half), false);
  const afterUsers = new OpenLoopBidders(system.url, users.slice(half), false);
  const bidFor = (bidders: OpenLoopBidders, durationMs: number) =>
    bidders.run({
      sessionId: session.id,
      ratePerSecond: plan.ratePerSecond,
      durationMs,
      ledger,
      metrics,
      attempts: FAULT_BID_ATTEMPTS,
      signal,
    });
  try {
    await beforeUsers.connect(session.id);
    const beforeRecovery = bidFor(beforeUsers, plan.beforeMs + plan.downMs);
    await sleep(plan.beforeMs);
    const fault = await system.fault();
    const first = await beforeRecovery;
    const recovery = await system.recover();
    await afterUsers.connect(session.id);
    const afterRecovery = await bidFor(afterUsers, plan.afterMs);
    const loss = await system.countLost(session.id, ledger, acknowledged);
    return {
      sessionId: session.id,
      fault,
      recovery,
      acknowledged: acknowledged.length,
      unresolved: ledger.unresolved().length,
      lost: loss.lost,
      bids: metrics.totals(),
      openLoop: { beforeRecovery: first, afterRecovery },
      loss: loss.details,
    };
  } finally {
    beforeUsers.close();
    afterUsers.close();
  }
}

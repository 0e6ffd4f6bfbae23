// W2 with a webhook subscription, for this service: one endpoint on the
// benchmark's receiver subscribed to every event, the same closed loop as
// plain W2, then a bounded wait until the receiver holds every event the
// session's object must have written (expected-events.ts), the service's own
// delivery count, and the subscription deleted again.
import { setTimeout as sleep } from "node:timers/promises";
import type { ReceiverFigures, ReceiverProcess } from "../../../tools/webhook-receiver.js";
import type { RawLoopResult } from "../../bids/closed-loop.js";
import { AdminFigures } from "../../kit/admin-figures.js";
import type { Session, WebhookDeliveryStatus } from "../../kit/api.js";
import { CpuMeter, type CpuWindow, type Measured } from "../../kit/cpu.js";
import { type LatencySummary, summarize } from "../../kit/report.js";
import { type ExpectedEvents, expectedEvents } from "./expected-events.js";
import type { AcknowledgedAmount, LiveBidCheck } from "./live-bids.js";
import type { Contender } from "./systems.js";

/** How long the receiver gets, after W2's flush, to hold every event. */
export const DELIVERY_WAIT_MS = 60_000;
const POLL_MS = 250;
const FLUSH_WAIT_MS = 30_000;

export interface WebhookBench {
  receiver: ReceiverProcess;
  /** Makes each subscription's receiver path unique to this run. */
  tag: string;
}

export interface WebhookRun {
  w2: Measured<RawLoopResult>;
  settle: LiveBidCheck;
  sessionId: string;
  subscriptionId: string;
  expected: ExpectedEvents;
  /** What the receiver held at the end of the wait. */
  received: Omit<ReceiverFigures, "lagsMs"> & { lagMs: LatencySummary };
  /** Expected events of the session the receiver never got (0 when all arrived). */
  missing: number;
  /** Events of the session received beyond those expected: the expected count's model is wrong, or extra events were written. */
  unexpected: number;
  /** From the end of W2 until the receiver held every expected event, or until the wait ended. */
  allReceivedAfterMs: number | null;
  /** The service's count (GET /v1/webhooks) at the end of the wait. */
  delivery: WebhookDeliveryStatus;
  /** The receiver process during W2, and over W2 and the wait together. */
  receiverCpu: { duringW2: CpuWindow; throughWait: CpuWindow };
  receiverCores: number;
}

export interface WebhookRunPlan {
  contender: Contender;
  webhooks: WebhookBench;
  round: number;
  signal: AbortSignal;
  newSession: () => Promise<Session>;
  /** Plain W2's closed loop, on the session given. */
  runW2: (session: Session, acknowledged: AcknowledgedAmount[]) => Promise<Measured<RawLoopResult>>;
  /** W2's own settle: PostgreSQL holds every acknowledged amount (and the pause after). */
  settle: (sessionId: string, acknowledged: AcknowledgedAmount[]) => Promise<LiveBidCheck>;
}

export async function runW2WithWebhooks(plan: WebhookRunPlan): Promise<WebhookRun> {
  const { contender, webhooks } = plan;
  const { receiver } = webhooks;
  const { api } = contender;
  const path = `/hooks/${webhooks.tag}/round-${plan.round + 1}`;
  await receiver.watch(path);
  const subscription = await api.subscribe(`${receiver.url}${path}`);
  try {
    await receiver.setSecret(path, subscription.secret);
    const session = await plan.newSession();
    const meter = new CpuMeter([receiver.pid]);
    meter.start();
    const acknowledged: AcknowledgedAmount[] = [];
    const w2 = await plan.runW2(session, acknowledged);
    const duringW2 = meter.stop();
    const w2EndedAt = Date.now();
    const settle = await plan.settle(session.id, acknowledged);
    // Every accepted bid in bid_events, not only the acknowledged ones' live rows.
    const flushed = await new AdminFigures(api.client, api.adminToken).waitForFlush(
      session.id,
      FLUSH_WAIT_MS,
    );
    // Counted from bid_events: with bids still pending the count would be short and hide missing events.
    if (flushed?.pendingBids !== 0) {
      throw new Error(
        `session ${session.id}: bids still pending after ${FLUSH_WAIT_MS / 1000} s, events not countable`,
      );
    }
    const expected = await expectedEvents(contender.system.databaseUrl, session.id);

    const waitEnds = Date.now() + DELIVERY_WAIT_MS;
    let figures = await receiver.figures(path, session.id);
    while (figures.sessionIds < expected.total && Date.now() < waitEnds && !plan.signal.aborted) {
      await sleep(POLL_MS);
      figures = await receiver.figures(path, session.id);
    }
    const allReceivedAfterMs = figures.sessionIds >= expected.total ? Date.now() - w2EndedAt : null;
    const throughWait = meter.stop();
    const { lagsMs, ...counts } = figures;
    return {
      w2,
      settle,
      sessionId: session.id,
      subscriptionId: subscription.id,
      expected,
      received: { ...counts, lagMs: summarize(lagsMs) },
      missing: Math.max(0, expected.total - figures.sessionIds),
      unexpected: Math.max(0, figures.sessionIds - expected.total),
      allReceivedAfterMs,
      delivery: await api.deliveryStatus(subscription.id),
      receiverCpu: { duringW2, throughWait },
      receiverCores: duringW2.total / duringW2.seconds,
    };
  } finally {
    await api.unsubscribe(subscription.id);
  }
}

/**
 * When the session object's single alarm must fire next, and for what. Pure
 * code over plain inputs and an injected clock: the object gathers the
 * inputs, asks, and only sets the alarm.
 *
 * One alarm serves every job; each job has a due time and the earliest wins
 * (tldraw's AlarmScheduler). Whatever job the alarm was set for, the handler
 * does everything that is due when it runs, so an alarm that fires early or
 * twice is harmless.
 */

export interface ScheduleSettings {
  /** How long accepted bids wait before the flush to PostgreSQL. */
  flushIntervalMs: number;
  /** Rows one flush sends; a larger backlog drains with back-to-back alarms. */
  maxFlushRows: number;
  /** The longest wait between retries while PostgreSQL is failing. */
  maxBackoffMs: number;
  /** How long an Idempotency-Key is remembered. */
  idempotencyKeyTtlMs: number;
  /** How long the Worker's bid request ids are remembered, with their flushed history rows (retries follow within seconds). */
  bidRequestTtlMs: number;
  /** How long an unknown session id is believed unknown before PostgreSQL is asked again. */
  missingSessionRecheckMs: number;
}

export const defaultScheduleSettings: Omit<ScheduleSettings, "flushIntervalMs"> = {
  maxFlushRows: 20_000,
  maxBackoffMs: 60_000,
  idempotencyKeyTtlMs: 24 * 60 * 60 * 1000,
  bidRequestTtlMs: 2 * 60 * 1000,
  missingSessionRecheckMs: 30_000,
};

/** What the object knows that the schedule depends on. */
export interface ScheduleInputs {
  endsAt: number;
  endHandled: boolean;
  /** Accepted bids not yet in PostgreSQL. */
  pendingBids: number;
  /** A PATCH not yet in PostgreSQL. */
  sessionChanged: boolean;
  consecutiveFailures: number;
  oldestIdempotencyKeyAt: number | null;
  oldestBidRequestAt: number | null;
  /** Events in the outbox the queue has not taken yet. */
  undeliveredEvents?: number;
  /** A send to the queue is under way or about to start; it arms the alarm itself if it fails. */
  sendingEvents?: boolean;
  /** Sends to the queue that failed in a row. */
  deliveryFailures?: number;
}

export type AlarmJob =
  /** pending bids, after the flush interval */
  | "flush"
  /** pending bids beyond one batch: at once */
  | "drain"
  /** the last flush failed: after the backoff */
  | "retry"
  /** the session's end: final flush, sockets told */
  | "end"
  /** forget old idempotency keys and request ids */
  | "prune"
  /** events left in the outbox (an eviction, a failed send to the queue): send them */
  | "deliver";

/** On equal due times the first of these names the alarm. */
const jobsByPriority: readonly AlarmJob[] = ["retry", "drain", "end", "deliver", "flush", "prune"];

/** The first wait before sending the outbox again after the queue refused it. */
const DELIVERY_RETRY_MS = 1_000;
/**
 * An alarm this far past its time that never started was lost (a reload of
 * the local runtime can drop one): it is set again rather than trusted, or
 * flushes would stop for good.
 */
const LOST_ALARM_MS = 10_000;

export interface PlannedAlarm {
  at: number;
  job: AlarmJob;
}

export class AlarmSchedule {
  constructor(
    private readonly settings: ScheduleSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Every job that is due some time, with its due time. */
  dueTimes(inputs: ScheduleInputs): Partial<Record<AlarmJob, number>> {
    const now = this.clock();
    const s = this.settings;
    const due: Partial<Record<AlarmJob, number>> = {};
    const unflushed = inputs.pendingBids > 0 || inputs.sessionChanged;
    // The end does not wait for PostgreSQL: results are fixed and sockets told
    // on time, and the final flush follows with the retries.
    if (!inputs.endHandled) due.end = Math.max(now, inputs.endsAt);
    if (unflushed && inputs.consecutiveFailures > 0) {
      due.retry = now + this.backoffMs(inputs.consecutiveFailures);
    } else if (inputs.pendingBids > s.maxFlushRows) {
      due.drain = now;
    } else if (unflushed) {
      due.flush = now + s.flushIntervalMs;
    }
    const prune = Math.min(
      inputs.oldestIdempotencyKeyAt === null
        ? Number.POSITIVE_INFINITY
        : inputs.oldestIdempotencyKeyAt + s.idempotencyKeyTtlMs,
      inputs.oldestBidRequestAt === null
        ? Number.POSITIVE_INFINITY
        : inputs.oldestBidRequestAt + s.bidRequestTtlMs,
    );
    if (Number.isFinite(prune)) due.prune = Math.max(now, prune);
    if ((inputs.undeliveredEvents ?? 0) > 0 && !inputs.sendingEvents) {
      const failures = inputs.deliveryFailures ?? 0;
      due.deliver =
        now + (failures === 0 ? 0 : Math.min(DELIVERY_RETRY_MS * 2 ** (failures - 1), s.maxBackoffMs));
    }
    return due;
  }

  /** The earliest due job, or null when nothing is ever due. */
  next(inputs: ScheduleInputs): PlannedAlarm | null {
    const due = this.dueTimes(inputs);
    let next: PlannedAlarm | null = null;
    for (const job of jobsByPriority) {
      const at = due[job];
      if (at !== undefined && (next === null || at < next.at)) next = { at, job };
    }
    return next;
  }

  /**
   * The alarm to set now, or null to leave `set` as it is: it is due no
   * later than the earliest job, and not lost. `running`: the alarm that
   * fired is still at work (it sets the next one itself when it ends).
   */
  toSet(set: PlannedAlarm | null, running: boolean, inputs: ScheduleInputs): PlannedAlarm | null {
    const planned = this.next(inputs);
    if (planned === null) return null;
    if (set !== null && set.at <= planned.at && !this.isLost(set, running)) return null;
    return planned;
  }

  /** An alarm long past its time that never started; one still running is busy, not lost. */
  isLost(set: PlannedAlarm, running: boolean): boolean {
    return !running && set.at < this.clock() - LOST_ALARM_MS;
  }

  /** Retries double from the flush interval up to the cap, for as long as it takes. */
  backoffMs(consecutiveFailures: number): number {
    const { flushIntervalMs, maxBackoffMs } = this.settings;
    return Math.min(flushIntervalMs * 2 ** Math.max(0, consecutiveFailures - 1), maxBackoffMs);
  }

  /** Whether an id found unknown at `checkedAt` may be looked up in PostgreSQL again. */
  mayRecheckMissing(checkedAt: number): boolean {
    return this.clock() - checkedAt >= this.settings.missingSessionRecheckMs;
  }

  /** Idempotency keys and request ids stored before these times can be forgotten. */
  forgetBefore(): { idempotencyKeys: number; bidRequests: number } {
    const now = this.clock();
    return {
      idempotencyKeys: now - this.settings.idempotencyKeyTtlMs,
      bidRequests: now - this.settings.bidRequestTtlMs,
    };
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AlarmSchedule,
  defaultScheduleSettings,
  type ScheduleInputs,
} from "../../src/objects/alarm-schedule";

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const start = Date.parse("2026-12-01T12:00:00.000Z");

const schedule = new AlarmSchedule({ ...defaultScheduleSettings, flushIntervalMs: 5 * second }, () =>
  Date.now(),
);

/** An active session ending in an hour, nothing pending, nothing remembered. */
const quiet: ScheduleInputs = {
  endsAt: start + hour,
  endHandled: false,
  pendingBids: 0,
  sessionChanged: false,
  consecutiveFailures: 0,
  oldestIdempotencyKeyAt: null,
  oldestBidRequestAt: null,
};

describe("AlarmSchedule", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(start);
  });
  afterEach(() => vi.useRealTimers());

  it("with nothing pending, waits for the end of the session", () => {
    expect(schedule.next(quiet)).toEqual({ at: start + hour, job: "end" });
  });

  it("flushes pending bids, or a PATCH, one interval from now", () => {
    expect(schedule.next({ ...quiet, pendingBids: 1 })).toEqual({ at: start + 5 * second, job: "flush" });
    expect(schedule.next({ ...quiet, sessionChanged: true })).toEqual({
      at: start + 5 * second,
      job: "flush",
    });
  });

  it("flushes at the end, not after it, when the end comes first", () => {
    vi.setSystemTime(start + hour - 2 * second);
    expect(schedule.next({ ...quiet, pendingBids: 3 })).toEqual({ at: start + hour, job: "end" });
  });

  it("an end already passed but not handled is due at once", () => {
    vi.setSystemTime(start + 2 * hour);
    expect(schedule.next(quiet)).toEqual({ at: start + 2 * hour, job: "end" });
  });

  it("an extended session whose first end was handled is due again at its new end", () => {
    // The object clears endHandled when a PATCH moves the end into the future.
    expect(schedule.next({ ...quiet, endHandled: true })).toBeNull();
    expect(schedule.next({ ...quiet, endsAt: start + 2 * hour })).toEqual({
      at: start + 2 * hour,
      job: "end",
    });
  });

  it("drains a backlog larger than one flush at once", () => {
    const over = defaultScheduleSettings.maxFlushRows + 1;
    expect(schedule.next({ ...quiet, pendingBids: over })).toEqual({ at: start, job: "drain" });
    expect(schedule.next({ ...quiet, pendingBids: over - 1 })?.job).toBe("flush");
  });

  it("backs off after failures, doubling up to a minute, and keeps retrying", () => {
    const retryAfter = (failures: number) =>
      (schedule.next({ ...quiet, pendingBids: 1, consecutiveFailures: failures })?.at ?? 0) - Date.now();
    expect([1, 2, 3, 4, 5, 6, 50].map(retryAfter)).toEqual(
      [5, 10, 20, 40, 60, 60, 60].map((s) => s * second),
    );
    // While PostgreSQL fails, the end is still handled on time; the final flush follows with the retries.
    vi.setSystemTime(start + 2 * hour);
    expect(schedule.next({ ...quiet, pendingBids: 1, consecutiveFailures: 2 })).toEqual({
      at: start + 2 * hour,
      job: "end",
    });
    expect(schedule.next({ ...quiet, endHandled: true, pendingBids: 1, consecutiveFailures: 2 })).toEqual({
      at: start + 2 * hour + 10 * second,
      job: "retry",
    });
  });

  it("forgets idempotency keys after a day and request ids after two minutes", () => {
    const ended = { ...quiet, endHandled: true };
    expect(schedule.next({ ...ended, oldestIdempotencyKeyAt: start - hour })).toEqual({
      at: start + 23 * hour,
      job: "prune",
    });
    expect(schedule.next({ ...ended, oldestIdempotencyKeyAt: start, oldestBidRequestAt: start })).toEqual({
      at: start + 2 * minute,
      job: "prune",
    });
    // Overdue pruning is due now, not in the past.
    expect(schedule.next({ ...ended, oldestBidRequestAt: start - hour })).toEqual({
      at: start,
      job: "prune",
    });
    vi.advanceTimersByTime(10 * minute);
    expect(schedule.forgetBefore()).toEqual({
      idempotencyKeys: start + 10 * minute - 24 * hour,
      bidRequests: start + 8 * minute,
    });
  });

  it("asks PostgreSQL about an unknown id again only after the recheck window", () => {
    const checkedAt = Date.now();
    expect(schedule.mayRecheckMissing(checkedAt)).toBe(false);
    vi.advanceTimersByTime(29 * second);
    expect(schedule.mayRecheckMissing(checkedAt)).toBe(false);
    vi.advanceTimersByTime(1 * second);
    expect(schedule.mayRecheckMissing(checkedAt)).toBe(true);
  });
});

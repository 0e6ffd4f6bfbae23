import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Alarm } from "../../src/objects/alarm";
import {
  AlarmSchedule,
  defaultScheduleSettings,
  type ScheduleInputs,
} from "../../src/objects/alarm-schedule";

const start = Date.parse("2026-12-01T12:00:00.000Z");
const quiet: ScheduleInputs = {
  endsAt: start + 3_600_000,
  endHandled: false,
  pendingBids: 0,
  sessionChanged: false,
  consecutiveFailures: 0,
  oldestIdempotencyKeyAt: null,
  oldestBidRequestAt: null,
};

/** The object's storage as far as its alarm goes. */
function alarmStorage(initial: number | null = null) {
  const storage = {
    at: initial,
    sets: [] as number[],
    async getAlarm() {
      return storage.at;
    },
    async setAlarm(at: number) {
      storage.at = at;
      storage.sets.push(at);
    },
  };
  return storage;
}

describe("Alarm", () => {
  const schedule = new AlarmSchedule({ ...defaultScheduleSettings, flushIntervalMs: 5_000 }, () =>
    Date.now(),
  );
  let inputs: ScheduleInputs | null = quiet;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(start);
    inputs = quiet;
  });
  afterEach(() => vi.useRealTimers());

  it("sets the earliest job, and leaves an earlier alarm alone", async () => {
    const storage = alarmStorage();
    const alarm = new Alarm(storage, schedule, () => inputs);
    await alarm.arm();
    expect(alarm.next).toEqual({ at: start + 3_600_000, job: "end" });
    inputs = { ...quiet, pendingBids: 1 };
    await alarm.arm();
    expect(alarm.next).toEqual({ at: start + 5_000, job: "flush" });
    inputs = quiet;
    await alarm.arm();
    expect(storage.sets).toEqual([start + 3_600_000, start + 5_000]);
  });

  it("after accepted bids, sets nothing while an alarm is due by the flush", async () => {
    const storage = alarmStorage();
    const alarm = new Alarm(storage, schedule, () => ({ ...quiet, pendingBids: 1 }));
    // Set at once: the storage call is made before the first await.
    alarm.armBy(start + 5_000);
    alarm.armBy(start + 5_000);
    expect(storage.sets).toEqual([start + 5_000]);
  });

  it("sets again an alarm long past its time that never ran: it was lost", async () => {
    const storage = alarmStorage(start - 60_000);
    const alarm = new Alarm(storage, schedule, () => ({ ...quiet, pendingBids: 1 }));
    await alarm.restore();
    alarm.armBy(start + 5_000);
    expect(storage.sets).toEqual([start + 5_000]);
  });

  it("counts as set while it runs, and sets the next one when its jobs end, whatever they did", async () => {
    const storage = alarmStorage(start);
    const alarm = new Alarm(storage, schedule, () => inputs);
    await alarm.restore();
    await expect(
      alarm.run(async () => {
        inputs = { ...quiet, pendingBids: 3 };
        alarm.armBy(start + 5_000);
        throw new Error("a job failed");
      }),
    ).rejects.toThrow("a job failed");
    expect(storage.sets).toEqual([start + 5_000]);
  });

  it("arms nothing without a session", async () => {
    const storage = alarmStorage();
    const alarm = new Alarm(storage, schedule, () => null);
    await alarm.arm();
    await alarm.restore();
    expect(storage.sets).toEqual([]);
    expect(alarm.next).toBeNull();
  });
});

import type { AlarmSchedule, PlannedAlarm, ScheduleInputs } from "./alarm-schedule";

/**
 * The object's one alarm: set to the earliest job the schedule names, and
 * run as a list of jobs. While it runs it counts as set, so bids accepted
 * meanwhile leave the next alarm to its end, where the backoff the run's
 * outcome calls for is known.
 */
export class Alarm {
  private set: PlannedAlarm | null = null;
  private running = false;

  constructor(
    private readonly storage: Pick<DurableObjectStorage, "getAlarm" | "setAlarm">,
    private readonly schedule: AlarmSchedule,
    /** What the schedule needs to know; null while the object has no session. */
    private readonly inputs: () => ScheduleInputs | null,
  ) {}

  /** The alarm as stored. What it was set for is not stored: it is named by what is due first now. */
  async restore(): Promise<void> {
    const at = await this.storage.getAlarm();
    const inputs = this.inputs();
    const job = inputs === null ? "flush" : (this.schedule.next(inputs)?.job ?? "flush");
    this.set = at === null ? null : { at, job };
  }

  get next(): PlannedAlarm | null {
    return this.set;
  }

  /** Sets the alarm to the earliest due job, unless it is already set at or before it. */
  async arm(): Promise<void> {
    const inputs = this.inputs();
    const next = inputs === null ? null : this.schedule.toSet(this.set, this.running, inputs);
    if (next === null) return;
    this.set = next;
    await this.storage.setAlarm(next.at);
  }

  /** After accepted bids, cheaply: arms only when no alarm is due by `flushAt` (or the one set was lost). */
  armBy(flushAt: number): void {
    const set = this.set;
    if (set === null || set.at > flushAt || this.schedule.isLost(set, this.running)) void this.arm();
  }

  /**
   * Runs the jobs of a fired alarm, then sets the next one whatever they did:
   * the platform's own retries of a failing alarm run out, ours do not.
   */
  async run(jobs: () => Promise<void>): Promise<void> {
    this.running = true;
    try {
      await jobs();
    } finally {
      this.set = null;
      this.running = false;
      await this.arm();
    }
  }
}

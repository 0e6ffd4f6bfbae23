import type { Outcome } from "../api/session-protocol";
import type { NewSessionParams } from "../bidding/rules";
import type { SessionRecord } from "../bidding/session-record";
import type { SessionMemory } from "./session-memory";

/**
 * Every call that needs the session goes through here. An object that was
 * never initialised asks PostgreSQL once (calls arriving meanwhile share the
 * answer) and creates itself from the row; an unknown id is remembered in
 * memory only, so random ids leave nothing in storage.
 */
export class SessionGate {
  private missingCheckedAt: number | null = null;
  private loading: Promise<SessionRecord | undefined> | null = null;

  constructor(
    private readonly memory: SessionMemory,
    /** Whether an id found unknown at `checkedAt` may be looked up again (AlarmSchedule). */
    private readonly mayRecheck: (checkedAt: number) => boolean,
    private readonly readFromPostgres: () => Promise<NewSessionParams | undefined>,
    private readonly create: (params: NewSessionParams) => Promise<void>,
  ) {}

  /** `use` with the session's record, or why there is none. */
  async withSession<T>(
    use: (record: SessionRecord) => Outcome<T> | Promise<Outcome<T>>,
  ): Promise<Outcome<T>> {
    let record: SessionRecord | undefined;
    try {
      record = await this.load();
    } catch {
      return {
        ok: false,
        code: "database_unavailable",
        detail: "This session is not loaded yet and the database is unreachable.",
        retryAfterSeconds: 5,
      };
    }
    if (!record) return { ok: false, code: "session_not_found", detail: "No bidding session has this id." };
    return use(record);
  }

  private load(): Promise<SessionRecord | undefined> | SessionRecord | undefined {
    if (this.memory.record) return this.memory.record;
    if (this.missingCheckedAt !== null && !this.mayRecheck(this.missingCheckedAt)) return undefined;
    this.loading ??= this.loadFromPostgres().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async loadFromPostgres(): Promise<SessionRecord | undefined> {
    const params = await this.readFromPostgres();
    if (!this.memory.record) {
      if (params) await this.create(params);
      else this.missingCheckedAt = Date.now();
    }
    return this.memory.record;
  }
}

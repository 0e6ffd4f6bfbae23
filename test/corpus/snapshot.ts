// "The corpus changes nothing": the state it compares before and after the
// cases. From PostgreSQL, the rows the corpus could have created (users and
// sessions bearing a name it sent) and the fixture sessions' own rows; from
// the API, each fixture session as clients and the admin see it. Flush timing
// (nextAlarmAt, lastFlushAt) is left out: a 5-second flush may move it
// without anything having changed. The queries run on whatever connection the
// caller has: pg live, the Worker's own driver in workerd.
import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { ResultsSchema, SessionSchema, SessionStatsSchema } from "../../src/api/contract.js";
import type { CorpusApi } from "./api.js";
import { FIXTURE_SESSIONS, type FixtureSession, type Fixtures } from "./fixtures.js";
import type { SentRequest } from "./request.js";
import type { TokenName } from "./tokens.js";

/** Runs one read-only query and returns its rows. */
export type QueryRows = (query: SQL) => Promise<unknown[]>;

const BIDDERS = ["bidderA", "bidderB", "bidderC"] as const satisfies readonly TokenName[];

const Int8 = z.union([z.string().regex(/^-?[0-9]+$/), z.number().int()]).transform(Number);
const CountsSchema = z.object({
  users: Int8,
  identities: Int8,
  bidding_sessions: Int8,
  bids: Int8,
  bid_events: Int8,
  session_results: Int8,
});
const NamedSchema = z.object({
  users: Int8,
  identities: Int8,
  bidding_sessions: Int8,
  webhook_subscriptions: Int8,
});
const JsonRows = z.object({ rows: z.array(z.record(z.string(), z.unknown())) });

const LeaderboardSchema = z.object({
  total: z.number().int(),
  entries: z.array(z.object({ rank: z.number().int(), userId: z.number().int(), amount: z.number().int() })),
});
const MyBidSchema = z.object({
  amount: z.number().int(),
  seq: z.number().int(),
  bidCount: z.number().int(),
  maxAmount: z.number().int().nullable(),
});
const CodeSchema = z.object({ code: z.string() });

export interface DatabaseState {
  /** Every table's row count: only where nothing else writes to the database. */
  tables?: z.output<typeof CountsSchema>;
  /**
   * Users and sessions bearing a name the corpus sent, or its run tag; provider identities of the
   * run's subjects (provider-tokens.ts); webhooks to a URL it sent.
   */
  named: z.output<typeof NamedSchema>;
  /** The fixture sessions' rows in bidding_sessions (without updated_at), bids, bid_events per session, and session_results. */
  sessions: unknown[];
  bids: unknown[];
  events: unknown[];
  results: unknown[];
}

export interface SessionState {
  /** As an admin sees it (reserve and hard end included), without the clock fields, which move by themselves. */
  session: Omit<z.output<typeof SessionSchema>, "createdAt" | "id" | "serverTime" | "endsInMs">;
  /** GET .../results: the results once ended, else the refusal's status and code. */
  results: unknown;
  stats: { seq: number; flushedSeq: number; pendingBids: number };
  leaderboard: z.output<typeof LeaderboardSchema>;
  /** Each bidder's GET .../bids/me: the bid, or the refusal's status and code. */
  myBids: Record<string, unknown>;
}

export interface Snapshot {
  takenAt: string;
  database: DatabaseState;
  api: Record<FixtureSession, SessionState>;
}

export interface StateScope {
  fixtures: Fixtures;
  /** The strings the corpus sends in POST and PUT bodies: see namesSent. */
  names: readonly string[];
  /** Also count every table (the live runner's scratch database; not a database other tests share). */
  wholeTables: boolean;
}

const decoder = new TextDecoder();

function stringsIn(value: unknown, into: Set<string>): void {
  if (typeof value === "string") into.add(value);
  else if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) stringsIn(inner, into);
  }
}

/**
 * Every string in the JSON bodies of the POST and PUT requests (the methods
 * that create), also trimmed and NFKC-normalised in case a server cleans a
 * name up before storing it. A user or session bearing one of these after
 * the run was created by a case. PostgreSQL text cannot hold NUL: those are left out.
 */
export function namesSent(requests: readonly SentRequest[]): string[] {
  const names = new Set<string>();
  for (const request of requests) {
    if ((request.method !== "POST" && request.method !== "PUT") || request.body === undefined) continue;
    try {
      stringsIn(JSON.parse(decoder.decode(request.body)), names);
    } catch {
      // Not JSON: nothing a JSON route could store (and the run tag covers the corpus's own names).
    }
  }
  for (const name of [...names]) names.add(name.normalize("NFKC").trim());
  return [...names].filter((name) => !name.includes("\u0000"));
}

export class StateReader {
  constructor(
    private readonly query: QueryRows,
    private readonly api: CorpusApi,
    private readonly scope: StateScope,
  ) {}

  private get fixtures(): Fixtures {
    return this.scope.fixtures;
  }

  private get sessionIds(): SQL {
    return sql`${sql.param(FIXTURE_SESSIONS.map((name) => this.fixtures.sessions[name].id))}::uuid[]`;
  }

  /** The fixture sessions without a bidding_sessions row: the service writes it before answering 201. */
  async missingSessions(): Promise<FixtureSession[]> {
    const rows = await this.query(
      sql`select id::text as id from bidding_sessions where id = any(${this.sessionIds})`,
    );
    const found = new Set(
      z
        .array(z.object({ id: z.string() }))
        .parse(rows)
        .map((row) => row.id),
    );
    return FIXTURE_SESSIONS.filter((name) => !found.has(this.fixtures.sessions[name].id));
  }

  async database(): Promise<DatabaseState> {
    const names = sql`${sql.param(this.scope.names)}::text[]`;
    const { tag } = this.fixtures;
    const [named] = await this.query(sql`
      select (select count(*) from users
               where username = any(${names}) or username like ${`corpus\\_${tag}\\_%`}) as users,
             (select count(*) from identities where subject like ${`corpus|${tag}|%`}) as identities,
             (select count(*) from bidding_sessions
               where title = any(${names}) or title like ${`Corpus ${tag} %`}) as bidding_sessions,
             (select count(*) from webhook_subscriptions where url = any(${names})) as webhook_subscriptions`);
    const rows = async (query: SQL) => {
      const [result] = await this.query(
        sql`select coalesce(json_agg(t), '[]'::json) as rows from (${query}) t`,
      );
      return JsonRows.parse(result).rows;
    };
    const state: DatabaseState = {
      named: NamedSchema.parse(named),
      sessions: await rows(
        sql`select id, title, starts_at, ends_at, min_bid, min_increment, units, reserve_price,
                   soft_close_window_seconds, soft_close_extend_seconds, hard_ends_at, scheduled_ends_at,
                   extensions, closed_at, final_seq
              from bidding_sessions where id = any(${this.sessionIds}) order by id`,
      ),
      bids: await rows(
        sql`select session_id, user_id, amount, seq, bid_count, placed_at, max_amount
              from bids where session_id = any(${this.sessionIds}) order by session_id, user_id`,
      ),
      events: await rows(
        sql`select session_id, count(*) as events, count(*) filter (where auto) as auto_events,
                   max(seq) as max_seq, sum(amount) as amounts
              from bid_events where session_id = any(${this.sessionIds}) group by session_id order by session_id`,
      ),
      results: await rows(
        sql`select session_id, rank, user_id, amount, seq
              from session_results where session_id = any(${this.sessionIds}) order by session_id, rank`,
      ),
    };
    if (this.scope.wholeTables) {
      const [counts] = await this.query(
        sql`select (select count(*) from users) as users,
                   (select count(*) from identities) as identities,
                   (select count(*) from bidding_sessions) as bidding_sessions,
                   (select count(*) from bids) as bids,
                   (select count(*) from bid_events) as bid_events,
                   (select count(*) from session_results) as session_results`,
      );
      state.tables = CountsSchema.parse(counts);
    }
    return state;
  }

  async session(name: FixtureSession): Promise<SessionState> {
    const { kit } = this.fixtures;
    const path = `/v1/sessions/${this.fixtures.sessions[name].id}`;
    const {
      createdAt: _createdAt,
      id: _id,
      serverTime: _serverTime,
      endsInMs: _endsInMs,
      ...session
    } = await this.api.expect(200, SessionSchema, "GET", path, { token: kit.token("admin") });
    const stats = await this.api.expect(200, SessionStatsSchema, "GET", `${path}/stats`, {
      token: kit.token("admin"),
    });
    const board = await this.api.expect(200, LeaderboardSchema, "GET", `${path}/leaderboard?limit=100`);
    const myBids: Record<string, unknown> = {};
    for (const bidder of BIDDERS) {
      const answer = await this.api.call("GET", `${path}/bids/me`, { token: kit.token(bidder) });
      const bid = MyBidSchema.safeParse(answer.json);
      const refusal = CodeSchema.safeParse(answer.json);
      myBids[bidder] =
        answer.status === 200 && bid.success
          ? bid.data
          : { status: answer.status, code: refusal.success ? refusal.data.code : null };
    }
    const answer = await this.api.call("GET", `${path}/results`);
    const fixed = ResultsSchema.safeParse(answer.json);
    const refusal = CodeSchema.safeParse(answer.json);
    const results =
      answer.status === 200 && fixed.success
        ? fixed.data
        : { status: answer.status, code: refusal.success ? refusal.data.code : null };
    return {
      session,
      results,
      stats: { seq: stats.seq, flushedSeq: stats.flushedSeq, pendingBids: stats.pendingBids },
      leaderboard: {
        total: board.total,
        entries: board.entries.map(({ rank, userId, amount }) => ({ rank, userId, amount })),
      },
      myBids,
    };
  }

  async snapshot(): Promise<Snapshot> {
    const api: Partial<Record<FixtureSession, SessionState>> = {};
    for (const name of FIXTURE_SESSIONS) api[name] = await this.session(name);
    const { active, scheduled, ended, multiUnit } = api;
    if (!active || !scheduled || !ended || !multiUnit) throw new Error("a fixture session was not read");
    return {
      takenAt: new Date().toISOString(),
      database: await this.database(),
      api: { active, scheduled, ended, multiUnit },
    };
  }

  /**
   * Waits (bounded) until every fixture session's bids and parameters have
   * reached PostgreSQL, so the snapshot is not taken in the middle of a flush.
   * Returns why it is not settled, or null.
   */
  async settle(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reason = await this.unsettled();
      if (reason === null || Date.now() > deadline) return reason;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private async unsettled(): Promise<string | null> {
    const database = await this.database();
    for (const name of FIXTURE_SESSIONS) {
      const { id } = this.fixtures.sessions[name];
      const state = await this.session(name);
      if (state.stats.pendingBids !== 0) return `${name}: ${state.stats.pendingBids} bids not flushed yet`;
      const row = z
        .object({ id: z.string(), title: z.string(), ends_at: z.string(), closed_at: z.string().nullable() })
        .array()
        .parse(database.sessions)
        .find((r) => r.id === id);
      if (!row) return `${name}: no bidding_sessions row`;
      if (row.title !== state.session.title || Date.parse(row.ends_at) !== Date.parse(state.session.endsAt)) {
        return `${name}: the session's PostgreSQL row is behind its object`;
      }
      if (state.session.status === "ended" && row.closed_at === null) {
        return `${name}: the results are not in PostgreSQL yet`;
      }
      const stored = database.bids.filter(
        (bid) => z.object({ session_id: z.string() }).parse(bid).session_id === id,
      );
      if (stored.length !== state.session.bidders) {
        return `${name}: ${stored.length} bids rows in PostgreSQL, ${state.session.bidders} bidders in the object`;
      }
    }
    return null;
  }
}

/** Every leaf that differs between two snapshots, as `path: before → after`. */
export function diffStates(before: unknown, after: unknown): string[] {
  const left = flatten(before);
  const right = flatten(after);
  const differences: string[] = [];
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const a = left.get(key);
    const b = right.get(key);
    if (a !== b) differences.push(`${key}: ${a ?? "(absent)"} → ${b ?? "(absent)"}`);
  }
  return differences;
}

function flatten(value: unknown, path = "", into = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) flatten(inner, path ? `${path}.${key}` : key, into);
  } else {
    into.set(path, JSON.stringify(value));
  }
  return into;
}

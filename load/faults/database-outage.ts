// Scenario 1: PostgreSQL unreachable for 30 s while bids keep arriving.
// Bids only need the session object (every user is warmed up first, so no
// first-bid user lookup needs the database), so they must keep getting 201s;
// the object's stats must show pending bids rising and flush failures
// counting; after the database is back every bid acknowledged meanwhile must
// reach PostgreSQL.
import { setTimeout as sleep } from "node:timers/promises";
import { setWireProxy } from "../../tools/pg-wire-proxy.js";
import { consistencyFigures } from "../bids/consistency.js";
import type { SessionStats } from "../kit/admin-figures.js";
import { outcomeLabel } from "../kit/http.js";
import { type FaultApi, type ScenarioContext, type ScenarioOutcome, SessionLoad } from "./harness.js";

const USERS = 60;
const RATE = 60;
const LEAD_MS = 5_000;
const OUTAGE_MS = 30_000;
const TAIL_MS = 5_000;
/** The object backs off to 1, 2, 4, 8, 16, 32 s between retries (capped at 60 s): the first flush after the outage can come that late. */
const RECOVERY_TIMEOUT_MS = 75_000;
/** Samples this long after the cut show the outage, not a flush that was already committing. */
const SETTLE_MS = 2_000;

/** Reads the session's stats every second until stopped; failed reads are counted, not thrown. */
function pollStats(api: FaultApi, sessionId: string, startedAt: number) {
  const samples: { atMs: number; stats: SessionStats }[] = [];
  let failedReads = 0;
  let stopped = false;
  const loop = (async () => {
    for (; !stopped; await sleep(1_000)) {
      try {
        samples.push({ atMs: Date.now() - startedAt, stats: await api.admin.stats(sessionId) });
      } catch {
        failedReads += 1;
      }
    }
  })();
  return {
    samples,
    failedReads: () => failedReads,
    between: (fromMs: number, toMs: number) => samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs),
    stop: () => {
      stopped = true;
      return loop;
    },
  };
}

export async function databaseOutage(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { stack, api, log, problems } = context;
  const users = await api.createUsers(USERS, "dbout");
  const load = await SessionLoad.open(context, "faults: database unreachable", users);
  const { session } = load;
  log(
    `${USERS} users warmed up in session ${session.id}; ${RATE} bids/s for ${(LEAD_MS + OUTAGE_MS + TAIL_MS) / 1000} s`,
  );

  const startedAt = Date.now();
  const poller = pollStats(api, session.id, startedAt);
  const running = load.run(users, RATE, LEAD_MS + OUTAGE_MS + TAIL_MS);

  await sleep(LEAD_MS);
  const before = await api.admin.stats(session.id);
  const acksBefore = load.acknowledged;
  await setWireProxy(stack.proxy.controlUrl, "down");
  const downAt = Date.now() - startedAt;
  log("PostgreSQL unreachable (pg wire proxy down)");

  await sleep(SETTLE_MS);
  const readHealth = () => api.client.request("GET", "/health", { timeoutMs: 15_000 });
  const health = await readHealth();
  if (health.status !== 503)
    problems.push(`GET /health answered ${health.status} while the database was down, expected 503`);
  // Not a pass/fail check: names come from the cache, else from PostgreSQL, so without a cache this is a 503.
  // With one, a 503 means a name was missing from it, or the Worker's cache call failed (it allows 300 ms).
  const namesCached = stack.cache ? await stack.cache.cachedNames(users) : null;
  const boardPath = `/v1/sessions/${session.id}/leaderboard?limit=10`;
  const boardDuringOutage = await api.client.request("GET", boardPath, { timeoutMs: 15_000 });
  log(
    `GET /health ${health.status}, GET leaderboard ${outcomeLabel(boardDuringOutage)} during the outage` +
      (namesCached === null ? " (no cache)" : ` (${namesCached}/${USERS} names in the cache)`),
  );
  await sleep(Math.max(0, startedAt + downAt + OUTAGE_MS - Date.now()));

  const acksDuring = load.acknowledged - acksBefore;
  await setWireProxy(stack.proxy.controlUrl, "up");
  const upWallClock = Date.now();
  const upAt = upWallClock - startedAt;
  // The poller's last read before the end of the cut: a read of its own here would stretch the outage.
  const atUp = poller.between(downAt, upAt).at(-1)?.stats ?? before;
  log(
    `PostgreSQL reachable again after ${((upAt - downAt) / 1000).toFixed(1)} s: ${acksDuring} bids acknowledged meanwhile, ` +
      `pending ${atUp.pendingBids}, flush failures ${atUp.totalFlushFailures - before.totalFlushFailures}`,
  );

  const openLoop = await running;
  const recovered = await api.admin.waitForFlush(session.id, RECOVERY_TIMEOUT_MS);
  await poller.stop();
  // The first successful flush after the cut ended: its time is in every later sample until the next one.
  const flushTimes = [...poller.samples.map((s) => s.stats), ...(recovered ? [recovered] : [])].flatMap(
    (s) => (s.lastFlushAt === null ? [] : [Date.parse(s.lastFlushAt)]),
  );
  const firstFlushAfterUp = flushTimes.find((at) => at >= upWallClock);
  const recoveryMs = firstFlushAfterUp === undefined ? null : firstFlushAfterUp - upWallClock;
  const recovery = recoveryMs === null ? "?" : `${(recoveryMs / 1000).toFixed(1)} s`;
  log(
    recovered?.pendingBids === 0
      ? `everything flushed; first flush ${recovery} after the database came back`
      : `still ${recovered?.pendingBids ?? "?"} pending ${RECOVERY_TIMEOUT_MS / 1000} s after the load`,
  );

  const healthAfter = await readHealth();
  if (healthAfter.status !== 200) problems.push(`GET /health answered ${healthAfter.status} after recovery`);

  const outage = poller.between(downAt + SETTLE_MS, upAt);
  const first = outage[0]?.stats;
  const last = outage.at(-1)?.stats;
  const failuresCounted = atUp.totalFlushFailures - before.totalFlushFailures;
  if (acksDuring === 0) problems.push("no bid was acknowledged while the database was down");
  if (!first || !last || outage.length < 3) {
    problems.push(`only ${outage.length} stats reads succeeded during the outage`);
  } else {
    if (last.pendingBids <= first.pendingBids)
      problems.push(`pending did not rise during the outage (${first.pendingBids} -> ${last.pendingBids})`);
    if (outage.some((s) => s.stats.flushedSeq !== first.flushedSeq))
      problems.push("the flush watermark moved while PostgreSQL was unreachable");
  }
  if (failuresCounted === 0 || atUp.consecutiveFlushFailures === 0) {
    problems.push(
      `flush failures not counted (total +${failuresCounted}, consecutive ${atUp.consecutiveFlushFailures})`,
    );
  }

  // The wait for the flush is over (above): the check only reads, after the session's end flushed.
  const { totals, consistency } = await load.conclude(users, 5_000);
  return {
    summary:
      `${load.ledger.accepted} bids accepted (${load.ledger.refused} raises refused), ${acksDuring} during the ${OUTAGE_MS / 1000} s outage; ` +
      `pending rose ${first?.pendingBids ?? "?"} -> ${atUp.pendingBids}; ${failuresCounted} flush failures counted ` +
      `(last: ${atUp.lastFlushError ?? "none"}); first flush ${recovery} after recovery; ` +
      `bid 5xx ${totals.serverErrors}; health ${health.status} -> ${healthAfter.status}; ` +
      `leaderboard during the outage ${outcomeLabel(boardDuringOutage)}${stack.cache ? "" : " (no cache: names need PostgreSQL)"}; lost: ${consistency.lost}`,
    details: {
      sessionId: session.id,
      users: USERS,
      ratePerSecond: RATE,
      outageMs: upAt - downAt,
      acceptedDuringOutage: acksDuring,
      healthDuringOutage: health.status,
      healthAfterRecovery: healthAfter.status,
      leaderboardDuringOutage: outcomeLabel(boardDuringOutage),
      namesCachedDuringOutage: namesCached,
      statsBefore: before,
      statsAtRecovery: atUp,
      recoveryMs,
      flushFailuresCounted: failuresCounted,
      statsSamples: poller.samples.map((s) => ({
        atMs: s.atMs,
        pendingBids: s.stats.pendingBids,
        flushedSeq: s.stats.flushedSeq,
        consecutiveFlushFailures: s.stats.consecutiveFlushFailures,
        totalFlushFailures: s.stats.totalFlushFailures,
      })),
      statsReadFailures: poller.failedReads(),
      bids: totals,
      openLoop,
      ledger: {
        accepted: load.ledger.accepted,
        replayed: load.ledger.replayed,
        refused: load.ledger.refused,
        unresolved: load.ledger.unresolved().length,
      },
      consistency: consistencyFigures(consistency),
    },
  };
}

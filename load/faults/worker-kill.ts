// Scenario 2: the service (npm, its script, workerd and the stack beside it)
// killed with SIGKILL to its process group mid-load, then restarted on the
// same persisted state. A bid whose request failed on the connection has an
// unknown outcome (the ledger keeps it as unresolved); a bid acknowledged with
// 201 must never be lost. Bids acknowledged but not yet flushed at the kill sit
// in the object's SQLite: the persisted alarm must flush them after the
// restart without any new request waking the object.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { z } from "zod";
import { PgInteger, rowsOf, withClient } from "../../tools/pg-client.js";
import { consistencyFigures } from "../bids/consistency.js";
import { type ScenarioContext, type ScenarioOutcome, SessionLoad } from "./harness.js";

const USERS = 50;
const RATE = 50;
const BEFORE_KILL_MS = 5_000;
/** The open loop keeps sending this long after the kill: those bids meet a dead server. */
const AFTER_KILL_MS = 3_000;
const AFTER_RESTART_MS = 5_000;
const ALARM_TIMEOUT_MS = 30_000;
const FLUSH_TIMEOUT_MS = 30_000;
/** How kit/http.ts labels a bid that got no answer because the server was gone: expected here. */
const CONNECTION_ERRORS = ["ECONNREFUSED", "ECONNRESET", "EPIPE"];

const SeqRow = z.object({ seq: PgInteger });

/** The highest seq of the session in bid_events (0 when none), read straight from PostgreSQL. */
async function maxStoredSeq(databaseUrl: string, sessionId: string): Promise<number> {
  const sql = "SELECT coalesce(max(seq), 0) AS seq FROM bid_events WHERE session_id = $1";
  const read = (client: pg.Client) => rowsOf(client, SeqRow, sql, [sessionId]);
  const [row] = await withClient(databaseUrl, read, { statementTimeoutMs: 10_000 });
  return row?.seq ?? 0;
}

export async function workerKill(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { stack, log, problems } = context;
  const users = await context.api.createUsers(USERS, "kill");
  const load = await SessionLoad.open(context, "faults: the service killed", users);
  const { session } = load;
  log(
    `${USERS} users warmed up in session ${session.id}; ${RATE} bids/s, SIGKILL after ${BEFORE_KILL_MS / 1000} s`,
  );

  const running = load.run(users, RATE, BEFORE_KILL_MS + AFTER_KILL_MS);
  await sleep(BEFORE_KILL_MS);
  const kill = await stack.worker.kill();
  const acknowledgedAtKill = load.acknowledged;
  const highestAcknowledged = () => load.ledger.acknowledged().at(-1)?.seq ?? 0;
  const storedAtKill = await maxStoredSeq(stack.databaseUrl, session.id);
  log(
    `killed process group (${kill.killed.map((p) => p.command).join(", ")}): ` +
      `${acknowledgedAtKill} bids acknowledged, highest seq ${highestAcknowledged()}, PostgreSQL has up to ${storedAtKill}`,
  );
  const survivors = kill.survivors.map((p) => `${p.pid} ${p.command}`);
  if (survivors.length > 0) problems.push(`processes survived the kill: ${survivors.join(", ")}`);
  if (kill.portsStillTaken.length > 0)
    problems.push(`ports still taken after the kill: ${kill.portsStillTaken.join(", ")}`);

  const beforeRestart = await running;
  const unknownOutcomes = load.ledger.unresolved().length;
  const restartStarted = Date.now();
  await stack.worker.start();
  const restartMs = Date.now() - restartStarted;
  const target = highestAcknowledged();
  log(`restarted in ${(restartMs / 1000).toFixed(1)} s; ${unknownOutcomes} bids have an unknown outcome`);

  // Nothing may touch the session here: only its own alarm can flush it now.
  let alarmFlushMs: number | null = null;
  for (const started = Date.now(); Date.now() - started < ALARM_TIMEOUT_MS; await sleep(250)) {
    if ((await maxStoredSeq(stack.databaseUrl, session.id)) < target) continue;
    alarmFlushMs = Date.now() - started;
    break;
  }
  const pendingAtKill = target - storedAtKill;
  let alarmCheck: string;
  if (pendingAtKill <= 0) {
    alarmCheck = "nothing was pending at the kill (alarm not exercised)";
  } else if (alarmFlushMs === null) {
    alarmCheck = `the ${pendingAtKill} bids pending at the kill were not flushed within ${ALARM_TIMEOUT_MS / 1000} s of the restart`;
    problems.push(alarmCheck);
  } else {
    alarmCheck = `${pendingAtKill} bids pending at the kill flushed by the persisted alarm ${(alarmFlushMs / 1000).toFixed(1)} s after the restart`;
  }
  log(alarmCheck);

  const afterRestart = await context.api.admin.stats(session.id);
  const afterRestartLoop = await load.run(users, RATE, AFTER_RESTART_MS);
  const newlyUnknown = load.ledger.unresolved().length - unknownOutcomes;
  if (newlyUnknown > 0) problems.push(`${newlyUnknown} bids after the restart have an unknown outcome`);
  log(`after the restart: ${afterRestartLoop.sent} more bids, ${newlyUnknown} with an unknown outcome`);

  const { totals, consistency } = await load.conclude(users, FLUSH_TIMEOUT_MS, {
    expected: CONNECTION_ERRORS,
  });

  return {
    summary:
      `${load.ledger.accepted} bids accepted (${acknowledgedAtKill} before the kill); process group of ${kill.killed.length} killed, ` +
      `${kill.survivors.length} survivors, ports ${kill.portsStillTaken.length === 0 ? `free after ${kill.releasedAfterMs} ms` : "still taken"}; ${unknownOutcomes} unknown outcome ` +
      `(${consistency.extraRows.explained.length} of them stored); restart ${(restartMs / 1000).toFixed(1)} s; ${alarmCheck}; ` +
      `5xx ${totals.serverErrors}; lost: ${consistency.lost}`,
    details: {
      sessionId: session.id,
      users: USERS,
      ratePerSecond: RATE,
      kill,
      acknowledgedAtKill,
      storedSeqAtKill: storedAtKill,
      highestAcknowledgedSeq: target,
      pendingAtKill,
      unknownOutcomes,
      unknownOutcomesStored: consistency.extraRows.explained.length,
      restartMs,
      alarmFlushMs,
      statsAfterRestart: afterRestart,
      bids: totals,
      openLoop: { beforeRestart, afterRestart: afterRestartLoop },
      ledger: {
        accepted: load.ledger.accepted,
        replayed: load.ledger.replayed,
        refused: load.ledger.refused,
        unresolved: load.ledger.unresolved(),
      },
      consistency: consistencyFigures(consistency),
    },
  };
}

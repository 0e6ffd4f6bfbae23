// The check both designs can answer: PostgreSQL's `bids` holds one live row
// per user and session, and bids only rise, so every 201 whose amount is above
// its user's row is a bid PostgreSQL does not hold. (The reference design has
// no bid history; this service's is checked by consistency.ts as well.)
import { z } from "zod";
import { PgInteger, rowsOf, withClient } from "../../../tools/pg-client.js";

export interface AcknowledgedAmount {
  userId: number;
  amount: number;
}

export interface LiveBidCheck {
  acknowledged: number;
  /** 201s whose amount is above the user's row (or the user has no row). */
  lostBids: number;
  /** Users with at least one such 201. */
  usersBehind: number;
  waitedMs: number;
}

const RowSchema = z.object({ user_id: PgInteger, amount: PgInteger });

async function liveAmounts(databaseUrl: string, sessionId: string): Promise<Map<number, number>> {
  const rows = await withClient(databaseUrl, (client) =>
    rowsOf(client, RowSchema, "SELECT user_id, amount FROM bids WHERE session_id = $1", [sessionId]),
  );
  return new Map(rows.map((row) => [row.user_id, row.amount]));
}

function compare(acknowledged: readonly AcknowledgedAmount[], live: Map<number, number>) {
  let lostBids = 0;
  const behind = new Set<number>();
  for (const ack of acknowledged) {
    if ((live.get(ack.userId) ?? Number.NEGATIVE_INFINITY) < ack.amount) {
      lostBids += 1;
      behind.add(ack.userId);
    }
  }
  return { lostBids, usersBehind: behind.size };
}

/**
 * Polls until PostgreSQL holds every acknowledged amount or `timeoutMs` passes
 * (a flush still under way is not a loss), then reports what is still missing.
 */
export async function checkLiveBids(
  databaseUrl: string,
  sessionId: string,
  acknowledged: readonly AcknowledgedAmount[],
  timeoutMs: number,
): Promise<LiveBidCheck> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const result = compare(acknowledged, await liveAmounts(databaseUrl, sessionId));
    if (result.lostBids === 0 || Date.now() - started >= timeoutMs || attempt >= 1_000) {
      return { acknowledged: acknowledged.length, ...result, waitedMs: Date.now() - started };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

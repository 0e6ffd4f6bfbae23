// The webhook events a session's object must have written, worked out from
// what PostgreSQL holds, so the receiver's count can be checked against the
// service's own history instead of against itself.
//
// bid.outbid: the object tells the bidders who held the top (one unit) at the
// start of a batch or during it and lost it by its end. In bid_events order,
// that is every change of the leader to another user (a bid above every
// earlier one), counting the one displaced. Exact for W2's bids, where a
// displaced bidder cannot take the top back within the same batch (its next
// raise comes turns later, or ties at best, and a tie ranks behind); with
// more than one unit, proxy bids or a bidder bidding twice per batch it would
// only be an upper bound. session.extended: one per soft-close extension.
import { z } from "zod";
import { PgInteger, rowsOf, withClient } from "../../../tools/pg-client.js";

export interface ExpectedEvents {
  outbid: number;
  extended: number;
  total: number;
}

const RowSchema = z.object({ outbid: PgInteger, extended: PgInteger });

const QUERY = `
  WITH ordered AS (
    SELECT seq, user_id, amount,
           max(amount) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS best_before
    FROM bid_events
    WHERE session_id = $1
  ), leaders AS (
    SELECT user_id, lag(user_id) OVER (ORDER BY seq) AS displaced
    FROM ordered
    WHERE best_before IS NULL OR amount > best_before
  )
  SELECT (SELECT count(*) FROM leaders WHERE displaced IS NOT NULL AND displaced <> user_id) AS outbid,
         (SELECT coalesce(max(extensions), 0) FROM bidding_sessions WHERE id = $1) AS extended`;

/** After the session's bids are flushed (W2's settle waits for that). */
export async function expectedEvents(databaseUrl: string, sessionId: string): Promise<ExpectedEvents> {
  const [row] = await withClient(databaseUrl, (client) => rowsOf(client, RowSchema, QUERY, [sessionId]));
  if (!row) throw new Error(`no event counts for session ${sessionId}`);
  return { outbid: row.outbid, extended: row.extended, total: row.outbid + row.extended };
}

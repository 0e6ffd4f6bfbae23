import { env } from "cloudflare:workers";
import { asc, eq, like } from "drizzle-orm";
import { withDatabase } from "../../src/db/client";
import { biddingSessions, bidEvents, bids, identities, sessionResults, users } from "../../src/db/schema";

/** What PostgreSQL holds for one session, read through the Worker's own driver. */
export async function readSessionFromPostgres(sessionId: string) {
  return withDatabase(env, async (db) => ({
    session: (await db.select().from(biddingSessions).where(eq(biddingSessions.id, sessionId)))[0],
    bids: await db.select().from(bids).where(eq(bids.sessionId, sessionId)).orderBy(asc(bids.userId)),
    events: await db
      .select()
      .from(bidEvents)
      .where(eq(bidEvents.sessionId, sessionId))
      .orderBy(asc(bidEvents.seq)),
  }));
}

/** The session's rows in session_results, by rank. */
export async function readResultsFromPostgres(sessionId: string) {
  return withDatabase(env, (db) =>
    db
      .select()
      .from(sessionResults)
      .where(eq(sessionResults.sessionId, sessionId))
      .orderBy(asc(sessionResults.rank)),
  );
}

/** The identities rows of one provider subject (any issuer). */
export async function readIdentitiesOf(subject: string) {
  return withDatabase(env, (db) => db.select().from(identities).where(eq(identities.subject, subject)));
}

/** The users whose username starts with `prefix`: a test's own names show what it created. */
export async function readUsersNamedLike(prefix: string) {
  return withDatabase(env, (db) =>
    db
      .select()
      .from(users)
      .where(like(users.username, `${prefix.replaceAll("_", "\\_")}%`))
      .orderBy(asc(users.id)),
  );
}

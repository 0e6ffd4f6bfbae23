import { and, eq, sql } from "drizzle-orm";
import { TransactionRollbackError } from "drizzle-orm/errors";
import { ApiError } from "../api/problem";
import type { Database } from "../db/client";
import { identities, users } from "../db/schema";
import type { User } from "./store";
import { withRandomSuffix } from "./username-from-claims";

/** A provider's name for a person: the token's `iss` and `sub`, compared exactly as they are. */
export interface Identity {
  issuer: string;
  subject: string;
}

export interface IdentityUser {
  userId: number;
  /** Set when this call created the user. */
  created?: User;
}

/** The name as asked, then with random suffixes; a name taken every time is a bug worth a 500, not a loop. */
const NAME_ATTEMPTS = 6;

/**
 * Hyperdrive serves a read-only query from its cache for up to a minute unless
 * the query calls a stable or volatile function (its docs, "Query caching").
 * Links are made and removed by other requests a moment before they are read:
 * a cached "no link" would send the losers of a first-sight race, and every
 * new isolate, into creating a user again.
 */
const uncached = sql`now() is not null`;

export async function findIdentityUser(db: Database, identity: Identity): Promise<number | undefined> {
  const [row] = await db
    .select({ userId: identities.userId })
    .from(identities)
    .where(and(eq(identities.issuer, identity.issuer), eq(identities.subject, identity.subject), uncached));
  return row?.userId;
}

async function insertUserNamed(db: Database, username: string): Promise<User> {
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const [user] = await db
      .insert(users)
      .values({ username: attempt === 0 ? username : withRandomSuffix(username) })
      .onConflictDoNothing()
      .returning();
    if (user) return user;
  }
  throw new Error(`no free username from ${username} after ${NAME_ATTEMPTS} attempts`);
}

/**
 * The user `identity` signs in as, created under `username` (or it with a
 * suffix, when taken) on the identity's first sight. Concurrent first
 * requests of one identity each insert a user and then the link, and meet at
 * the pair's primary key: the first link to commit wins, the others roll
 * their transaction back (so no user is left without its identity) and read
 * the winner's.
 */
export async function userForIdentity(
  db: Database,
  identity: Identity,
  username: string,
): Promise<IdentityUser> {
  const known = await findIdentityUser(db, identity);
  if (known !== undefined) return { userId: known };
  try {
    const created = await db.transaction(async (tx) => {
      const user = await insertUserNamed(tx, username);
      const [link] = await tx
        .insert(identities)
        .values({ ...identity, userId: user.id })
        .onConflictDoNothing()
        .returning({ userId: identities.userId });
      if (!link) tx.rollback();
      return user;
    });
    return { userId: created.id, created };
  } catch (error) {
    if (!(error instanceof TransactionRollbackError)) throw error;
  }
  const winner = await findIdentityUser(db, identity);
  if (winner === undefined) {
    // Linked by another request a moment ago and unlinked by an admin since: a retry creates the user.
    throw new ApiError("service_unavailable", "Your account changed while signing in; retry.", {
      "Retry-After": "1",
    });
  }
  return { userId: winner };
}

/** The identities that sign in as `userId`, oldest first. */
export async function identitiesOf(db: Database, userId: number): Promise<Identity[]> {
  return db
    .select({ issuer: identities.issuer, subject: identities.subject })
    .from(identities)
    .where(and(eq(identities.userId, userId), uncached))
    .orderBy(identities.createdAt, identities.issuer, identities.subject);
}

/** Unlinks every identity of `userId`; returns the ones it removed. */
export async function unlinkIdentities(db: Database, userId: number): Promise<Identity[]> {
  return db
    .delete(identities)
    .where(eq(identities.userId, userId))
    .returning({ issuer: identities.issuer, subject: identities.subject });
}

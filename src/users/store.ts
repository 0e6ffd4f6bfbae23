import { eq, inArray } from "drizzle-orm";
import { ApiError } from "../api/problem";
import type { Database } from "../db/client";
import { sqlState } from "../db/client";
import { users } from "../db/schema";

export interface User {
  id: number;
  username: string;
  createdAt: Date;
}

const UNIQUE_VIOLATION = "23505";

/** Inserts all usernames in one statement: all or nothing. */
export async function createUsers(db: Database, usernames: string[]): Promise<User[]> {
  try {
    return await db
      .insert(users)
      .values(usernames.map((username) => ({ username })))
      .returning();
  } catch (error) {
    if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
    const taken = await db
      .select({ username: users.username })
      .from(users)
      .where(inArray(users.username, usernames));
    const names = taken.map((row) => row.username).join(", ");
    throw new ApiError("username_taken", `Username already taken: ${names || "(concurrently)"}.`);
  }
}

export async function findUser(db: Database, id: number): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

/** One query for any number of ids. */
export async function findUsernames(db: Database, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(inArray(users.id, ids));
  return new Map(rows.map((row) => [row.id, row.username]));
}

// The live runner's connection to the service's database, for the state check.
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { errorMessage, redactUrl } from "../../tools/net.js";
import type { QueryRows } from "./snapshot.js";

export interface CorpusDatabase {
  query: QueryRows;
  end(): Promise<void>;
}

/** A client on the service's database, checked to hold the service's tables. */
export async function connectDatabase(databaseUrl: string): Promise<CorpusDatabase> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    application_name: "bidding-corpus",
  });
  try {
    await client.connect();
    await client.query("select 1 from users, bidding_sessions, bids, bid_events limit 0");
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(`the database at ${redactUrl(databaseUrl)} is not usable: ${errorMessage(error)}`);
  }
  const db = drizzle(client);
  return { query: async (query) => (await db.execute(query)).rows, end: () => client.end() };
}

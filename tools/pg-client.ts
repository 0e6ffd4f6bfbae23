// One short-lived pg.Client for a script's few statements (migrations, scratch
// databases), with the server named in the error when it cannot be reached.
import pg from "pg";
import { z } from "zod";
import { errorMessage, redactUrl } from "./net.js";

export interface ClientOptions {
  /** PostgreSQL's statement_timeout for the session; none when left out. */
  statementTimeoutMs?: number;
}

/** A connected client; the caller ends it. */
export async function connectClient(url: string, options: ClientOptions = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    statement_timeout: options.statementTimeoutMs,
  });
  try {
    await client.connect();
  } catch (error) {
    // Even a failed connect leaves a socket to end.
    await client.end().catch(() => {});
    throw new Error(`cannot connect to ${redactUrl(url)}: ${errorMessage(error)}`);
  }
  return client;
}

/** `work` on a client of its own, ended afterwards whatever happens (an error ending it is not `work`'s). */
export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
  options: ClientOptions = {},
): Promise<T> {
  const client = await connectClient(url, options);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A bigint or count as pg returns it (a string), or a plain integer, read as a number. */
export const PgInteger = z.union([z.string().regex(/^-?[0-9]+$/), z.number().int()]).transform(Number);

/** The rows of a query, each checked against `row`. */
export async function rowsOf<T extends z.ZodType>(
  client: pg.Client,
  row: T,
  text: string,
  values: unknown[],
): Promise<z.output<T>[]> {
  return z.array(row).parse((await client.query(text, values)).rows);
}

// A database of a run's own (benchmarks, fault drills, the served tests) on a
// loopback PostgreSQL server, created empty and dropped (connections and all)
// at the end.
import { type ClientOptions, withClient } from "./pg-client.js";

/** `postgres://…/name` on the same server as `serverUrl`. */
export function databaseUrlOf(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Names are generated here (letters, digits, _), never taken from input, so they need no quoting. */
export async function createDatabase(
  serverUrl: string,
  name: string,
  options: ClientOptions = {},
): Promise<string> {
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`), options);
  return databaseUrlOf(serverUrl, name);
}

export async function dropDatabase(
  serverUrl: string,
  name: string,
  options: ClientOptions = {},
): Promise<void> {
  await withClient(
    serverUrl,
    (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    options,
  );
}
